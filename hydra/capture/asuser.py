"""Capturing for another user: when root captures a core that someone else's program left
(the crash collector, or `hydra snap` as root on a user's core), the files a capture reads
by the names the core and its DWARF give (sources, binaries, debug files) are read as that
user: any path can be named in DWARF (`#line 1 "/etc/shadow"`), and the snapshot goes to
people who could not read root's files.

The capture runs in a forked child that has dropped to the user's uid, gid and groups and
made itself undumpable (so that user cannot trace it and borrow what root opened); it gets
the core as an open descriptor and hands back the snapshot's bytes through a pipe. A file
the user could not read is left out, and the snapshot's warnings say so.
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat

from hydra.model.errors import BadInput
from hydra.model.record import record

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
MAX_RESULT_BYTES = 1 << 34
NOBODY = 65534
# a capture for another user that takes longer is stopped (HYDRA_CAPTURE_SECONDS: tests)
CAPTURE_SECONDS = int(os.environ.get("HYDRA_CAPTURE_SECONDS", "600") or 600)
# all the environment a capture for another user gets
CHILD_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HYDRA_DEBUG_CACHE": "0",
                     "HYDRA_NO_USER_FILES": "1"}


@record(frozen=True)
class User:
    uid: int
    gid: int
    groups: tuple[int, ...] = ()

    @classmethod
    def owning(cls, st: os.stat_result) -> User:
        """The owner of a file, with the group and groups the user database gives that user
        (never the file's group: a setgid folder gives any file its group)."""
        return cls.named(st.st_uid)

    @classmethod
    def named(cls, uid: int, gid: int | None = None) -> User:
        """A user by number; its primary group from the user database unless given, and the
        groups the database lists (no others when it does not know the user)."""
        import pwd

        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            gid = NOBODY if gid is None else gid
            return cls(uid, gid, (gid,))
        gid = entry.pw_gid if gid is None else gid
        try:
            groups = tuple(os.getgrouplist(entry.pw_name, gid))
        except OSError:
            groups = (gid,)
        return cls(uid, gid, groups)

    @classmethod
    def of_status(cls, status: str, uid: int | None = None, gid: int | None = None) -> User:
        """A process's user from /proc/PID/status: its real uid and gid (unless given: the
        kernel passes them for a crash) and its supplementary groups (none when unknown:
        fewer rights, never more)."""
        fields = {}
        for line in status.splitlines():
            key, _, value = line.partition(":")
            fields[key] = [int(v) for v in value.split() if v.isdigit()]
        if uid is None:
            uid = (fields.get("Uid") or [65534])[0]
        if gid is None:
            gid = (fields.get("Gid") or [65534])[0]
        return cls(uid, gid, tuple(fields.get("Groups") or ()) or (gid,))


def another_user(user: User | None) -> bool:
    """Whether capturing for `user` means reading files with rights root has and they lack."""
    return user is not None and os.geteuid() == 0 and user.uid != 0


def _drop(user: User) -> None:
    """Become user: no terminal, no environment and no privileges of root's left, and not
    traceable by that user (root opened the core this process reads)."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.environ.clear()
    os.environ.update(CHILD_ENVIRONMENT)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    os.setgroups(list(user.groups))
    os.setresgid(user.gid, user.gid, user.gid)
    os.setresuid(user.uid, user.uid, user.uid)
    # changing the uid resets `dumpable` to fs.suid_dumpable: undumpable again
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if os.getuid() != user.uid or os.geteuid() != user.uid or os.getegid() != user.gid:
        raise PermissionError("could not drop to the crashing user's rights")


def preload() -> None:
    """Import, before rights are dropped, every module a capture may import later: the
    interpreter's own library may lie where the user cannot read (a Python under /root)."""
    import contextlib  # noqa: F401
    import ctypes  # noqa: F401   (demangling loads the C++ runtime through it, when first needed)
    import decimal  # noqa: F401
    import io  # noqa: F401
    import json  # noqa: F401
    import lzma  # noqa: F401
    import shutil  # noqa: F401   (the debug cache copies with it, imported when first needed)
    import tempfile  # noqa: F401   (files are written through it, imported when first needed)
    import zlib  # noqa: F401

    import msgpack  # noqa: F401

    import hydra.capture.engine  # noqa: F401
    import hydra.live.proc  # noqa: F401
    import hydra.snapshot.format  # noqa: F401
    from hydra.analysis import aborts, api, evidence, faults, fingerprint, instruction, plugin_analyzers, \
        severity  # noqa: F401
    from hydra.symbols import debugcache, demangle, drgnsetup, dwarf, elfsymbols, scopecache  # noqa: F401

    from hydra.analysis import libcapstone

    libcapstone.load()
    fingerprint.default_rules()
    plugin_analyzers([])            # lists and imports the plug-ins, with root's reading rights


def run_as(user: User, work, keep_fds: tuple[int, ...] = (), timeout: int = CAPTURE_SECONDS) -> bytes:
    """work() in a child running with user's rights; its bytes, or its BadInput raised here.
    Descriptors other than keep_fds are closed in the child."""
    import msgpack

    preload()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:               # pragma: no cover - the child's outcome reaches the parent
        status = 0
        try:
            os.close(reader)
            keep = sorted({0, 1, 2, writer, *keep_fds})
            for low, high in zip([-1] + keep, keep + [os.sysconf("SC_OPEN_MAX")]):
                if high - low > 1:
                    os.closerange(low + 1, high)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(timeout)     # a FIFO named as a binary or debug link would block forever
            _drop(user)
            try:
                result = ["ok", work()]
            except BadInput as error:
                result = ["bad", error.path, error.reason]
            except MemoryError:
                result = ["error", "out of memory"]
            except Exception as error:
                result = ["error", f"{type(error).__name__}: {error}"]
            data = msgpack.packb(result, use_bin_type=True)
            view = memoryview(data)
            while view:
                view = view[os.write(writer, view):]
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(writer)
    chunks = []
    total = 0
    try:
        while True:
            chunk = os.read(reader, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_RESULT_BYTES:
                raise RuntimeError("the capture's result is too large")
            chunks.append(chunk)
    finally:
        os.close(reader)
        _pid, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGALRM:
            raise ChildDied(f"the capture as uid {user.uid} took more than {timeout} s (a file it opened "
                            f"may never answer, such as a FIFO)")
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        raise ChildDied(f"the capture as uid {user.uid} died of {name}")
    try:
        result = msgpack.unpackb(b"".join(chunks), raw=False)
    except Exception:
        raise ChildDied(f"the capture as uid {user.uid} ended without a result "
                        f"(exit status {os.waitstatus_to_exitcode(status)})") from None
    if result[0] == "bad":
        raise BadInput(result[1], result[2])
    if result[0] == "error":
        raise ChildDied(f"the capture as uid {user.uid} failed: {result[1]}")
    return result[1]


class ChildDied(RuntimeError):
    pass


def file_user(fd: int) -> User | None:
    """The user to capture a core for: its owner, when root reads a core that is not root's."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return None
    user = User.owning(st)
    return user if another_user(user) else None


def capture_for(user: User | None, path: str, options=None, fd: int | None = None):
    """capture_core, with user's rights when that means fewer than ours (see the module's
    docstring); the crash comes back through the snapshot encoding."""
    from hydra.capture.engine import capture_core

    if not another_user(user):
        return capture_core(path, options, fd)
    from hydra.model.record import replace

    from hydra.capture.options import CaptureOptions
    from hydra.snapshot.format import read_snapshot, snapshot_bytes

    # root's caches are root's: a capture for someone else neither reads nor fills them
    options = replace(options or CaptureOptions(), debug_cache=None, scope_cache=None, written=True)
    opened = fd is None
    if opened:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = run_as(user, lambda: snapshot_bytes(capture_core(path, options, fd)), keep_fds=(fd,))
    except ChildDied as error:
        raise BadInput(path, str(error)) from None
    finally:
        if opened:
            os.close(fd)
    crash = read_snapshot(path, data)
    crash.origin = "core"
    return crash


def capture_for_owner(path: str, options=None):
    """A core file captured for whoever owns it (see file_user)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        from hydra.capture.engine import capture_core

        return capture_core(path, options)      # which names the problem
    try:
        return capture_for(file_user(fd), path, options, fd)
    finally:
        os.close(fd)
