"""Just enough of an ELF file on disk: loadable segments (for code bytes), the build-id and
section headers."""

from __future__ import annotations

import functools
import os
import struct
from _thread import allocate_lock     # threading's Lock, without importing threading
from collections import OrderedDict

from hydra.model.files import open_regular
from hydra.model.record import record

PT_LOAD = 1
PT_NOTE = 4
NT_GNU_BUILD_ID = 3
SHF_COMPRESSED = 0x800
OPEN_FILES = 32      # capture reads code bytes a few at a time, from a few binaries


@record(frozen=True)
class ElfImage:
    path: str
    machine: int
    segments: tuple[tuple[int, int, int], ...]   # (vaddr, filesz, file offset)
    build_id: str | None
    flags: tuple[int, ...] = ()                  # each segment's p_flags (1 X, 2 W, 4 R)

    def read(self, vaddr: int, size: int) -> bytes | None:
        """Bytes at a link-time address, as far as the file holds them."""
        for start, filesz, offset in self.segments:
            if start <= vaddr < start + filesz:
                take = min(size, start + filesz - vaddr)
                return read_file(self.path, offset + vaddr - start, take)
        return None


class _OpenFiles:
    """The most recently read files, kept open: opening one for each read of a few bytes
    cost a small capture 10 ms."""

    def __init__(self, limit: int):
        self.limit = limit
        self.descriptors: OrderedDict[str, int] = OrderedDict()
        self.lock = allocate_lock()

    def read(self, path: str, offset: int, size: int) -> bytes:
        with self.lock:
            fd = self.descriptors.get(path)
            if fd is None:
                fd = open_regular(path)
                self.descriptors[path] = fd
                if len(self.descriptors) > self.limit:
                    os.close(self.descriptors.popitem(last=False)[1])
            else:
                self.descriptors.move_to_end(path)
            return os.pread(fd, size, offset)


_open_files = _OpenFiles(OPEN_FILES)


def read_file(path: str, offset: int, size: int) -> bytes | None:
    """size bytes of a regular file at offset (fewer at its end), or None."""
    try:
        return _open_files.read(path, offset, size)
    except (OSError, ValueError, OverflowError):
        return None


def _elf64_header(handle) -> bytes | None:
    """The ELF header of a 64-bit little-endian file (the layouts read here), or None."""
    header = handle.read(64)
    if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        return None
    return header


@functools.lru_cache(maxsize=512)
def open_image(path: str) -> ElfImage | None:
    try:
        with os.fdopen(open_regular(path), "rb") as handle:
            header = _elf64_header(handle)
            if header is None:
                return None
            machine, = struct.unpack_from("<H", header, 18)
            phoff, = struct.unpack_from("<Q", header, 32)
            phentsize, phnum = struct.unpack_from("<HH", header, 54)
            if phentsize != 56 or phnum > 4096:
                return None
            handle.seek(phoff)
            table = handle.read(phnum * 56)
            if len(table) < phnum * 56:
                return None
            segments = []
            flags = []
            build_id = None
            for index in range(phnum):
                p_type, p_flags, offset, vaddr, _paddr, filesz, _memsz, _align = struct.unpack_from(
                    "<IIQQQQQQ", table, index * 56)
                if p_type == PT_LOAD:
                    segments.append((vaddr, filesz, offset))
                    flags.append(p_flags)
                elif p_type == PT_NOTE and build_id is None and filesz <= 1 << 20:
                    handle.seek(offset)
                    build_id = _build_id(handle.read(filesz))
            return ElfImage(path, machine, tuple(segments), build_id, tuple(flags))
    except (OSError, ValueError, OverflowError):     # hostile offsets: not an image we can use
        return None


@record(frozen=True)
class SectionHeader:
    offset: int
    size: int
    flags: int
    address: int = 0            # where it is loaded, before the module's bias (0: not loaded)
    kind: int = 0               # sh_type (2: SHT_SYMTAB, 11: SHT_DYNSYM)
    link: int = 0               # sh_link: a symbol table's string table, by index
    info: int = 0               # sh_info: a symbol table's count of local symbols


@record(frozen=True)
class SectionTable:
    offset: int                 # of the section headers in the file
    size: int
    sections: dict[str, SectionHeader]
    file_type: int              # e_type: 1 relocatable, 2 executable, 3 shared object, 4 core
    by_index: tuple[SectionHeader, ...] = ()


def section_table(path: str) -> SectionTable | None:
    """The section headers of a 64-bit little-endian ELF file, by name, or None."""
    try:
        with os.fdopen(open_regular(path), "rb") as handle:
            header = _elf64_header(handle)
            if header is None:
                return None
            file_type, = struct.unpack_from("<H", header, 16)
            shoff, = struct.unpack_from("<Q", header, 40)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", header, 58)
            if shentsize != 64 or shnum > 65535 or shstrndx >= shnum:
                return None
            handle.seek(shoff)
            table = handle.read(shnum * 64)
            if len(table) < shnum * 64:
                return None
            sections = [struct.unpack_from("<IIQQQQIIQQ", table, index * 64) for index in range(shnum)]
            names = sections[shstrndx]
            if names[5] > 1 << 24:
                return None
            handle.seek(names[4])
            strings = handle.read(names[5])
            found = {}
            by_index = []
            for sh_name, kind, flags, address, offset, size, link, info, *_rest in sections:
                header = SectionHeader(offset, size, flags, address, kind, link, info)
                by_index.append(header)
                end = strings.find(b"\0", sh_name)
                if sh_name < len(strings):
                    name = strings[sh_name:end if end >= 0 else None].decode("utf-8", "replace")
                    found.setdefault(name, header)
            return SectionTable(shoff, shnum * 64, found, file_type, tuple(by_index))
    except (OSError, ValueError, OverflowError, struct.error):
        return None


def section_header(path: str, name: str) -> SectionHeader | None:
    """A section's place in a 64-bit little-endian ELF file, or None."""
    table = section_table(path)
    return table.sections.get(name) if table is not None else None


def _build_id(notes: bytes) -> str | None:
    cursor = 0
    while cursor + 12 <= len(notes):
        namesz, descsz, note_type = struct.unpack_from("<III", notes, cursor)
        name_start = cursor + 12
        desc_start = name_start + ((namesz + 3) & ~3)
        if desc_start + descsz > len(notes):
            return None
        if note_type == NT_GNU_BUILD_ID and notes[name_start : name_start + namesz].rstrip(b"\0") == b"GNU":
            return notes[desc_start : desc_start + descsz].hex()
        cursor = desc_start + ((descsz + 3) & ~3)
    return None
