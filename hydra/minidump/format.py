"""The minidump container: header, stream directory and every stream the reference tools read.

Every size and count is checked against the file before anything is read or allocated
from it. A stream that does not parse becomes a warning naming it; the rest still shows.
"""

from __future__ import annotations

import struct

from hydra.model.errors import BadInput
from hydra.model.files import map_input
from hydra.model.record import field, record

SIGNATURE = b"MDMP"
HEADER_SIZE = 32

STREAM_NAMES = {
    0: "Unused", 3: "ThreadList", 4: "ModuleList", 5: "MemoryList", 6: "Exception",
    7: "SystemInfo", 8: "ThreadExList", 9: "Memory64List", 10: "CommentA", 11: "CommentW",
    12: "HandleData", 13: "FunctionTable", 14: "UnloadedModuleList", 15: "MiscInfo",
    16: "MemoryInfoList", 17: "ThreadInfoList", 18: "HandleOperationList", 19: "Token",
    20: "JavaScriptData", 21: "SystemMemoryInfo", 22: "ProcessVmCounters", 23: "IptTrace",
    24: "ThreadNames",
    0x47670001: "BreakpadInfo", 0x47670002: "AssertionInfo", 0x47670003: "LinuxCpuInfo",
    0x47670004: "LinuxProcStatus", 0x47670005: "LinuxLsbRelease", 0x47670006: "LinuxCmdLine",
    0x47670007: "LinuxEnviron", 0x47670008: "LinuxAuxv", 0x47670009: "LinuxMaps",
    0x4767000A: "LinuxDsoDebug", 0x43500001: "CrashpadInfo", 0x4B6B0002: "StabilityReport",
    0x4D7A0001: "MozMacosCrashInfo", 0x4D7A0002: "MozMacosBootargs", 0x4D7A0003: "MozLinuxLimits",
    0x4D7A0004: "MozSoftErrors",
}
STREAM_IDS = {name: number for number, name in STREAM_NAMES.items()}

# Streams whose text is shown as it is (Linux /proc files copied by Breakpad).
TEXT_STREAMS = ("LinuxCpuInfo", "LinuxProcStatus", "LinuxLsbRelease", "LinuxMaps")
MAX_LIST = 1 << 20          # no stream lists more entries than this
MAX_THREADS = 4096          # as Breakpad: more threads than this are not read
MAX_MODULES = 16_384        # entries may share one long name: the count bounds the memory
MAX_HANDLES = 65_536
MAX_MAPPINGS = 65_536       # Linux's default vm.max_map_count: no process has more
MAX_ANNOTATIONS = 10_000    # Crashpad annotations decoded, their text in all, and entries
MAX_ANNOTATION_BYTES = 8 << 20      # looked at (some may be skipped)
MAX_ANNOTATION_ENTRIES = 100_000


@record
class Location:
    size: int
    rva: int


@record
class RawThread:
    tid: int
    suspend_count: int
    priority_class: int
    priority: int
    teb: int
    stack_start: int
    stack: Location
    context: Location


@record
class RawModule:
    base: int
    size: int
    checksum: int
    timestamp: int
    name: str
    version: str | None = None
    debug_file: str | None = None
    debug_id: str | None = None
    code_id: str | None = None
    build_id: str | None = None


@record
class MemoryInfo:
    base: int
    allocation_base: int
    allocation_protect: int
    size: int
    state: int
    protect: int
    type: int


@record
class ExceptionRecord:
    tid: int
    code: int
    flags: int
    address: int
    parameters: list[int]
    context: Location | None


@record
class SystemInfo:
    architecture: int
    level: int = 0
    revision: int = 0
    cpu_count: int = 0
    product_type: int = 0
    major: int = 0
    minor: int = 0
    build: int = 0
    platform: int = 0
    csd: str = ""
    vendor: str = ""
    cpu_info: str = ""


@record
class CrashpadAnnotation:
    module: str | None
    name: str
    value: str


@record
class Dump:
    """What a minidump holds, decoded but not interpreted."""

    path: str
    size: int
    time: int = 0
    flags: int = 0
    streams: list[tuple[str, int, int]] = field(default_factory=list)    # (name, type, size)
    unknown_streams: list[str] = field(default_factory=list)
    threads: list[RawThread] = field(default_factory=list)
    thread_names: dict[int, str] = field(default_factory=dict)
    modules: list[RawModule] = field(default_factory=list)
    unloaded_modules: list[RawModule] = field(default_factory=list)
    memory: list[tuple[int, int, int]] = field(default_factory=list)    # (address, size, file offset)
    memory_info: list[MemoryInfo] = field(default_factory=list)
    exception: ExceptionRecord | None = None
    system: SystemInfo | None = None
    pid: int | None = None
    process_create_time: int | None = None
    process_user_time: int | None = None
    process_kernel_time: int | None = None
    dump_tid: int | None = None
    requesting_tid: int | None = None
    assertion: dict[str, str] | None = None
    crashpad: dict[str, str] = field(default_factory=dict)
    annotations: list[CrashpadAnnotation] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)                 # Linux text streams
    command_line: str | None = None
    environment: list[str] = field(default_factory=list)
    auxv: list[tuple[int, int]] = field(default_factory=list)
    handles: list[dict] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _data: object = field(default=None, repr=False)

    def bytes_at(self, location: Location | None, limit: int | None = None) -> bytes | None:
        if location is None:
            return None
        size = location.size if limit is None else min(location.size, limit)
        if location.rva + size > self.size or size < 0:
            return None
        return bytes(self._data[location.rva : location.rva + size])   # type: ignore[index]

    def slice(self, offset: int, size: int) -> bytes:
        return bytes(self._data[offset : offset + size])                # type: ignore[index]


class _Stream:
    """A bounds-checked view of one stream: every read past its end raises ValueError."""

    def __init__(self, data, offset: int, size: int, name: str):
        self.data = data
        self.offset = offset
        self.size = size
        self.name = name

    def unpack(self, fmt: str, at: int):
        need = struct.calcsize(fmt)
        if at < 0 or at + need > self.size:
            raise ValueError(f"{self.name} stream is shorter than its records ({self.size} bytes)")
        return struct.unpack_from(fmt, self.data, self.offset + at)

    def raw(self, at: int, size: int) -> bytes:
        if at < 0 or size < 0 or at + size > self.size:
            raise ValueError(f"{self.name} stream is shorter than its records")
        return bytes(self.data[self.offset + at : self.offset + at + size])

    def count(self, entry_size: int, header: int = 4) -> tuple[int, int]:
        """(count, first entry offset) of a list stream; accepts Breakpad's 4 padding bytes."""
        count, = self.unpack("<I", 0)
        if count > MAX_LIST or header + count * entry_size > self.size:
            if header + 4 + count * entry_size <= self.size:
                return count, header + 4
            fits = max(0, (self.size - header) // entry_size) if entry_size else 0
            raise _Truncated(min(count, fits, MAX_LIST), header,
                             f"{self.name} says {count} entries but holds {fits}")
        surplus = self.size - header - count * entry_size
        return count, header + 4 if surplus == 4 else header


class _Truncated(Exception):
    def __init__(self, count: int, first: int, message: str):
        super().__init__(message)
        self.count = count
        self.first = first


def read_minidump(path: str) -> Dump:
    data, size = map_input(path, "a minidump")
    if size < HEADER_SIZE:
        raise BadInput(path, f"truncated minidump: {size} bytes, the header alone needs {HEADER_SIZE}")
    if bytes(data[:4]) != SIGNATURE:
        if bytes(data[:4]) == SIGNATURE[::-1]:
            raise BadInput(path, "big-endian minidump; only little-endian dumps are supported")
        raise BadInput(path, "not a minidump (no MDMP signature)")
    _sig, version, count, directory, _checksum, stamp, flags = struct.unpack_from("<4sIIIIIQ", data, 0)
    if version & 0xFFFF != 0xA793:
        raise BadInput(path, f"unknown minidump version 0x{version & 0xFFFF:x}")
    dump = Dump(path=path, size=size, time=stamp, flags=flags, _data=data)
    fits = max(0, (size - directory) // 12) if directory < size else 0
    if count > fits:
        if fits == 0:
            raise BadInput(path, f"truncated minidump: its stream directory (at {directory}) lies past the end ({size} bytes)")
        dump.warnings.append(f"stream directory lists {count} streams but the file holds {fits}")
        count = fits
    entries: dict[int, tuple[int, int]] = {}
    for index in range(count):
        kind, length, rva = struct.unpack_from("<III", data, directory + 12 * index)
        if kind == 0:
            continue
        name = STREAM_NAMES.get(kind, f"0x{kind:08x}")
        if rva + length > size:
            dump.warnings.append(f"{name} stream ({length} bytes at {rva}) runs past the end of the file; truncated")
            length = max(0, size - rva)
        if kind in entries:
            dump.warnings.append(f"{name} stream appears twice; using the later one")
        entries[kind] = (rva, length)
        dump.streams.append((name, kind, length))
        if kind not in _PARSERS:
            dump.unknown_streams.append(name)
    for kind, parser in _PARSERS.items():
        if kind in entries:
            rva, length = entries[kind]
            stream = _Stream(data, rva, length, STREAM_NAMES[kind])
            try:
                parser(dump, stream)
            except _Truncated as error:
                dump.warnings.append(str(error))
            except (ValueError, struct.error, UnicodeDecodeError) as error:
                dump.warnings.append(f"{STREAM_NAMES[kind]} stream: {error}")
    _check_overlaps(dump, entries)
    return dump


def _check_overlaps(dump: Dump, entries: dict[int, tuple[int, int]]) -> None:
    spans = sorted((rva, rva + length, kind) for kind, (rva, length) in entries.items() if length)
    for (start_a, end_a, kind_a), (start_b, _end_b, kind_b) in zip(spans, spans[1:]):
        if start_b < end_a:
            dump.warnings.append(f"{STREAM_NAMES.get(kind_a, hex(kind_a))} and "
                                 f"{STREAM_NAMES.get(kind_b, hex(kind_b))} streams overlap")


def _location(stream: _Stream, at: int) -> Location:
    size, rva = stream.unpack("<II", at)
    return Location(size, rva)


def read_string(dump: Dump, rva: int, limit: int = 65536) -> str | None:
    """A MINIDUMP_STRING: u32 byte length, then UTF-16LE."""
    if rva + 4 > dump.size:
        return None
    length, = struct.unpack_from("<I", dump._data, rva)   # type: ignore[arg-type]
    length = min(length, limit, dump.size - rva - 4) & ~1
    return dump.slice(rva + 4, length).decode("utf-16-le", "replace")


def _entries(stream: _Stream, entry_size: int, header: int = 4):
    try:
        count, first = stream.count(entry_size, header)
    except _Truncated as error:
        stream_warning = str(error)
        count, first = error.count, error.first
    else:
        stream_warning = None
    for index in range(count):
        yield first + index * entry_size
    if stream_warning:
        raise ValueError(stream_warning)


def _threads(dump: Dump, stream: _Stream) -> None:
    for at in _entries(stream, 48):
        if len(dump.threads) >= MAX_THREADS:
            dump.warnings.append(f"ThreadList: only the first {MAX_THREADS} threads are read")
            break
        tid, suspend, pclass, priority, teb, stack_start = stream.unpack("<IIIIQQ", at)
        dump.threads.append(RawThread(tid, suspend, pclass, priority, teb, stack_start,
                                      _location(stream, at + 32), _location(stream, at + 40)))


def _thread_names(dump: Dump, stream: _Stream) -> None:
    # names only for threads the dump has (as many as a thread list may hold when it has
    # none): entries sharing one long name would otherwise multiply it
    known = {thread.tid for thread in dump.threads}
    for at in _entries(stream, 12):
        tid, rva = stream.unpack("<IQ", at)
        if known and tid not in known or len(dump.thread_names) >= MAX_THREADS:
            continue
        name = read_string(dump, rva, 1024) if rva < dump.size else None
        if name is not None:
            dump.thread_names[tid] = name


def _codeview(dump: Dump, module: RawModule, location: Location) -> None:
    raw = dump.bytes_at(location, 4096)
    if not raw or len(raw) < 4:
        return
    signature = raw[:4]
    if signature == b"RSDS" and len(raw) >= 24:
        data1, data2, data3 = struct.unpack_from("<IHH", raw, 4)
        rest = raw[12:20]
        age, = struct.unpack_from("<I", raw, 20)
        guid = f"{data1:08X}{data2:04X}{data3:04X}{rest.hex().upper()}"
        module.debug_file = raw[24:].split(b"\0", 1)[0].decode("utf-8", "replace") or None
        if any(raw[4:24]):
            module.debug_id = f"{guid}{age:X}"
    elif signature == b"NB10" and len(raw) >= 16:
        _offset, stamp, age = struct.unpack_from("<III", raw, 4)
        module.debug_file = raw[16:].split(b"\0", 1)[0].decode("utf-8", "replace") or None
        module.debug_id = f"{stamp:08X}{age:X}"
    elif signature == b"LEpB":        # 0x4270454C, "BpEL" as a little-endian u32
        build_id = raw[4:]
        if any(build_id):
            module.build_id = build_id.hex()
            module.code_id = build_id.hex()
            module.debug_id = elf_debug_id(build_id)


def elf_debug_id(build_id: bytes) -> str:
    """Breakpad's debug id of an ELF file: the first 16 build-id bytes as a GUID, age 0."""
    head = build_id[:16].ljust(16, b"\0")
    data1, data2, data3 = struct.unpack_from("<IHH", head)
    swapped = struct.pack(">IHH", data1, data2, data3) + head[8:]
    return swapped.hex().upper() + "0"


def _version(dump: Dump, stream: _Stream, at: int) -> str | None:
    signature, _struct_version, ms, ls = stream.unpack("<IIII", at)
    if signature != 0xFEEF04BD or (ms == 0 and ls == 0):
        return None
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def _module(dump: Dump, stream: _Stream, at: int) -> RawModule:
    base, size, checksum, stamp, name_rva = stream.unpack("<QIIII", at)
    name = (read_string(dump, name_rva, 4096) if name_rva < dump.size else None) or f"<module at 0x{base:x}>"
    return RawModule(base=base, size=size, checksum=checksum, timestamp=stamp, name=name)


def _modules(dump: Dump, stream: _Stream) -> None:
    for at in _entries(stream, 108):
        if len(dump.modules) >= MAX_MODULES:
            dump.warnings.append(f"ModuleList: only the first {MAX_MODULES} modules are read")
            return
        module = _module(dump, stream, at)
        module.version = _version(dump, stream, at + 24)
        _codeview(dump, module, _location(stream, at + 76))
        if module.code_id is None and dump.system is not None and dump.system.platform == 2:
            module.code_id = f"{module.timestamp:08X}{module.size:x}"
        dump.modules.append(module)


def _unloaded_modules(dump: Dump, stream: _Stream) -> None:
    header_size, entry_size, count = stream.unpack("<III", 0)
    if entry_size < 24 or count > MAX_LIST or header_size > stream.size:
        raise ValueError("bad header")
    count = min(count, (stream.size - header_size) // entry_size)
    if count > MAX_MODULES:
        dump.warnings.append(f"UnloadedModuleList: only the first {MAX_MODULES} of {count} modules are read")
        count = MAX_MODULES
    for index in range(count):
        at = header_size + index * entry_size
        dump.unloaded_modules.append(_module(dump, stream, at))


def _memory_list(dump: Dump, stream: _Stream) -> None:
    for at in _entries(stream, 16):
        start, = stream.unpack("<Q", at)
        location = _location(stream, at + 8)
        if location.rva + location.size > dump.size:
            dump.warnings.append(f"memory at 0x{start:x} ({location.size} bytes) lies past the end of the file")
            continue
        dump.memory.append((start, location.size, location.rva))


def _memory64_list(dump: Dump, stream: _Stream) -> None:
    count, base = stream.unpack("<QQ", 0)
    fits = max(0, (stream.size - 16) // 16)
    if count > fits:
        dump.warnings.append(f"Memory64List says {count} ranges but holds {fits}")
        count = fits
    offset = base
    for index in range(count):
        start, size = stream.unpack("<QQ", 16 + 16 * index)
        if offset + size > dump.size:
            dump.warnings.append(f"memory at 0x{start:x} ({size} bytes) lies past the end of the file")
            break
        dump.memory.append((start, size, offset))
        offset += size


def _sized_entries(dump: Dump, stream: _Stream, header: str, smallest: int, limit: int, what: str):
    """Offsets of the entries of a stream whose header starts (header size, entry size,
    count): those that fit in the stream, and no more than limit (with a warning)."""
    header_size, entry_size, count = stream.unpack(header, 0)[:3]
    if entry_size < smallest or header_size > stream.size:
        raise ValueError("bad header")
    count = min(count, (stream.size - header_size) // entry_size, MAX_LIST)
    if count > limit:
        dump.warnings.append(f"{stream.name}: only the first {limit} of {count} {what} are read")
        count = limit
    for index in range(count):
        yield header_size + index * entry_size


def _memory_info(dump: Dump, stream: _Stream) -> None:
    for at in _sized_entries(dump, stream, "<IIQ", 48, MAX_MAPPINGS, "ranges"):
        base, alloc_base, alloc_protect, _pad, size, state, protect, kind = stream.unpack("<QQIIQIII", at)
        dump.memory_info.append(MemoryInfo(base, alloc_base, alloc_protect, size, state, protect, kind))


def _exception(dump: Dump, stream: _Stream) -> None:
    tid, _align, code, flags, _record, address, nparams = stream.unpack("<IIIIQQI", 0)
    parameters = list(stream.unpack("<15Q", 40))[: min(nparams, 15)]
    dump.exception = ExceptionRecord(tid, code, flags, address, parameters, _location(stream, 160))


def _system_info(dump: Dump, stream: _Stream) -> None:
    (arch, level, revision, cpus, product, major, minor, build, platform,
     csd_rva, _suite, _reserved) = stream.unpack("<HHHBBIIIIIHH", 0)
    info = SystemInfo(arch, level, revision, cpus, product, major, minor, build, platform)
    if csd_rva and csd_rva < dump.size:
        info.csd = read_string(dump, csd_rva, 1024) or ""
    if arch == 0 and stream.size >= 44:           # x86 carries the CPUID vendor string
        info.vendor = stream.raw(32, 12).decode("ascii", "replace").strip("\0")
    if arch in (0, 9):
        vendor = f"{info.vendor} " if info.vendor else ""
        info.cpu_info = f"{vendor}family {level} model {revision >> 8} stepping {revision & 0xFF}"
    dump.system = info


def _misc_info(dump: Dump, stream: _Stream) -> None:
    size, flags = stream.unpack("<II", 0)
    if flags & 0x1 and stream.size >= 12:
        dump.pid, = stream.unpack("<I", 8)
    if flags & 0x2 and stream.size >= 24:
        dump.process_create_time, dump.process_user_time, dump.process_kernel_time = stream.unpack("<III", 12)


def _breakpad_info(dump: Dump, stream: _Stream) -> None:
    validity, dump_tid, requesting_tid = stream.unpack("<III", 0)
    if validity & 1:
        dump.dump_tid = dump_tid
    if validity & 2:
        dump.requesting_tid = requesting_tid


def _assertion(dump: Dump, stream: _Stream) -> None:
    def text(at: int, size: int) -> str:
        return stream.raw(at, size).decode("utf-16-le", "replace").split("\0", 1)[0]

    # MDRawAssertionInfo: three uint16_t[128] strings, then line and type
    line, kind = stream.unpack("<II", 768)
    dump.assertion = {"expression": text(0, 256), "function": text(256, 256), "file": text(512, 256),
                      "line": str(line), "type": str(kind)}


def _text(dump: Dump, stream: _Stream) -> None:
    dump.texts[stream.name] = stream.raw(0, min(stream.size, 1 << 20)).decode("utf-8", "replace")


def _command_line(dump: Dump, stream: _Stream) -> None:
    raw = stream.raw(0, min(stream.size, 1 << 16))
    dump.command_line = " ".join(part.decode("utf-8", "replace") for part in raw.rstrip(b"\0").split(b"\0"))


def _environ(dump: Dump, stream: _Stream) -> None:
    raw = stream.raw(0, min(stream.size, 1 << 20))
    dump.environment = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def _auxv(dump: Dump, stream: _Stream) -> None:
    for at in range(0, stream.size - 15, 16):
        key, value = stream.unpack("<QQ", at)
        if key == 0:
            break
        dump.auxv.append((key, value))


def _handles(dump: Dump, stream: _Stream) -> None:
    for at in _sized_entries(dump, stream, "<IIII", 32, MAX_HANDLES, "handles"):
        handle, type_rva, object_rva, attributes, access, handles, pointers = stream.unpack("<QIIIIII", at)
        dump.handles.append({
            "handle": handle,
            "type": read_string(dump, type_rva, 512) if type_rva and type_rva < dump.size else None,
            "object": read_string(dump, object_rva, 2048) if object_rva and object_rva < dump.size else None,
            "attributes": attributes, "granted_access": access, "handle_count": handles,
            "pointer_count": pointers,
        })


def _comment(dump: Dump, stream: _Stream) -> None:
    raw = stream.raw(0, min(stream.size, 1 << 16))
    text = raw.decode("utf-16-le" if stream.name == "CommentW" else "latin-1", "replace")
    dump.comments.append(text.rstrip("\0"))


def _utf8_string(dump: Dump, rva: int, limit: int = 1 << 16) -> str | None:
    """A MinidumpUTF8String: u32 length, bytes (Crashpad)."""
    if rva + 4 > dump.size:
        return None
    length, = struct.unpack_from("<I", dump._data, rva)   # type: ignore[arg-type]
    length = min(length, limit, dump.size - rva - 4)
    return dump.slice(rva + 4, length).decode("utf-8", "replace")


class _AnnotationsFull(Exception):
    pass


class _Annotations:
    """Crashpad's annotations as decoded, within bounds. Its lists, dictionaries and
    objects may share their strings and each other (many modules pointing at one
    dictionary, many objects at one value): each structure is read once, every entry
    looked at counts, and so do the decoded annotations and their text."""

    def __init__(self, dump: Dump):
        self.dump = dump
        self.seen: set[tuple[int, int]] = set()
        self.looked_at = 0
        self.text = 0

    def first_time(self, location: Location) -> bool:
        key = (location.rva, location.size)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def look(self) -> None:
        self.looked_at += 1
        if self.looked_at > MAX_ANNOTATION_ENTRIES:
            self._full()

    def add(self, module: str | None, key: str, value: str) -> None:
        self.text += len(key) + len(value)
        if len(self.dump.annotations) >= MAX_ANNOTATIONS or self.text > MAX_ANNOTATION_BYTES:
            self._full()
        self.dump.annotations.append(CrashpadAnnotation(module, key, value))

    def _full(self):
        raise _AnnotationsFull(f"CrashpadInfo stream: {len(self.dump.annotations)} annotations "
                               f"({self.text >> 10} KiB) read; the rest are not shown")

    def _records(self, location: Location, size: int):
        """(bytes, offset) of each record of a counted list, the first time it is seen."""
        raw = self.dump.bytes_at(location) if self.first_time(location) else None
        if not raw or len(raw) < 4:
            return
        count, = struct.unpack_from("<I", raw)
        for index in range(min(count, (len(raw) - 4) // size)):
            self.look()
            yield raw, 4 + size * index

    def dictionary(self, module: str | None, location: Location) -> None:
        for raw, at in self._records(location, 8):
            key_rva, value_rva = struct.unpack_from("<II", raw, at)
            key = _utf8_string(self.dump, key_rva)
            if key is not None:
                self.add(module, key, _utf8_string(self.dump, value_rva) or "")

    def strings(self, module: str, location: Location) -> None:
        for item, (raw, at) in enumerate(self._records(location, 4)):
            item_rva, = struct.unpack_from("<I", raw, at)
            text = _utf8_string(self.dump, item_rva)
            if text is not None:
                self.add(module, f"list[{item}]", text)

    def objects(self, module: str, location: Location) -> None:
        dump = self.dump
        for raw, at in self._records(location, 12):
            name_rva, kind, _reserved, value_rva = struct.unpack_from("<IHHI", raw, at)
            name = _utf8_string(dump, name_rva, 1024)
            if name is None or value_rva + 4 > dump.size:
                continue
            length, = struct.unpack_from("<I", dump._data, value_rva)   # type: ignore[arg-type]
            value = dump.slice(value_rva + 4, min(length, 1 << 16, dump.size - value_rva - 4))
            self.add(module, name, value.decode("utf-8", "replace") if kind == 1 else value.hex())


def _crashpad(dump: Dump, stream: _Stream) -> None:
    annotations = _Annotations(dump)
    try:
        _crashpad_annotations(dump, stream, annotations)
    except _AnnotationsFull as full:
        dump.warnings.append(str(full))


def _crashpad_annotations(dump: Dump, stream: _Stream, annotations: _Annotations) -> None:
    _version_, = stream.unpack("<I", 0)
    report_id = stream.raw(4, 16)
    client_id = stream.raw(20, 16)
    dump.crashpad["report_id"] = _guid(report_id)
    dump.crashpad["client_id"] = _guid(client_id)
    annotations.dictionary(None, _location(stream, 36))
    modules = _location(stream, 44)
    raw = dump.bytes_at(modules)
    if not raw or len(raw) < 4:
        return
    count, = struct.unpack_from("<I", raw)
    for index in range(min(count, (len(raw) - 4) // 12)):
        annotations.look()
        module_index, size, rva = struct.unpack_from("<III", raw, 4 + 12 * index)
        module_name = dump.modules[module_index].name if module_index < len(dump.modules) else f"module {module_index}"
        info = dump.bytes_at(Location(size, rva))
        if not info or len(info) < 20:
            continue
        _v, list_size, list_rva, dict_size, dict_rva = struct.unpack_from("<IIIII", info)
        annotations.strings(module_name, Location(list_size, list_rva))
        annotations.dictionary(module_name, Location(dict_size, dict_rva))
        if len(info) >= 28:
            objects_size, objects_rva = struct.unpack_from("<II", info, 20)
            annotations.objects(module_name, Location(objects_size, objects_rva))


def _dso_debug(dump: Dump, stream: _Stream) -> None:
    """r_debug and the dynamic linker's list of loaded objects (64-bit layout)."""
    # MDRawDebug64 (40 bytes, naturally aligned) and its array of MDRawLinkMap64 (24 bytes)
    version, map_rva, count, brk, ldbase, dynamic = stream.unpack("<III4xQQQ", 0)
    lines = [f"version {version}  r_brk 0x{brk:x}  ldbase 0x{ldbase:x}  dynamic 0x{dynamic:x}"]
    for index in range(min(count, 4096)):
        at = map_rva + 24 * index
        if at + 24 > dump.size:
            dump.warnings.append(f"LinuxDsoDebug lists {count} objects but the file holds {index}")
            break
        addr, name_rva, ld = struct.unpack_from("<QI4xQ", dump._data, at)   # type: ignore[arg-type]
        name = read_string(dump, name_rva, 4096) if name_rva < dump.size else None
        lines.append(f"0x{addr:016x}  ld 0x{ld:x}  {name or '?'}")
    dump.texts["LinuxDsoDebug"] = "\n".join(lines)


def _guid(raw: bytes) -> str:
    data1, data2, data3 = struct.unpack_from("<IHH", raw)
    rest = raw[8:].hex()
    return f"{data1:08x}-{data2:04x}-{data3:04x}-{rest[:4]}-{rest[4:]}"


_PARSERS = {
    7: _system_info,        # first: module code ids and contexts depend on the platform
    3: _threads, 24: _thread_names, 4: _modules, 14: _unloaded_modules, 5: _memory_list,
    9: _memory64_list, 16: _memory_info, 6: _exception, 15: _misc_info, 12: _handles,
    10: _comment, 11: _comment,
    0x47670001: _breakpad_info, 0x47670002: _assertion, 0x47670003: _text, 0x47670004: _text,
    0x47670005: _text, 0x47670006: _command_line, 0x47670007: _environ, 0x47670008: _auxv,
    0x47670009: _text, 0x4767000A: _dso_debug, 0x43500001: _crashpad,
}
