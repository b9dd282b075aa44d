"""Work for a forked copy of the capture: the second core on processes with many threads.

drgn holds the interpreter lock while it unwinds and decoding values is Python, so threads
in one process take turns. A forked copy shares everything capture has loaded so far (the
core, the debug info, drgn's caches) for free; it does its part and sends back messages,
which this process takes while it does its own part. When the copy fails, stalls or cannot
be made, the caller does that part itself: slower, never different.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import time
from collections.abc import Callable

from hydra.workers import send_frame, take_frames

MIN_THREADS = 64       # below this a fork and a hand-over cost more than they save
_FRAME = struct.Struct("<Q?")      # before each message: its length, and whether it is the last
_PIPE_BYTES = 1 << 20  # the default pipe-max-size, which any user may ask for
_exiting: list[int] = []     # copies whose bytes arrived, not yet reaped


class Helper:
    def __init__(self, pid: int, fd: int):
        self.pid = pid
        self.fd = fd
        self._received = bytearray()
        self._ended = False          # the copy closed its end of the pipe
        self._last: bytes | None = None      # the copy's last message, once whole
        self._after_last = False             # a message came after it

    def arrived(self) -> list[bytes]:
        """The messages the copy has sent so far, but its last, taken without waiting: the
        caller works on them while the copy goes on."""
        self._read()
        return self._messages()

    def result(self, timeout: float) -> list[bytes] | None:
        """The messages not yet taken, the last being what the copy's work returned; None
        when the copy failed, cut its messages short or did not finish within timeout
        (whatever arrived before is then no answer either). The copy's exit, which first
        unmaps all it had (tens of milliseconds for a large capture), is not waited for;
        it is reaped later."""
        deadline = time.monotonic() + timeout
        waiting = select.poll()        # not select(): a descriptor past 1023 is fine
        waiting.register(self.fd, select.POLLIN)
        try:
            while not self._ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not waiting.poll(remaining * 1000):
                    self._stop()
                    return None
                self._read()
        except OSError:
            self._stop()
            return None
        finally:
            os.close(self.fd)
            self.fd = -1
        messages = self._messages()
        if self._last is None or self._after_last or self._received:     # cut short, or more after the last
            self._stop()
            return None
        _exiting.append(self.pid)
        reap_exited()
        return messages + [self._last]

    def stop(self) -> None:
        """End the copy without its answer (the caller gave up on it)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self._stop()

    def _stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap(self.pid)

    def _read(self) -> None:
        try:
            while not self._ended:
                chunk = os.read(self.fd, 1 << 20)
                self._received += chunk
                self._ended = not chunk
        except BlockingIOError:
            pass            # nothing more for now
        except OSError:
            self._ended = True

    def _messages(self) -> list[bytes]:
        """The whole messages received and not yet taken; the copy's last is kept apart."""
        messages = []
        for (last,), message in take_frames(self._received, _FRAME):
            if self._last is not None:
                self._after_last = True       # no answer (result)
            elif last:
                self._last = message
            else:
                messages.append(message)
        return messages


def start(work: Callable[[Callable[[bytes], None]], bytes]) -> Helper | None:
    """Run work(send) in a forked copy of this process; None when no copy can be made.
    send(message) hands a message over at once (Helper.arrived), and what work returns is
    the last message (Helper.result)."""
    if not hasattr(os, "fork"):
        return None
    reap_exited()
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    try:
        # room for what the copy sends while this process is busy, so that it goes on
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:
        pass       # beyond the system's limit for this user: the copy waits for reads
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
            last = work(lambda message: send_frame(write_fd, _FRAME, message, False))
            send_frame(write_fd, _FRAME, last, True)
            os.close(write_fd)       # the parent has it all now, before this process unmaps its memory
            status = 0
        except BaseException:    # noqa: BLE001 - the parent notices and does the work itself
            pass
        finally:
            os._exit(status)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
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
