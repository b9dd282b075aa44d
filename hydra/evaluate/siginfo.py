"""`$_siginfo`: the signal's siginfo_t, with the type gdb gives it on Linux (linux-tdep.c),
built from what the snapshot knows of the signal (number, errno, code, fault address)."""

from __future__ import annotations

from hydra.evaluate.errors import EvalError
from hydra.evaluate.values import Value
from hydra.model.types import Kind, Member, Type

SIGINFO_SIZE = 128


def _type(session) -> int:
    key = ("siginfo",)
    if key in session._base:
        return session._base[key]
    int_ = session.base("int")
    uint = session.base("unsigned int")
    long_ = session.base("long")
    short = session.base("short")
    void_p = session.pointer_to(session.base("void"))
    add = session.table.add

    def struct(members, size, kind=Kind.STRUCT, name=None):
        return add(Type(kind, name, size, members=[Member(n, t, o) for n, t, o in members]))

    pid = add(Type(Kind.TYPEDEF, "__pid_t", 4, int_))
    uid = add(Type(Kind.TYPEDEF, "__uid_t", 4, uint))
    clock = add(Type(Kind.TYPEDEF, "__clock_t", 8, long_))
    sigval = add(Type(Kind.TYPEDEF, "sigval_t", 8, struct([("sival_int", int_, 0), ("sival_ptr", void_p, 0)], 8,
                                                            Kind.UNION)))
    pad = add(Type(Kind.ARRAY, None, 112, int_, length=28))
    fields = struct([
        ("_pad", pad, 0),
        ("_kill", struct([("si_pid", pid, 0), ("si_uid", uid, 4)], 8), 0),
        ("_timer", struct([("si_tid", int_, 0), ("si_overrun", int_, 4), ("si_sigval", sigval, 8)], 16), 0),
        ("_rt", struct([("si_pid", pid, 0), ("si_uid", uid, 4), ("si_sigval", sigval, 8)], 16), 0),
        ("_sigchld", struct([("si_pid", pid, 0), ("si_uid", uid, 4), ("si_status", int_, 8),
                             ("si_utime", clock, 16), ("si_stime", clock, 24)], 32), 0),
        ("_sigfault", struct([("si_addr", void_p, 0), ("_addr_lsb", short, 8),
                              ("_addr_bnd", struct([("_lower", void_p, 0), ("_upper", void_p, 8)], 16), 16)], 32), 0),
        ("_sigpoll", struct([("si_band", long_, 0), ("si_fd", int_, 8)], 16), 0),
        ("_sigsys", struct([("_call_addr", void_p, 0), ("_syscall", int_, 8), ("_arch", uint, 12)], 16), 0),
    ], 112, Kind.UNION)
    siginfo = struct([("si_signo", int_, 0), ("si_errno", int_, 4), ("si_code", int_, 8), ("_sifields", fields, 16)],
                     SIGINFO_SIZE, name="siginfo")
    session._base[key] = siginfo
    return siginfo


def siginfo_value(session) -> Value:
    signal = session.crash.signal
    if signal is None:
        raise EvalError("Unable to read siginfo")
    data = bytearray(SIGINFO_SIZE)
    data[0:4] = (signal.number & 0xFFFFFFFF).to_bytes(4, "little")
    data[8:12] = ((signal.code or 0) & 0xFFFFFFFF).to_bytes(4, "little")
    if signal.address is not None:
        data[16:24] = (signal.address & ((1 << 64) - 1)).to_bytes(8, "little")
    return Value(_type(session), data=bytes(data))
