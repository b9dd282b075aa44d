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


class Helper:
    def __init__(self, pid: int, fd: int):
        self.pid = pid
        self.fd = fd

    def result(self, timeout: float) -> bytes | None:
        """The copy's bytes, or None when it failed or did not finish within timeout."""
        deadline = time.monotonic() + timeout
        chunks = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                    os.kill(self.pid, signal.SIGKILL)
                    return None
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            return None
        finally:
            os.close(self.fd)
            status = _reap(self.pid)
        return b"".join(chunks) if status == 0 else None


def start(work: Callable[[], bytes]) -> Helper | None:
    """Run work in a forked copy of this process; None when no copy can be made."""
    if not hasattr(os, "fork"):
        return None
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
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
            status = 0
        except BaseException:    # noqa: BLE001 - the parent notices and does the work itself
            pass
        finally:
            os._exit(status)
    os.close(write_fd)
    return Helper(pid, read_fd)


def _reap(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status)
