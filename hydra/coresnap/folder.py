"""Folders that root writes into on behalf of other users, held open by descriptor.

The crash collector runs as root on data a user controls. Every folder it uses is opened
once, component by component from `/`, without following links, and checked: owned by
root or by Hydra's own user and writable by nobody else (a sticky folder such as /tmp may
be passed through, never used). Files inside are then opened relative to the folder's
descriptor (`dir_fd=`) with `O_NOFOLLOW`, and new ones with `O_EXCL`: no path is walked
again after the check, so a link or folder planted meanwhile is never followed.
"""

from __future__ import annotations

import os
import shutil
import stat

FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
MAX_NAME = 255


class UnsafeFolder(OSError):
    """A folder (or a file in one) that someone other than its owner could change."""


def trusted_owners() -> tuple[int, ...]:
    return (0, os.geteuid())


def _check_folder(st: os.stat_result, shown: str, final: bool) -> None:
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeFolder(f"{shown} is not a folder")
    if st.st_uid not in trusted_owners():
        raise UnsafeFolder(f"{shown} is owned by uid {st.st_uid}, not by root or this user")
    writable_by_others = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if writable_by_others and (final or not st.st_mode & stat.S_ISVTX):
        raise UnsafeFolder(f"{shown} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})")


def check_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\0" in name or len(name.encode()) > MAX_NAME:
        raise UnsafeFolder(f"not a plain file name: {name!r}")
    return name


class SafeFolder:
    """A checked folder, open by descriptor; `path` is for messages only."""

    def __init__(self, fd: int, path: str):
        self.fd = fd
        self.path = path

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str, create: bool = False) -> SafeFolder:
        """The folder at the absolute `path`, each component opened without following a
        link and checked; missing ones are made (0700) when `create`."""
        path = os.path.abspath(path)
        fd = os.open("/", FOLDER_FLAGS)
        shown = "/"
        try:
            _check_folder(os.fstat(fd), shown, final=path == "/")
            parts = [part for part in path.split("/") if part]
            for position, part in enumerate(parts):
                final = position == len(parts) - 1
                shown = os.path.join(shown, part)
                child = cls._open_child(fd, part, shown, create, final)
                os.close(fd)
                fd = child
            return cls(fd, path)
        except BaseException:
            os.close(fd)
            raise

    @staticmethod
    def _open_child(parent: int, name: str, shown: str, create: bool, final: bool) -> int:
        try:
            fd = os.open(name, FOLDER_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            try:
                os.mkdir(name, 0o700, dir_fd=parent)
            except FileExistsError:
                pass
            fd = os.open(name, FOLDER_FLAGS, dir_fd=parent)
        except OSError as error:
            if error.errno in (40, 20):       # ELOOP, ENOTDIR: a link or a file where a folder should be
                raise UnsafeFolder(f"{shown} is a symbolic link or not a folder") from None
            raise
        try:
            _check_folder(os.fstat(fd), shown, final)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def folder(self, name: str, create: bool = True) -> SafeFolder:
        check_name(name)
        shown = os.path.join(self.path, name)
        return SafeFolder(self._open_child(self.fd, name, shown, create, final=True), shown)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> SafeFolder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except OSError:
            pass

    # ------------------------------------------------------------ files

    def child_path(self, name: str) -> str:
        return os.path.join(self.path, name)

    def create(self, name: str, mode: int = 0o600) -> int:
        """A new file, never one that exists (nor a link): its descriptor, open for writing."""
        return os.open(check_name(name), NEW_FILE_FLAGS, mode, dir_fd=self.fd)

    def open_read(self, name: str) -> int:
        """An existing regular file of a trusted owner, for reading."""
        fd = os.open(check_name(name), READ_FLAGS, dir_fd=self.fd)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid not in trusted_owners():
                raise UnsafeFolder(f"{self.child_path(name)} is not a regular file of root or this user")
            os.set_blocking(fd, True)
            return fd
        except BaseException:
            os.close(fd)
            raise

    def read(self, name: str, limit: int = 16 << 20) -> bytes:
        fd = self.open_read(name)
        with os.fdopen(fd, "rb") as handle:
            return handle.read(limit)

    def append(self, name: str, data: bytes, mode: int = 0o600) -> None:
        """Add to a file (a log) made by us: never through a link, nor to a file with other names."""
        fd = os.open(check_name(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                     | os.O_NONBLOCK, mode, dir_fd=self.fd)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid not in trusted_owners() or st.st_nlink != 1:
                raise UnsafeFolder(f"{self.child_path(name)} is not a regular file of its own")
            os.write(fd, data)
        finally:
            os.close(fd)

    def write_atomic(self, name: str, data: bytes | None = None, fill=None, mode: int = 0o600) -> int:
        """`name` replaced by a complete new file (0600 from the start): `data`, or what
        `fill(handle)` writes. A failure leaves no partial file. Returns the size."""
        check_name(name)
        temporary = f".{name[:200]}.{os.getpid()}.tmp"
        fd = os.open(temporary, NEW_FILE_FLAGS, mode, dir_fd=self.fd)
        try:
            with os.fdopen(fd, "wb") as handle:
                if data is not None:
                    handle.write(data)
                if fill is not None:
                    fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
                size = handle.tell()
            os.replace(temporary, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            return size
        except BaseException:
            self.remove(temporary)
            raise

    def exists(self, name: str) -> bool:
        try:
            os.stat(check_name(name), dir_fd=self.fd, follow_symlinks=False)
            return True
        except FileNotFoundError:
            return False

    def size(self, name: str) -> int:
        return os.stat(check_name(name), dir_fd=self.fd, follow_symlinks=False).st_size

    def remove(self, name: str) -> bool:
        try:
            os.unlink(check_name(name), dir_fd=self.fd)
            return True
        except FileNotFoundError:
            return False

    def remove_tree(self, name: str) -> None:
        check_name(name)
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(name, dir_fd=self.fd)     # descriptor-based: follows no link
        else:
            os.unlink(name, dir_fd=self.fd)

    def names(self) -> list[str]:
        return sorted(os.listdir(self.fd))

    def free_percent(self) -> float:
        st = os.fstatvfs(self.fd)
        return 100.0 * st.f_bavail / st.f_blocks if st.f_blocks else 0.0


def open_trusted_file(path: str) -> int:
    """A descriptor of the file at path, which must be the administrator's: in folders that
    pass SafeFolder's checks, not a link, owned by root or this user, and writable by nobody
    else (a config, a rules file, a program root runs)."""
    path = os.path.abspath(path)
    with SafeFolder.open(os.path.dirname(path)) as folder:
        fd = folder.open_read(os.path.basename(path))
    if os.fstat(fd).st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        os.close(fd)
        raise UnsafeFolder(f"{path} is writable by group or others")
    return fd


def read_trusted_file(path: str, limit: int = 1 << 20) -> bytes:
    with os.fdopen(open_trusted_file(path), "rb") as handle:
        return handle.read(limit)
