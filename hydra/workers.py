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

# a worker's message: its payload's size, its kind, and two numbers (an item, or a range)
_FRAME = struct.Struct("<IBqq")
_CLAIMED, _ANSWER, _RAISED = 0, 1, 2
_DEFERRED = (signal.SIGINT, signal.SIGTERM)     # held back while a worker is being forked


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
    """The process given an item ended before it answered (killed, or crashed in native
    code); or none was left to read it."""

    def __init__(self, item, how: str, unread: bool = False):
        super().__init__("not read: no worker process was left to read it" if unread
                         else f"the worker process reading it {how}")
        self.item = item
        self.how = how


def in_workers(function: Callable, items: list, jobs: int | None = None, chunk: int = 1,
               lost: Callable[[WorkerDied], object] | None = None) -> Iterator:
    """function(item) for each item, in forked worker processes (one per core by default),
    the results in the items' order, each as soon as it and those before it are in.

    Each worker takes chunk items at a time until none are left. An exception function
    raises is raised here, at its item. When a worker dies, the item it was reading goes
    to lost(WorkerDied) for its result (without lost, WorkerDied is raised there), and a
    new worker reads the items it had taken but not begun, then goes on. Where no worker
    can be forked, this process reads the items itself."""
    if not items:
        return
    count = max(1, min(len(items), jobs or os.cpu_count() or 1))
    claims = Claims(len(items))
    workers: dict[int, _Worker] = {}
    try:
        for _ in range(count):
            _fork(function, items, claims, chunk, [], workers)
        if not workers:
            yield from _here(function, items, claims)
            return
        poller = select.poll()
        for fd in workers:
            poller.register(fd, select.POLLIN)
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
                    results.setdefault(index, (False, WorkerDied(items[index], "", unread=True)))
                continue
            for fd, _ in poller.poll():
                worker = workers[fd]
                if worker.receive(results):
                    continue
                poller.unregister(fd)
                how = worker.end()          # interrupted here, it is still stopped below
                del workers[fd]
                unanswered = worker.unanswered()
                if unanswered:       # taken in order and answered in order: the first was being read
                    results[unanswered[0]] = (False, WorkerDied(items[unanswered[0]], how))
                    unanswered = unanswered[1:]
                replacement = None
                if (unanswered or claims.left()) and replaced < len(items):
                    replaced += 1
                    replacement = _fork(function, items, claims, chunk, unanswered, workers)
                if replacement is not None:
                    poller.register(replacement.fd, select.POLLIN)
                else:
                    for index in unanswered:
                        results[index] = (False, WorkerDied(items[index], how, unread=True))
        for fd in list(workers):        # all answered: each is ending by itself
            workers[fd].end()
            del workers[fd]
    finally:
        for worker in workers.values():        # an error here, or the caller stopped early
            worker.stop()
        claims.close()


def _here(function: Callable, items: list, claims: Claims) -> Iterator:
    """Every item read in this process, as a worker would."""
    while taken := claims.take(len(items)):
        for index in taken:
            yield function(items[index])


class _Worker:
    """The parent's end of one forked worker: a pipe of messages (_FRAME)."""

    def __init__(self, pid: int, fd: int):
        self.pid = pid
        self.fd = fd
        self.pending = bytearray()
        self.claimed: list[int] = []
        self.answered: set[int] = set()
        self.closed = False
        self.ended: str | None = None

    def receive(self, results: dict) -> bool:
        """Read what the worker has sent; False once it closed its end."""
        data = os.read(self.fd, 1 << 20)
        if not data:
            return False
        self.pending += data
        for (kind, first, second), payload in take_frames(self.pending, _FRAME):
            if kind == _CLAIMED:
                self.claimed.extend(range(first, second))
                continue
            self.answered.add(first)
            try:
                value = pickle.loads(payload)
            except Exception as error:       # a value that pickles may not unpickle (its own __init__)
                results[first] = (False, RuntimeError(f"cannot hand the result back: {type(error).__name__}: {error}"))
            else:
                results[first] = (kind == _ANSWER, value)
        return True

    def unanswered(self) -> list[int]:
        return [index for index in self.claimed if index not in self.answered]

    def end(self) -> str:
        """Wait for the worker to exit; how it ended, in words (asked again, the same)."""
        if self.ended is None:
            if not self.closed:
                self.closed = True
                os.close(self.fd)
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                self.ended = "vanished"
                return self.ended
            if os.WIFSIGNALED(status):
                number = os.WTERMSIG(status)
                try:
                    name = signal.Signals(number).name
                except ValueError:
                    name = f"signal {number}"
                self.ended = f"was killed by {name}"
            else:
                self.ended = f"exited with status {os.waitstatus_to_exitcode(status)}"
        return self.ended

    def stop(self) -> None:
        """After an error or an interruption here: the worker is not waited for."""
        if self.ended is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.end()


def _fork(function: Callable, items: list, claims: Claims, chunk: int, first: list[int],
          workers: dict[int, _Worker]) -> _Worker | None:
    """A worker, put in workers, that reads the items first, then takes more from claims;
    None when no process can be made. Ctrl-C waits until the worker is in its loop and in
    workers here (so that it is stopped with them)."""
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid:
        os.close(write_fd)
        worker = workers[read_fd] = _Worker(pid, read_fd)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return worker
    status = 1       # the worker: never returns into the caller's frames
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        for fd in workers:      # the other workers' pipes: their ends must close when they do
            os.close(fd)
        for index in first:      # announced before any is read, like a claim
            _send(write_fd, _CLAIMED, index, index + 1)
        taken: range | list[int] = first
        while True:
            for index in taken:
                try:
                    kind, value = _ANSWER, function(items[index])
                except Exception as error:      # raised again in the parent, at its item
                    kind, value = _RAISED, error
                _send(write_fd, kind, index, 0, value)
            taken = claims.take(chunk)
            if not taken:
                break
            _send(write_fd, _CLAIMED, taken.start, taken.stop)
        status = 0
    except BaseException:    # noqa: BLE001 - interrupted: the parent sees the items unanswered
        pass
    finally:
        os._exit(status)


def _send(fd: int, kind: int, first: int, second: int, value=None) -> None:
    payload = b""
    if kind != _CLAIMED:
        try:
            payload = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            kind, payload = _RAISED, pickle.dumps(RuntimeError(f"cannot hand the result back: "
                                                               f"{type(error).__name__}: {error}"))
    send_frame(fd, _FRAME, payload, kind, first, second)


def send_frame(fd: int, frame: struct.Struct, payload: bytes, *fields) -> None:
    """payload through fd after its header: frame's fields, the payload's size first."""
    view = memoryview(frame.pack(len(payload), *fields) + payload)
    while view:
        view = view[os.write(fd, view):]


def take_frames(pending: bytearray, frame: struct.Struct) -> list[tuple[tuple, bytes]]:
    """The whole frames (send_frame's) at the start of pending, taken out of it: each its
    header's other fields and its payload."""
    frames = []
    offset = 0
    while len(pending) - offset >= frame.size:
        size, *fields = frame.unpack_from(pending, offset)
        end = offset + frame.size + size
        if len(pending) < end:
            break
        frames.append((tuple(fields), bytes(pending[offset + frame.size:end])))
        offset = end
    del pending[:offset]
    return frames
