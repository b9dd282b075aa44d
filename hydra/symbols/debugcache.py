"""Debug files kept decompressed, one per build-id, in the user's cache directory.

Distributions ship separate debug files with compressed DWARF sections, and both readers
capture uses (drgn and libdw) inflate every section again each time they open one: for
glibc that is most of a small crash's capture time. A copy with the sections stored
plainly is read in place instead. The copy sits in the `.build-id/xx/rest.debug` layout,
so it is found as one more debug directory, ahead of the system's; a sidecar names the
file it was made from, which is what a snapshot records.

Entries are made from separate debug files (not binaries) that are compressed and not
larger than MAX_INFLATED once inflated: before drgn and libdw open them when they sit in a
debug directory's build-id layout (so even the first capture inflates them once, not three
times), and after the capture for the others it used (found by .gnu_debuglink).
`HYDRA_DEBUG_CACHE=0` or `debug_cache = false` in the config turns the cache off; deleting
the folder is always safe.
"""

from __future__ import annotations

import ctypes
import os

from hydra.config import cache_dir
from hydra.symbols.dwarf import ELF_C_READ_MMAP, libdw
from hydra.symbols.elffile import SHF_COMPRESSED
from hydra.model.files import atomic_output, remove_stale_temporaries

MAX_INFLATED = 512 << 20
SHF_ALLOC = 0x2
SHT_PROGBITS = 1
ELF_C_RDWR = 2
ELF_C_WRITE = 3
ELFCOMPRESS_NONE = 0
SOURCE_SUFFIX = ".source"


class _Shdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_uint32), ("type", ctypes.c_uint32), ("flags", ctypes.c_uint64),
                ("addr", ctypes.c_uint64), ("offset", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("link", ctypes.c_uint32), ("info", ctypes.c_uint32), ("addralign", ctypes.c_uint64),
                ("entsize", ctypes.c_uint64)]


class _Chdr(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("reserved", ctypes.c_uint32), ("size", ctypes.c_uint64),
                ("addralign", ctypes.c_uint64)]


def directory(config=None) -> str | None:
    """The cache folder, or None when the user turned the cache off (config: the loaded
    user config, read here when not given)."""
    if os.environ.get("HYDRA_DEBUG_CACHE", "").lower() in ("0", "off", "no", "false"):
        return None
    from hydra.config import load_config

    if cache_dir() is None or not (config or load_config()).debug_cache:
        return None
    return os.path.join(cache_dir(), "debug")


def original_path(path: str | None, root: str | None) -> str | None:
    """The debug file a cached copy was made from (the copy's own path if unknown)."""
    if not path or not root or not path.startswith(root + os.sep):
        return path
    try:
        with open(path + SOURCE_SUFFIX, encoding="utf-8") as handle:
            return handle.read().strip() or path
    except (OSError, UnicodeDecodeError):
        return path


def store(root: str, source: str, build_id: str) -> str | None:
    """Keep an inflated copy of source under root; its path, or None when there is
    nothing to gain (no compressed section, too large) or the copy cannot be made."""
    if len(build_id) < 4 or not all(c in "0123456789abcdef" for c in build_id):
        return None
    target = os.path.join(root, ".build-id", build_id[:2], build_id[2:] + ".debug")
    if os.path.realpath(source).startswith(root + os.sep):
        return None
    if os.path.exists(target) and os.path.exists(target + SOURCE_SUFFIX):
        return None
    lib = _libelf()
    if lib is None:
        return None
    try:
        inflated = _inflated_size(lib, source)
        if not inflated or inflated > MAX_INFLATED:
            return None
        os.makedirs(os.path.dirname(target), exist_ok=True)
        remove_stale_temporaries(os.path.dirname(target), ".hydra-debug-")
        # the sidecar first: a copy is never in place without the name of its original
        # (a copy found without one is made again)
        with atomic_output(target + SOURCE_SUFFIX, ".hydra-debug-") as handle:
            handle.write(os.path.abspath(source).encode("utf-8", "surrogateescape"))
        with atomic_output(target, ".hydra-debug-") as handle:
            import shutil       # only when a copy is made: most captures find theirs made

            with open(source, "rb") as original:
                shutil.copyfileobj(original, handle)
            handle.flush()
            if not _decompress_in_place(lib, handle.fileno()):
                raise OSError("libelf could not rewrite the file")
    except OSError:
        return None
    return target


def _inflated_size(lib, path: str) -> int:
    """Bytes the compressed sections take once inflated; 0 when none is compressed, or
    when the file is a binary rather than a separate debug file: rewriting moves its
    sections, and a binary is also read for its code."""
    fd = os.open(path, os.O_RDONLY)
    try:
        elf = lib.elf_begin(fd, ELF_C_READ_MMAP, None)
        if not elf:
            return 0
        try:
            total = 0
            for scn in _sections(lib, elf):
                shdr = _Shdr()
                if not lib.gelf_getshdr(scn, ctypes.byref(shdr)):
                    return 0
                if shdr.flags & SHF_ALLOC and shdr.type == SHT_PROGBITS and shdr.size:
                    return 0
                if shdr.flags & SHF_COMPRESSED:
                    chdr = _Chdr()
                    if not lib.gelf_getchdr(scn, ctypes.byref(chdr)):
                        return 0
                    total += chdr.size
            return total
        finally:
            lib.elf_end(elf)
    finally:
        os.close(fd)


def _decompress_in_place(lib, fd: int) -> bool:
    elf = lib.elf_begin(fd, ELF_C_RDWR, None)
    if not elf:
        return False
    try:
        for scn in _sections(lib, elf):
            shdr = _Shdr()
            if lib.gelf_getshdr(scn, ctypes.byref(shdr)) and shdr.flags & SHF_COMPRESSED:
                if lib.elf_compress(scn, ELFCOMPRESS_NONE, 0) < 0:
                    return False
        return lib.elf_update(elf, ELF_C_WRITE) >= 0
    finally:
        lib.elf_end(elf)


def _sections(lib, elf):
    scn = lib.elf_nextscn(elf, None)
    while scn:
        yield scn
        scn = lib.elf_nextscn(elf, scn)


_lib = None
_loaded = False


def _libelf():
    """libelf as loaded with libdw (drgn's bundled copy, else the system's); libdw()
    binds elf_begin and elf_end and sets the ELF version."""
    global _lib, _loaded
    if _loaded:
        return _lib
    _loaded = True
    lib = libdw()
    if lib is None:
        return None
    try:
        lib.elf_nextscn.restype = ctypes.c_void_p
        lib.elf_nextscn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.gelf_getshdr.restype = ctypes.c_void_p
        lib.gelf_getshdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Shdr)]
        lib.gelf_getchdr.restype = ctypes.c_void_p
        lib.gelf_getchdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Chdr)]
        lib.elf_compress.restype = ctypes.c_int
        lib.elf_compress.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint]
        lib.elf_update.restype = ctypes.c_int64
        lib.elf_update.argtypes = [ctypes.c_void_p, ctypes.c_int]
    except AttributeError:   # a libdw whose libelf symbols are not visible through it
        return None
    _lib = lib
    return lib
