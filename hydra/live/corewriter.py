"""An ELF core of a stopped process, written the way the kernel writes one, so the capture
engine reads a live process exactly as it reads a crash.

Only what a snapshot may need is copied while the process is stopped: writable and anonymous
mappings, page by page as /proc/PID/pagemap says they are present (untouched stack and heap
pages are holes in a sparse file). Read-only file mappings are left to the files themselves,
as the capture engine reads code from the binaries.
"""

from __future__ import annotations

import os
import re
import struct

from hydra.model.record import record

NT_PRSTATUS, NT_FPREGSET, NT_PRPSINFO, NT_AUXV, NT_FILE = 1, 2, 3, 6, 0x46494C45
PAGE = os.sysconf("SC_PAGE_SIZE")
PRESENT, SWAPPED, FILE_PAGE = 1 << 63, 1 << 62, 1 << 61
COPY_CHUNK = 1 << 20
MAX_SEGMENTS = 0xFFFE
SKIPPED = ("[vvar]", "[vsyscall]", "[vvar_vclock]")


@record
class Mapping:
    start: int
    end: int
    perms: str
    offset: int
    path: str | None
    written: bool = False        # a file mapping with pages the process changed

    @property
    def copied(self) -> int:
        """How many of this mapping's bytes the core holds: all of writable and anonymous
        memory; the first page of a file mapped from its start (the ELF headers that name
        the module and its build-id, as the kernel's coredump_filter does); else none, the
        file holds them."""
        if self.path in SKIPPED or self.perms.startswith("---") or "r" not in self.perms:
            return 0
        file_backed = self.path is not None and self.path.startswith("/")
        if "w" in self.perms or not file_backed or self.written:
            return self.end - self.start
        return PAGE if self.offset == 0 else 0

    @property
    def flags(self) -> int:
        return (4 if "r" in self.perms else 0) | (2 if "w" in self.perms else 0) | (1 if "x" in self.perms else 0)


def read_maps(pid: int) -> list[Mapping]:
    mappings = []
    with open(f"/proc/{pid}/maps") as handle:
        for line in handle:
            parts = line.split(None, 5)
            if len(parts) < 5:
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5].strip() if len(parts) > 5 else None
            mappings.append(Mapping(start, end, parts[1], int(parts[2], 16), path or None))
    return mappings


def _note(name: bytes, kind: int, desc: bytes) -> bytes:
    name += b"\0"
    pad = lambda data: data + b"\0" * (-len(data) % 4)   # noqa: E731
    return struct.pack("<III", len(name), len(desc), kind) + pad(name) + pad(desc)


def _prstatus(tid: int, ppid: int, registers: bytes) -> bytes:
    head = struct.pack("<iiiHxxQQiiii", 0, 0, 0, 0, 0, 0, tid, ppid, 0, 0) + bytes(64)
    return head + registers + struct.pack("<ixxxx", 1)


def _prpsinfo(pid: int, ppid: int, uid: int, gid: int, name: str, args: str) -> bytes:
    return (struct.pack("<ccccxxxxQIIiiii", b"R", b"R", b"\0", b"\0", 0, uid, gid, pid, ppid, 0, 0)
            + name.encode()[:15].ljust(16, b"\0") + args.encode()[:79].ljust(80, b"\0"))


def _nt_file(mappings: list[Mapping]) -> bytes:
    files = [m for m in mappings if m.path and m.path.startswith("/")]
    head = struct.pack("<QQ", len(files), PAGE)
    table = b"".join(struct.pack("<QQQ", m.start, m.end, m.offset // PAGE) for m in files)
    return head + table + b"".join(m.path.encode() + b"\0" for m in files)


# pagemap entries are 64-bit; their flags sit in the top byte: 0x80 present, 0x40 swapped,
# 0x20 a file page. Tables turn each top byte into 1 or 0, so whole mappings are sifted in C.
_IN_MEMORY = bytes(1 if b & 0xC0 else 0 for b in range(256))
_PRIVATE = bytes(1 if (b & 0x80 and not b & 0x20) or b & 0x40 else 0 for b in range(256))
_RUN = re.compile(b"\x01+")


def _flags(pagemap, mapping: Mapping, table: bytes) -> bytes | None:
    pages = (mapping.end - mapping.start) // PAGE
    try:
        pagemap.seek(mapping.start // PAGE * 8)
        raw = pagemap.read(pages * 8)
    except OSError:
        return None
    if len(raw) < pages * 8:
        return None
    return raw[7::8].translate(table)


def has_private_pages(pagemap, mapping: Mapping) -> bool:
    """Whether a file mapping holds pages the process wrote (copy-on-write: RELRO's .got and
    .dynamic, patched code), which the file does not have. The kernel dumps such mappings."""
    flags = _flags(pagemap, mapping, _PRIVATE)
    return bool(flags) and b"\x01" in flags


def present_runs(pagemap, mapping: Mapping) -> list[tuple[int, int]]:
    """(start, end) runs of pages of a mapping that are in memory or swapped out."""
    flags = _flags(pagemap, mapping, _IN_MEMORY)
    if flags is None:
        return [(mapping.start, mapping.end)]
    return [(mapping.start + m.start() * PAGE, mapping.start + m.end() * PAGE) for m in _RUN.finditer(flags)]


def write_core(core, pid: int, threads: list[tuple[int, bytes, bytes | None]], mappings: list[Mapping],
               process: dict) -> int:
    """The core of a stopped process into `core` (a path, or a binary file open for writing);
    threads are (tid, user_regs_struct, user_fpregs_struct). Returns the bytes of memory copied."""
    # e_phnum is 16 bits; beyond that the kernel uses PN_XNUM, which we spare ourselves by
    # leaving out the rarest mappings a snapshot needs: read-only file mappings
    if len(mappings) > MAX_SEGMENTS:
        mappings = [m for m in mappings if m.copied or not (m.path or "").startswith("/")][:MAX_SEGMENTS]
    notes = bytearray()
    ppid = int(process.get("ppid") or 0)
    for tid, registers, fpregs in threads:
        notes += _note(b"CORE", NT_PRSTATUS, _prstatus(tid, ppid, registers))
        if fpregs is not None:
            notes += _note(b"CORE", NT_FPREGSET, fpregs)
    notes += _note(b"CORE", NT_PRPSINFO, _prpsinfo(pid, ppid, int(process.get("uid") or 0),
                                                 int(process.get("gid") or 0), process.get("name") or "",
                                                 process.get("args") or ""))
    try:
        with open(f"/proc/{pid}/auxv", "rb") as handle:
            notes += _note(b"CORE", NT_AUXV, handle.read())
    except OSError:
        pass
    notes += _note(b"CORE", NT_FILE, _nt_file(mappings))

    with open(f"/proc/{pid}/pagemap", "rb", buffering=0) as pagemap:
        for mapping in mappings:
            if mapping.path and mapping.path.startswith("/") and mapping.copied < mapping.end - mapping.start \
                    and "r" in mapping.perms and has_private_pages(pagemap, mapping):
                mapping.written = True
    count = len(mappings) + 1
    offset = 64 + 56 * count
    headers = [struct.pack("<IIQQQQQQ", 4, 0, offset, 0, 0, len(notes), 0, 1)]     # PT_NOTE
    data_start = (offset + len(notes) + PAGE - 1) // PAGE * PAGE
    cursor = data_start
    placed = []
    for mapping in mappings:
        size = mapping.end - mapping.start
        filesz = mapping.copied
        headers.append(struct.pack("<IIQQQQQQ", 1, mapping.flags, cursor, mapping.start, 0, filesz, size, PAGE))
        placed.append((mapping, cursor))
        cursor += filesz
    elf = (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
           + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, count, 0, 0, 0))
    copied = 0
    import contextlib

    with (open(core, "wb") if isinstance(core, str) else contextlib.nullcontext(core)) as core, \
            open(f"/proc/{pid}/mem", "rb", buffering=0) as memory, \
            open(f"/proc/{pid}/pagemap", "rb", buffering=0) as pagemap:
        core.write(elf + b"".join(headers))
        core.write(bytes(notes))
        for mapping, file_offset in placed:
            if not mapping.copied:
                continue
            part = Mapping(mapping.start, mapping.start + mapping.copied, mapping.perms, mapping.offset, mapping.path)
            file_backed = bool(mapping.path and mapping.path.startswith("/"))
            # a file mapping's pages that are not in memory are still the file's: read them too
            runs = [(part.start, part.end)] if file_backed else present_runs(pagemap, part)
            for start, end in runs:
                at = start
                while at < end:
                    take = min(COPY_CHUNK, end - at)
                    try:
                        memory.seek(at)
                        chunk = memory.read(take)
                    except OSError:
                        chunk = b""
                    if chunk:
                        core.seek(file_offset + at - mapping.start)
                        core.write(chunk)
                        copied += len(chunk)
                    at += take
        core.truncate(cursor)      # the file's length covers every segment, holes and all
        core.flush()
    return copied
