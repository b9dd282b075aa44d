"""ELF core files: validation and the notes a core carries (threads, signal, files, auxv).

Everything is checked against the file's size before it is used, so a truncated or
hostile core gives a BadInput naming the problem rather than a traceback.
"""

from __future__ import annotations

import struct

from hydra.model.arch import ARCHITECTURES, Architecture, machine_name
from hydra.model.errors import BadInput
from hydra.model.files import map_input
from hydra.model.record import field, record

ET_CORE = 4
PT_LOAD = 1
PT_NOTE = 4

NT_PRSTATUS = 1
NT_PRFPREG = 2
NT_PRPSINFO = 3
NT_AUXV = 6
NT_SIGINFO = 0x53494749
NT_FILE = 0x46494C45
NT_X86_XSTATE = 0x202

AT_PHDR = 3
AT_ENTRY = 9
AT_BASE = 7
AT_SYSINFO_EHDR = 33
AT_EXECFN = 31
AT_RANDOM = 25

MAX_NOTES_BYTES = 256 << 20
ADDRESS_SPACE = 1 << 64
MAX_SEGMENT = 1 << 57          # the largest user address space (5-level paging)


@record
class CoreThread:
    tid: int
    signal: int
    registers: dict[str, int]
    fp_registers: dict[str, int] = field(default_factory=dict)


@record
class Segment:
    vaddr: int
    memsz: int
    offset: int
    filesz: int
    flags: int

    @property
    def perms(self) -> str:
        return ("r" if self.flags & 4 else "-") + ("w" if self.flags & 2 else "-") + (
            "x" if self.flags & 1 else "-"
        )


@record
class FileMapping:
    start: int
    end: int
    offset: int
    path: str


@record
class CoreInfo:
    path: str
    size: int
    arch: Architecture
    threads: list[CoreThread]
    segments: list[Segment]
    files: list[FileMapping]
    auxv: dict[int, int]
    pid: int | None = None
    uid: int | None = None
    gid: int | None = None
    fname: str | None = None
    psargs: str | None = None
    state: str | None = None
    siginfo: tuple[int, int, int, int] | None = None   # signo, errno, code, addr
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def executable(self) -> str | None:
        """The main executable's path: the file mapped at AT_PHDR's page, else by name."""
        phdr = self.auxv.get(AT_PHDR)
        if phdr is not None:
            for mapping in self.files:
                if mapping.start <= phdr < mapping.end:
                    return mapping.path
        if self.files:
            return self.files[0].path
        return None


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def read_core(path: str, fd: int | None = None) -> CoreInfo:
    data, size = map_input(path, "a core file", fd)
    try:
        return _parse(path, data, size)
    finally:
        data.close()


def _parse(path: str, data, size: int) -> CoreInfo:
    if size < 64 or data[:4] != b"\x7fELF":
        raise BadInput(path, "not an ELF core file")
    if data[4] != 2 or data[5] != 1:
        raise BadInput(path, "not a 64-bit little-endian ELF core; Hydra reads x86-64 and aarch64 cores")
    (e_type, e_machine) = struct.unpack_from("<HH", data, 16)
    if e_type != ET_CORE:
        kind = {1: "a relocatable object", 2: "an executable", 3: "a shared object"}.get(e_type, "an ELF file")
        raise BadInput(path, f"is {kind}, not a core file")
    arch = ARCHITECTURES.get(e_machine)
    if arch is None:
        raise BadInput(path, f"core is for {machine_name(e_machine)}; Hydra captures x86-64 and aarch64 cores")
    e_phoff, = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    if e_phentsize != 56 or e_phnum == 0 or e_phoff + e_phnum * 56 > size:
        raise BadInput(path, "truncated or corrupt core: program headers lie outside the file")

    segments: list[Segment] = []
    notes: list[tuple[int, int]] = []
    warnings: list[str] = []
    for index in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", data, e_phoff + index * 56
        )
        if p_type == PT_NOTE:
            if p_offset + p_filesz > size or p_filesz > MAX_NOTES_BYTES:
                raise BadInput(path, "truncated core: the notes (threads, registers, signal) are cut off")
            notes.append((p_offset, p_filesz))
        elif p_type == PT_LOAD:
            if p_memsz > MAX_SEGMENT or p_vaddr + p_memsz > ADDRESS_SPACE or p_filesz > p_memsz:
                # no mapping of a user process is this large: a corrupt or hostile header
                warnings.append(f"{path}: the segment at 0x{p_vaddr:x} claims 0x{p_memsz:x} bytes; "
                                f"cut to the 0x{min(p_filesz, MAX_SEGMENT):x} it holds")
                p_memsz = p_filesz = min(p_filesz, MAX_SEGMENT, max(0, ADDRESS_SPACE - p_vaddr))
            segments.append(Segment(p_vaddr, p_memsz, p_offset, p_filesz, p_flags))
    if not notes:
        raise BadInput(path, "corrupt core: it has no notes (no threads or registers)")
    expected = max((s.offset + s.filesz for s in segments if s.filesz), default=0)
    if expected > size:
        warnings.append(
            f"{path}: core is truncated ({size} of {expected} bytes); memory past the end is missing"
        )

    info = CoreInfo(path=path, size=size, arch=arch, threads=[], segments=segments, files=[],
                    auxv={}, warnings=warnings, truncated=expected > size)
    for offset, length in notes:
        _parse_notes(info, data, offset, length)
    if not info.threads:
        raise BadInput(path, "corrupt core: no thread status notes")
    return info


def _parse_notes(info: CoreInfo, data, offset: int, length: int) -> None:
    end = offset + length
    cursor = offset
    last_thread: CoreThread | None = None
    while cursor + 12 <= end:
        namesz, descsz, note_type = struct.unpack_from("<III", data, cursor)
        name_start = cursor + 12
        desc_start = name_start + ((namesz + 3) & ~3)
        desc_end = desc_start + descsz
        if desc_end > end:
            info.warnings.append(f"{info.path}: a core note runs past its segment; later notes ignored")
            return
        name = bytes(data[name_start : name_start + namesz]).rstrip(b"\0")
        desc = bytes(data[desc_start:desc_end])
        cursor = desc_start + ((descsz + 3) & ~3)
        if name == b"CORE":
            if note_type == NT_PRSTATUS:
                last_thread = _prstatus(info, desc)
            elif note_type == NT_PRFPREG and last_thread is not None:
                last_thread.fp_registers = _fpregs(info.arch, desc)
            elif note_type == NT_PRPSINFO:
                _prpsinfo(info, desc)
            elif note_type == NT_SIGINFO and len(desc) >= 24 and info.siginfo is None:
                signo, errno, code = struct.unpack_from("<iii", desc, 0)
                addr, = struct.unpack_from("<Q", desc, 16)
                info.siginfo = (signo, errno, code, addr)
            elif note_type == NT_AUXV:
                for index in range(len(desc) // 16):
                    key, value = struct.unpack_from("<QQ", desc, index * 16)
                    if key == 0:
                        break
                    info.auxv[key] = value
            elif note_type == NT_FILE:
                info.files = _nt_file(desc)


def _prstatus(info: CoreInfo, desc: bytes) -> CoreThread | None:
    count = len(info.arch.gp_registers)
    if len(desc) < 112 + count * 8:
        info.warnings.append(f"{info.path}: a thread status note is too short; thread skipped")
        return None
    cursig, = struct.unpack_from("<H", desc, 12)
    pid, = struct.unpack_from("<i", desc, 32)
    values = struct.unpack_from(f"<{count}Q", desc, 112)
    thread = CoreThread(tid=pid, signal=cursig, registers=dict(zip(info.arch.gp_registers, values)))
    info.threads.append(thread)
    return thread


def _fpregs(arch: Architecture, desc: bytes) -> dict[str, int]:
    registers: dict[str, int] = {}
    if arch.name == "x86_64" and len(desc) >= 512:
        registers["mxcsr"], = struct.unpack_from("<I", desc, 24)
        for index in range(16):
            low, high = struct.unpack_from("<QQ", desc, 160 + index * 16)
            registers[f"xmm{index}"] = low | (high << 64)
    elif arch.name == "aarch64" and len(desc) >= 32 * 16 + 8:
        for index in range(32):
            low, high = struct.unpack_from("<QQ", desc, index * 16)
            registers[f"v{index}"] = low | (high << 64)
        registers["fpsr"], registers["fpcr"] = struct.unpack_from("<II", desc, 512)
    return registers


def _prpsinfo(info: CoreInfo, desc: bytes) -> None:
    if len(desc) < 136:
        return
    info.state = chr(desc[1]) if 32 < desc[1] < 127 else None
    info.uid, info.gid, info.pid = struct.unpack_from("<IIi", desc, 16)
    info.fname = _cstr(desc[40:56])
    info.psargs = _cstr(desc[56:136]).strip()


def _nt_file(desc: bytes) -> list[FileMapping]:
    if len(desc) < 16:
        return []
    count, _page_size = struct.unpack_from("<QQ", desc, 0)
    if 16 + count * 24 > len(desc):
        return []
    names = desc[16 + count * 24 :].split(b"\0")
    files = []
    for index in range(count):
        start, end, page_offset = struct.unpack_from("<QQQ", desc, 16 + index * 24)
        name = names[index].decode("utf-8", "replace") if index < len(names) else "?"
        files.append(FileMapping(start, end, page_offset * _page_size, name))
    return files
