"""Work for a forked copy of the capture: the second core on processes with many threads.

drgn holds the interpreter lock while it unwinds and decoding values is Python, so threads
in one process take turns. A forked copy shares everything capture has loaded so far (the
core, the debug info, drgn's caches) for free; it does its part and sends back bytes. When
the copy fails, stalls or cannot be made, the caller does that part itself: slower, never
different.
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Callable

MIN_THREADS = 64       # below this a fork and a hand-over cost more than they save
_LENGTH = 8            # bytes of the length the copy's bytes start with
_exiting: list[int] = []     # copies whose bytes arrived, not yet reaped


class Helper:
    def __init__(self, pid: int, fd: int):
        self.pid = pid
        self.fd = fd

    def result(self, timeout: float) -> bytes | None:
        """The copy's bytes, or None when it failed or did not finish within timeout.
        They are complete when the length they start with says so: the copy's exit, which
        first unmaps all it had (tens of milliseconds for a large capture), is not waited
        for; it is reaped later."""
        deadline = time.monotonic() + timeout
        chunks = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                    os.kill(self.pid, signal.SIGKILL)
                    _reap(self.pid)
                    return None
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            os.kill(self.pid, signal.SIGKILL)
            _reap(self.pid)
            return None
        finally:
            os.close(self.fd)
        data = b"".join(chunks)
        if len(data) < _LENGTH or int.from_bytes(data[:_LENGTH], "little") != len(data) - _LENGTH:
            _reap(self.pid)
            return None
        _exiting.append(self.pid)
        reap_exited()
        return data[_LENGTH:]


def start(work: Callable[[], bytes]) -> Helper | None:
    """Run work in a forked copy of this process; None when no copy can be made."""
    if not hasattr(os, "fork"):
        return None
    reap_exited()
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:         # the copy: never returns into the caller's frames
        status = 1
        try:
            os.close(read_fd)
            data = work()
            os.write(write_fd, len(data).to_bytes(_LENGTH, "little"))      # fits a pipe's buffer
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
            os.close(write_fd)       # the parent has it all now, before this process unmaps its memory
            status = 0
        except BaseException:    # noqa: BLE001 - the parent notices and does the work itself
            pass
        finally:
            os._exit(status)
    os.close(write_fd)
    return Helper(pid, read_fd)


def reap_exited() -> None:
    """Reap the copies that sent their bytes and have exited since."""
    for pid in list(_exiting):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _exiting.remove(pid)


def _reap(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status)
