"""Forked worker processes for many files at once (`bt A B C…`, `index`), and the shared
claims they take their items from.

Forked, not spawned: a worker starts with what this process has imported and set, and
nothing is started that this process does not need (concurrent.futures and
multiprocessing take about 17 ms to import, as long as a batch of twenty small dumps takes
to read).
"""

from __future__ import annotations

import fcntl
import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Iterator

_FRAME = struct.Struct("<Q")


class Claims:
    """Items 0 to count - 1 shared between processes forked after it was made: each takes a
    few at a time, from the front or (for a second side working towards the first) from
    the back, until none are left. A faster process does more, so all finish about
    together whatever else each has to do.

    The two ends live in a file only these processes see (a memfd); a record lock on it,
    which the system releases if its holder dies, makes each take whole."""

    def __init__(self, count: int):
        try:
            self._fd = os.memfd_create("hydra-claims", os.MFD_CLOEXEC)
        except (AttributeError, OSError):
            import tempfile

            handle = tempfile.TemporaryFile()
            self._fd = os.dup(handle.fileno())
            handle.close()
        os.pwrite(self._fd, struct.pack("<qq", 0, count), 0)

    def take(self, size: int, from_back: bool = False) -> range:
        """The next items for this process, at most size of them; empty once none are left."""
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            front, back = struct.unpack("<qq", os.pread(self._fd, 16, 0))
            if front >= back:
                return range(0)
            if from_back:
                taken = range(max(front, back - size), back)
                os.pwrite(self._fd, struct.pack("<q", taken.start), 8)
            else:
                taken = range(front, min(back, front + size))
                os.pwrite(self._fd, struct.pack("<q", taken.stop), 0)
            return taken
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def left(self) -> int:
        """How many items no process has taken yet."""
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            front, back = struct.unpack("<qq", os.pread(self._fd, 16, 0))
            return max(0, back - front)
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


class WorkerDied(Exception):
    """The process given an item ended before it answered (killed, or crashed in native code)."""

    def __init__(self, item, how: str):
        super().__init__(f"the worker process reading it {how}")
        self.item = item
        self.how = how


def in_workers(function: Callable, items: list, jobs: int | None = None, chunk: int = 1,
               lost: Callable[[WorkerDied], object] | None = None) -> Iterator:
    """function(item) for each item, in forked worker processes (one per core by default),
    the results in the items' order, each as soon as it and those before it are in.

    Each worker takes chunk items at a time until none are left. An exception function
    raises is raised here, at its item. For an item whose worker died, lost(WorkerDied)
    gives the result (without lost, WorkerDied is raised); another worker takes its place."""
    if not items:
        return
    count = max(1, min(len(items), jobs or os.cpu_count() or 1))
    claims = Claims(len(items))
    workers: dict[int, _Worker] = {}
    try:
        for _ in range(count):
            worker = _fork(function, items, claims, chunk)
            workers[worker.fd] = worker
        results: dict[int, tuple[bool, object]] = {}
        following = 0
        replaced = 0
        while following < len(items):
            while following in results:
                done, value = results.pop(following)
                following += 1
                if not done:
                    if isinstance(value, WorkerDied) and lost is not None:
                        value = lost(value)
                    else:
                        raise value        # type: ignore[misc]
                yield value
            if following >= len(items):
                break
            if not workers:       # each ended early, none could take its place
                for index in range(following, len(items)):
                    results.setdefault(index, (False, WorkerDied(items[index], "ended before reading it")))
                continue
            for fd in select.select(list(workers), [], [])[0]:
                worker = workers[fd]
                if not worker.receive(results):
                    del workers[fd]
                    how = worker.end()
                    for index in worker.unanswered():
                        results[index] = (False, WorkerDied(items[index], how))
                    if how != "exited with status 0" and claims.left() and replaced < len(items):
                        replaced += 1
                        replacement = _fork(function, items, claims, chunk)     # the rest go on
                        workers[replacement.fd] = replacement
        for worker in workers.values():     # all answered: each is ending by itself
            worker.end()
        workers.clear()
    finally:
        for worker in workers.values():     # an error here, or the caller stopped early
            worker.stop()
        claims.close()


class _Worker:
    """The parent's end of one forked worker: a pipe of frames, each a pickled
    ("claimed", range) or (index, done, value)."""

    def __init__(self, pid: int, fd: int):
        self.pid = pid
        self.fd = fd
        self.pending = bytearray()
        self.claimed: list[int] = []
        self.answered: set[int] = set()

    def receive(self, results: dict) -> bool:
        """Read what the worker has sent; False once it closed its end."""
        data = os.read(self.fd, 1 << 20)
        if not data:
            return False
        self.pending += data
        while len(self.pending) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(self.pending)
            if len(self.pending) < _FRAME.size + size:
                break
            message = pickle.loads(self.pending[_FRAME.size:_FRAME.size + size])
            del self.pending[:_FRAME.size + size]
            if message[0] == "claimed":
                self.claimed.extend(message[1])
            else:
                index, done, value = message
                self.answered.add(index)
                results[index] = (done, value)
        return True

    def unanswered(self) -> list[int]:
        return [index for index in self.claimed if index not in self.answered]

    def end(self) -> str:
        """Wait for the worker to exit; how it ended, in words."""
        os.close(self.fd)
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return "vanished"
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            return f"was killed by {name}"
        return f"exited with status {os.waitstatus_to_exitcode(status)}"

    def stop(self) -> None:
        """After an error or an interruption here: the worker is not waited for."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.end()


def _fork(function: Callable, items: list, claims: Claims, chunk: int) -> _Worker:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return _Worker(pid, read_fd)
    status = 1       # the worker: never returns into the caller's frames
    try:
        os.close(read_fd)
        while taken := claims.take(chunk):
            _send(write_fd, ("claimed", taken))
            for index in taken:
                try:
                    answer = (index, True, function(items[index]))
                except Exception as error:      # raised again in the parent, at its item
                    answer = (index, False, error)
                _send(write_fd, answer)
        status = 0
    except BaseException:    # noqa: BLE001 - interrupted: the parent sees the items unanswered
        pass
    finally:
        os._exit(status)


def _send(fd: int, message) -> None:
    try:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        if message[0] != "claimed" and not message[1]:
            pickle.loads(data)      # an exception that pickles may not unpickle (its own __init__)
    except Exception as error:
        data = pickle.dumps((message[0], False, RuntimeError(f"cannot hand the result back: "
                                                            f"{type(error).__name__}: {error}")))
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]
