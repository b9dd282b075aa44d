"""Opening an input file for reading, with one clear BadInput for every way that fails."""

from __future__ import annotations

import marshal
import mmap
import os
import stat


def map_input(path: str, what: str, fd: int | None = None) -> tuple[mmap.mmap, int]:
    """The file mapped read-only, and its size. `what` names the expected kind in errors;
    `fd`, when given, is the file already open (path then only names it)."""
    from hydra.model.errors import BadInput

    if fd is not None:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
                raise BadInput(path, f"empty file, not {what}" if stat.S_ISREG(st.st_mode) else f"not {what}")
            return mmap.mmap(fd, 0, access=mmap.ACCESS_READ), st.st_size
        except (OSError, ValueError) as error:
            raise BadInput(path, f"cannot read: {getattr(error, 'strerror', None) or error}") from None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInput(path, "no such file") from None
    except OSError as error:
        raise BadInput(path, f"cannot read: {error.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BadInput(path, f"is a directory, not {what}")
    if st.st_size == 0:
        raise BadInput(path, f"empty file, not {what}")
    try:
        with open(path, "rb") as handle:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ), st.st_size
    except PermissionError:
        raise BadInput(path, "permission denied") from None
    except (OSError, ValueError) as error:
        raise BadInput(path, f"cannot read: {getattr(error, 'strerror', None) or error}") from None


class NotRegular(OSError):
    """A path that names a FIFO, a device or a folder where a file was expected."""


def open_regular(path: str, private: bool = False) -> int:
    """A descriptor of the regular file at path, for reading. A FIFO or a device named by a
    dump (a source path, a debug link) is refused rather than waited on: it is opened
    without blocking, checked, and only then made blocking. With private (a cache, see
    below), a link is not followed, and a file someone else may have written is NotPrivate."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_NOFOLLOW if private else 0))
    try:
        info = os.fstat(fd)
        if private and not (stat.S_ISREG(info.st_mode) and _private(info)):
            raise NotPrivate(f"{path}: a cache file someone else may have written")
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(f"{path}: not a regular file")
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


class NotPrivate(PermissionError):
    """A cache file, or a folder above it, that someone else may have written."""


# Hydra's caches (`.sym` files, TOML tables, the analyzer plug-ins) are read with marshal,
# which trusts its input as Python trusts the __pycache__ folders it reads with it. So a
# cache is read only when no one else can have written it: a regular file of this user's
# that no one else may write, in folders, from its own up to the cache folder, that no one
# else may write either (else another user could put any of this user's files in its place).
def _private(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _folders_up_to(folder: str, root: str):
    """folder and those above it up to root (only folder itself when it is not under root)."""
    folder, root = os.path.abspath(folder), os.path.abspath(root)
    while True:
        yield folder
        parent = os.path.dirname(folder)
        if folder == root or parent == folder or not folder.startswith(root.rstrip("/") + "/"):
            return
        folder = parent


def _check_folder(folder: str) -> None:
    info = os.stat(folder)
    if not (stat.S_ISDIR(info.st_mode) and _private(info)):
        raise NotPrivate(f"{folder}: a cache folder someone else may write")


def open_private(path: str, root: str) -> int:
    """A descriptor of the cache file at path for reading, when it and its folders up to
    root are private (see above); else NotPrivate, or the OSError of opening it. It is
    opened without following a link or waiting on a FIFO."""
    for folder in _folders_up_to(os.path.dirname(os.path.abspath(path)), root):
        _check_folder(folder)
    return open_regular(path, private=True)


MARSHAL_VERSION = 4          # the format marshal writes since Python 3.4


# what reading a damaged cache may raise (MemoryError: a length that asks for more than there is)
CACHE_ERRORS = (OSError, ValueError, EOFError, TypeError, KeyError, IndexError, MemoryError)


def read_cache(path: str, root: str):
    """The value marshalled in the cache file at path, or None when it is missing, not
    private (see above) or damaged. Callers check its shape."""
    try:
        fd = open_private(path, root)
        with os.fdopen(fd, "rb") as handle:
            return marshal.loads(handle.read())
    except CACHE_ERRORS:
        return None


def write_cache(path: str, root: str, value) -> None:
    """value marshalled into the cache file at path, which takes its place whole; nothing
    when its folders cannot be made private or written."""
    try:
        data = marshal.dumps(value, MARSHAL_VERSION)
        make_private_folders(os.path.dirname(os.path.abspath(path)), root)
        with atomic_output(path, ".cache-") as handle:
            handle.write(data)
    except (OSError, ValueError):
        pass


def make_private_folders(folder: str, root: str) -> None:
    """folder made (with the folders above it up to root) for a cache to be written in;
    NotPrivate when one of them is someone else's. This user's own that others may write
    (made under a umask of 002) are closed to them."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for current in _folders_up_to(folder, root):
        info = os.stat(current)
        if info.st_uid == os.geteuid() and info.st_mode & 0o022:
            os.chmod(current, stat.S_IMODE(info.st_mode) & ~0o022)
        _check_folder(current)


def data_bytes(fd: int) -> int:
    """How many bytes of an open file hold data, holes left out (SEEK_DATA/SEEK_HOLE): a
    measure of a sparse file that does not depend on how its filesystem counts blocks."""
    size = os.fstat(fd).st_size
    total = position = 0
    while position < size:
        try:
            start = os.lseek(fd, position, os.SEEK_DATA)
        except OSError:          # ENXIO: only a hole is left
            break
        end = os.lseek(fd, start, os.SEEK_HOLE)
        total += end - start
        position = end
    return total


class atomic_output:  # noqa: N801  (used as a function: `with atomic_output(path, prefix) as handle`)
    """A new file beside path that takes its place once the block ends, flushed to disk;
    removed if the block fails, so readers never see half a file. A class, not a
    contextlib generator: contextlib's import cost every `bt` a quarter of a millisecond."""

    def __init__(self, path: str, prefix: str, mode: int = 0o644):
        self.path, self.prefix, self.mode = path, prefix, mode

    def __enter__(self):
        import tempfile     # here: most commands read and never write (tempfile costs 2 ms to import)

        directory = os.path.dirname(os.path.abspath(self.path))
        fd, self.temporary = tempfile.mkstemp(prefix=self.prefix, dir=directory)
        try:
            self.handle = os.fdopen(fd, "w+b")
        except BaseException:
            os.close(fd)
            self._remove()
            raise
        return self.handle

    def __exit__(self, kind, error, trace) -> None:
        try:
            with self.handle:
                if kind is None:
                    self.handle.flush()
                    os.fsync(self.handle.fileno())
            if kind is None:
                os.chmod(self.temporary, self.mode)
                os.replace(self.temporary, self.path)
                return
        except BaseException:
            self._remove()
            raise
        self._remove()

    def _remove(self) -> None:
        try:
            os.unlink(self.temporary)
        except OSError:
            pass


def remove_stale_temporaries(folder: str, prefix: str, age: float = 3600.0) -> None:
    """Delete atomic_output's leftovers in folder: files with prefix untouched for `age`
    seconds, which a process killed while writing left behind (one writing now is younger)."""
    import time

    try:
        names = [name for name in os.listdir(folder) if name.startswith(prefix)]
    except OSError:
        return
    cutoff = time.time() - age
    for name in names:
        path = os.path.join(folder, name)
        try:
            if os.lstat(path).st_mtime < cutoff:
                os.unlink(path)
        except OSError:
            continue
