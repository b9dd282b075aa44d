"""Stopping every thread of a running process for a moment, and letting it go again.

PTRACE_SEIZE with PTRACE_O_TRACECLONE, then PTRACE_INTERRUPT: the threads stop without a
signal being queued, threads created meanwhile are attached by the kernel, and detaching
leaves no trace in the process (no SIGSTOP to undo, unlike PTRACE_ATTACH).
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import struct

PTRACE_GETREGS = 12
PTRACE_GETFPREGS = 14
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_O_TRACECLONE = 0x8
PTRACE_EVENT_STOP = 128
WALL = 0x40000000
USER_REGS_SIZE = 27 * 8
FPREGS_SIZE = 512

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_libc.waitpid.restype = ctypes.c_int
_libc.waitpid.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int]


class PtraceError(OSError):
    pass


def _ptrace(request: int, tid: int, address: int = 0, data: int | ctypes.Array | None = 0) -> int:
    if isinstance(data, ctypes.Array):
        pointer = ctypes.cast(data, ctypes.c_void_p)
    else:
        pointer = ctypes.c_void_p(data or 0)
    ctypes.set_errno(0)
    result = _libc.ptrace(request, tid, ctypes.c_void_p(address), pointer)
    if result == -1 and ctypes.get_errno():
        code = ctypes.get_errno()
        raise PtraceError(code, os.strerror(code))
    return result


def task_ids(pid: int) -> list[int]:
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return []


class Stopped:
    """Every thread of pid, stopped; use as a context manager so they always run again."""

    def __init__(self, pid: int):
        self.pid = pid
        self.tids: list[int] = []
        self.signals: dict[int, int] = {}

    def __enter__(self) -> Stopped:
        try:
            self._stop_all()
        except BaseException:
            self.resume()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.resume()

    def _stop_all(self) -> None:
        seized: set[int] = set()
        # threads may start while we attach: repeat until the task list holds no stranger
        for _round in range(64):
            strangers = [t for t in task_ids(self.pid) if t not in seized]
            if not strangers:
                break
            for tid in strangers:
                try:
                    _ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACECLONE)
                except PtraceError as error:
                    if error.errno == errno.ESRCH:
                        continue          # the thread ended meanwhile
                    raise
                seized.add(tid)
                self.tids.append(tid)
                try:
                    _ptrace(PTRACE_INTERRUPT, tid)
                except PtraceError as error:
                    if error.errno != errno.ESRCH:
                        raise
                    self.tids.remove(tid)       # it ended between the two calls
        if not self.tids:
            raise PtraceError(errno.ESRCH, os.strerror(errno.ESRCH))
        self._wait_stopped(list(self.tids))
        # threads cloned meanwhile were attached by the kernel (TRACECLONE); wait for their stop
        for _round in range(64):
            newborn = [t for t in task_ids(self.pid) if t not in self.tids]
            if not newborn:
                break
            self.tids += newborn
            self._wait_stopped(newborn)
        if not self.tids:
            raise PtraceError(errno.ESRCH, os.strerror(errno.ESRCH))

    def _wait_stopped(self, tids: list[int]) -> None:
        for tid in tids:
            status = ctypes.c_int()
            while True:
                waited = _libc.waitpid(tid, ctypes.byref(status), WALL)
                if waited == -1 and ctypes.get_errno() == errno.EINTR:
                    continue
                break
            if waited == -1 or os.WIFEXITED(status.value) or os.WIFSIGNALED(status.value):
                self.tids.remove(tid)       # it ended: nothing to read, nothing to resume
                continue
            value = status.value
            if os.WIFSTOPPED(value) and (value >> 16) != PTRACE_EVENT_STOP and os.WSTOPSIG(value) != signal.SIGTRAP:
                # a signal was on its way to the thread: it is handed back when we detach
                self.signals[tid] = os.WSTOPSIG(value)

    def registers(self, tid: int) -> tuple[bytes, bytes | None]:
        """(user_regs_struct, user_fpregs_struct) of a stopped thread, as a core stores them."""
        regs = (ctypes.c_char * USER_REGS_SIZE)()
        _ptrace(PTRACE_GETREGS, tid, 0, regs)
        fpregs = (ctypes.c_char * FPREGS_SIZE)()
        try:
            _ptrace(PTRACE_GETFPREGS, tid, 0, fpregs)
            fp: bytes | None = bytes(fpregs)
        except PtraceError:
            fp = None
        return bytes(regs), fp

    def resume(self) -> None:
        for tid in self.tids:
            try:
                _ptrace(PTRACE_DETACH, tid, 0, self.signals.pop(tid, 0))
            except PtraceError:
                pass                       # gone already: nothing to resume
        self.tids = []


def register_values(raw: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(raw) // 8}Q", raw)
