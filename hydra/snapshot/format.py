"""Write and read .hsnap files (the layout is described in FORMAT.md beside this file).

Large byte blobs (memory, sources, per-thread variables) are compressed one by one and
located by offset, so opening a snapshot decodes only the index; a blob is read from
the mapped file when something asks for it.
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import msgpack

from hydra.model import BadInput
from hydra.model.files import atomic_output, map_input
from hydra.model.crash import (
    Annotation, Classifier, Crash, Frame, MapEntry, Module, Process, Signal, SourceFile, Thread,
    Variable,
)
from hydra.model.memory import Memory, MemoryRegion

from hydra.snapshot import MAGIC
FORMAT_VERSION = (1, 0)
HEADER = struct.Struct("<8sHHIQQQ")     # magic, major, minor, flags, index offset/length/raw length
MAX_INDEX_BYTES = 1 << 30
MAX_BLOB_BYTES = 1 << 31
VARIABLE_CHUNK_BYTES = 1 << 20
MEMORY_PIECE_BYTES = 1 << 20


# ---------------------------------------------------------------- writing

class _BlobWriter:
    """Blobs are compressed on two threads while the index is being built (zlib runs
    without the interpreter lock), then written in order; references are filled in then."""

    def __init__(self, handle):
        self.handle = handle
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.pending: list[tuple[list[int], object]] = []

    def put(self, data: bytes) -> list[int]:
        reference = [0, 0, len(data)]
        self.pending.append((reference, self.pool.submit(zlib.compress, data, 6)))
        return reference

    def finish(self) -> None:
        try:
            for reference, job in self.pending:
                compressed = job.result()
                reference[0] = self.handle.tell()
                reference[1] = len(compressed)
                self.handle.write(compressed)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _variable_out(var: Variable) -> list:
    return [var.name, var.type, var.value, var.kind, var.address, var.size, var.note,
            [_variable_out(child) for child in var.children], var.omitted]


def _registers_out(registers: dict[str, int]) -> dict:
    # vector registers are wider than msgpack integers: those are little-endian bytes
    return {name: value if 0 <= value < 1 << 64 else value.to_bytes((value.bit_length() + 7) // 8, "little")
            for name, value in registers.items()}


def _registers_in(raw) -> dict[str, int]:
    if not isinstance(raw, dict):
        return {}
    out = {}
    for name, value in raw.items():
        if isinstance(value, bytes) and len(value) <= 64:
            value = int.from_bytes(value, "little")
        if isinstance(value, int):
            out[str(name)] = value
    return out


def _pieces(start: int, data: bytes):
    """Memory in 1 MiB pieces: a viewer decompresses only the pieces it shows."""
    for offset in range(0, len(data), MEMORY_PIECE_BYTES):
        yield start + offset, data[offset : offset + MEMORY_PIECE_BYTES]


def _frame_out(frame: Frame, register_sets: dict[int, int], register_list: list) -> dict:
    key = id(frame.registers)
    if key not in register_sets:
        register_sets[key] = len(register_list)
        register_list.append(_registers_out(frame.registers))
    return {
        "index": frame.index, "pc": frame.pc, "function": frame.function, "file": frame.file,
        "line": frame.line, "column": frame.column, "module": frame.module,
        "module_offset": frame.module_offset, "inline": frame.inline, "trust": frame.trust,
        "sp": frame.sp, "cfa": frame.cfa, "symbol": frame.symbol, "symbol_offset": frame.symbol_offset,
        "registers": register_sets[key],
    }


def write_snapshot(crash: Crash, path: str) -> int:
    """Write atomically: a temporary file in the target's folder, renamed when complete."""
    with atomic_output(path, ".hsnap-") as handle:
        handle.write(b"\0" * HEADER.size)
        blobs = _BlobWriter(handle)
        try:
            document = _document(crash, blobs)
        finally:
            blobs.finish()
        raw = msgpack.packb(document, use_bin_type=True)
        index = zlib.compress(raw, 6)
        offset = handle.tell()
        handle.write(index)
        handle.seek(0)
        handle.write(HEADER.pack(MAGIC, *FORMAT_VERSION, 0, offset, len(index), len(raw)))
    return os.path.getsize(path)


def _document(crash: Crash, blobs: _BlobWriter) -> dict:
    register_sets: dict[int, int] = {}
    register_list: list[dict] = []
    threads = []
    # Variables are stored in chunks of threads: threads repeat the same library frames,
    # which compress far better together, while a chunk stays small enough to load on demand.
    chunks: list[list] = [[]]
    chunk_bytes = 0
    chunk_refs: list = []
    for thread in crash.threads:
        packed = msgpack.packb(
            [[[_variable_out(v) for v in f.args], [_variable_out(v) for v in f.locals]]
             for f in thread.frames], use_bin_type=True)
        if chunk_bytes + len(packed) > VARIABLE_CHUNK_BYTES and chunks[-1]:
            chunk_refs.append(blobs.put(msgpack.packb(chunks[-1], use_bin_type=True)))
            chunks.append([])
            chunk_bytes = 0
        variables = [len(chunks) - 1, len(chunks[-1])]
        chunks[-1].append(msgpack.ExtType(1, packed))
        chunk_bytes += len(packed)
        threads.append({
            "tid": thread.tid, "name": thread.name, "state": thread.state, "crashed": thread.crashed,
            "registers": _registers_out(thread.registers), "unwind_note": thread.unwind_note,
            "elided_frames": thread.elided_frames, "elided_after": thread.elided_after,
            "kernel_frames": thread.kernel_frames,
            "frames": [_frame_out(f, register_sets, register_list) for f in thread.frames],
            "variables": variables,
        })
    chunk_refs.append(blobs.put(msgpack.packb(chunks[-1], use_bin_type=True)))
    process = crash.process
    return {
        "origin": crash.origin,
        "process": {
            "pid": process.pid, "command_line": process.command_line, "executable": process.executable,
            "uid": process.uid, "gid": process.gid, "capture_time": process.capture_time,
            "core_path": process.core_path, "core_size": process.core_size,
            "architecture": process.architecture, "state": process.state,
        },
        "signal": None if crash.signal is None else {
            "number": crash.signal.number, "name": crash.signal.name, "code": crash.signal.code,
            "code_name": crash.signal.code_name, "address": crash.signal.address,
        },
        "crashed_tid": crash.crashed_tid,
        "register_sets": register_list,
        "variable_chunks": chunk_refs,
        "threads": threads,
        "modules": [
            {"path": m.path, "base": m.base, "size": m.size, "build_id": m.build_id,
             "debug_file": m.debug_file, "has_symbols": m.has_symbols, "debug_id": m.debug_id,
             "code_file": m.code_file, "note": m.note}
            for m in crash.modules
        ],
        "memory_map": [[e.start, e.end, e.perms, e.offset, e.path] for e in crash.memory_map],
        "memory": [[start, len(piece), region.kind, blobs.put(piece)]
                   for region in crash.memory.regions
                   for start, piece in _pieces(region.start, region.data)],
        "sources": [[s.path, blobs.put(s.text.encode("utf-8", "surrogateescape"))]
                    for s in crash.sources.values()],
        "globals": [_variable_out(v) for v in crash.globals],
        "classifiers": [[c.name, c.detail] for c in crash.classifiers],
        "annotations": [
            {"text": a.text, "severity": a.severity, "source": a.source, "tid": a.tid,
             "frame": a.frame, "variable": a.variable}
            for a in crash.annotations
        ],
        "attributes": dict(crash.attributes),
        "system": crash.system,
        "warnings": list(crash.warnings),
    }


# ---------------------------------------------------------------- reading

class _Blobs:
    def __init__(self, path: str, data, size: int):
        self.path = path
        self.data = data
        self.size = size

    def check(self, ref) -> tuple[int, int, int]:
        if not (isinstance(ref, list) and len(ref) == 3 and all(isinstance(x, int) for x in ref)):
            raise ValueError("bad blob reference")
        offset, length, raw = ref
        if offset < HEADER.size or length < 0 or offset + length > self.size or not 0 <= raw <= MAX_BLOB_BYTES:
            raise ValueError("a blob lies outside the file")
        return offset, length, raw

    def loader(self, ref):
        offset, length, raw = self.check(ref)

        def load() -> bytes:
            try:
                decompressor = zlib.decompressobj()
                data = decompressor.decompress(self.data[offset : offset + length], raw)
            except zlib.error:
                return b""
            return data

        return load


def read_snapshot(path: str) -> Crash:
    data, size = map_input(path, "a Hydra snapshot")
    if size < HEADER.size:
        raise BadInput(path, "not a Hydra snapshot (too short)")
    magic, major, minor, _flags, offset, length, raw_length = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise BadInput(path, "not a Hydra snapshot")
    if major > FORMAT_VERSION[0]:
        raise BadInput(path, f"snapshot format {major}.{minor} is newer than this Hydra reads "
                             f"({FORMAT_VERSION[0]}.x); upgrade Hydra")
    if offset < HEADER.size or offset + length > size or raw_length > MAX_INDEX_BYTES:
        raise BadInput(path, "truncated or corrupt snapshot: the index lies outside the file")
    try:
        raw = zlib.decompressobj().decompress(data[offset : offset + length], raw_length)
        document = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception as error:  # msgpack reports bad data with several exception types
        raise BadInput(path, f"corrupt snapshot index: {error}") from None
    try:
        return _crash(document, _Blobs(path, data, size))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as error:
        raise BadInput(path, f"corrupt snapshot: {type(error).__name__} {error}") from None


def _text(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _optional_text(value) -> str | None:
    return value if isinstance(value, str) else None


def _number(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _variable_in(raw, depth: int = 0) -> Variable:
    name, type_, value, kind, address, size, note, children, omitted = raw
    if depth > 64 or not isinstance(children, list):
        children = []
    return Variable(name=_text(name), type=_text(type_), value=_text(value), kind=_text(kind) or "local",
                    address=_number(address), size=_number(size),
                    note=note if isinstance(note, str) else None,
                    children=[_variable_in(c, depth + 1) for c in children],
                    omitted=_number(omitted) or 0)


def _crash(doc: dict, blobs: _Blobs) -> Crash:
    crash = Crash(origin="snapshot")
    crash.system = dict(doc.get("system") or {})
    crash.system.setdefault("captured_from", doc.get("origin"))
    process = doc["process"]
    crash.process = Process(**{k: process.get(k) for k in (
        "pid", "command_line", "executable", "uid", "gid", "capture_time", "core_path",
        "core_size", "state")}, architecture=process.get("architecture") or "x86_64")
    signal = doc.get("signal")
    if signal:
        crash.signal = Signal(signal["number"], signal["name"], signal.get("code"),
                              signal.get("code_name"), signal.get("address"))
    crash.crashed_tid = doc.get("crashed_tid")
    register_sets = [_registers_in(raw) for raw in doc.get("register_sets") or []]
    chunk_loaders = [_chunk(blobs.loader(ref)) for ref in doc.get("variable_chunks") or []]
    for raw_thread in doc["threads"]:
        if not isinstance(raw_thread["tid"], int):
            raise ValueError("a thread without a number")
        thread = Thread(
            tid=raw_thread["tid"], name=_optional_text(raw_thread.get("name")),
            state=_optional_text(raw_thread.get("state")) or "?",
            crashed=bool(raw_thread.get("crashed")), registers=_registers_in(raw_thread.get("registers")),
            unwind_note=_optional_text(raw_thread.get("unwind_note")),
            elided_frames=raw_thread.get("elided_frames") or 0,
            elided_after=raw_thread.get("elided_after"),
            kernel_frames=list(raw_thread.get("kernel_frames") or []),
        )
        chunk, position = raw_thread["variables"]
        load_variables = _thread_variables(chunk_loaders[chunk], position)
        for position, raw_frame in enumerate(raw_thread["frames"]):
            registers_index = raw_frame.get("registers")
            if not isinstance(raw_frame["index"], int) or not isinstance(raw_frame["pc"], int):
                raise ValueError("a frame without a number or pc")
            frame = Frame(
                index=raw_frame["index"], pc=raw_frame["pc"], function=_optional_text(raw_frame.get("function")),
                file=_optional_text(raw_frame.get("file")), line=_number(raw_frame.get("line")),
                column=_number(raw_frame.get("column")), module=_optional_text(raw_frame.get("module")),
                module_offset=_number(raw_frame.get("module_offset")),
                inline=bool(raw_frame.get("inline")), trust=_optional_text(raw_frame.get("trust")) or "cfi",
                sp=_number(raw_frame.get("sp")), cfa=_number(raw_frame.get("cfa")),
                symbol=_optional_text(raw_frame.get("symbol")),
                symbol_offset=_number(raw_frame.get("symbol_offset")),
                registers=register_sets[registers_index] if isinstance(registers_index, int)
                and 0 <= registers_index < len(register_sets) else {},
            )
            frame._variables_loader = _frame_variables(load_variables, position)
            thread.frames.append(frame)
        crash.threads.append(thread)
    crash.modules = [Module(**{k: m.get(k) for k in (
        "path", "base", "size", "build_id", "debug_file", "debug_id", "code_file", "note")},
        has_symbols=bool(m.get("has_symbols"))) for m in doc.get("modules") or []]
    crash.memory_map = [MapEntry(*entry) for entry in doc.get("memory_map") or []]
    regions = []
    for start, size, kind, ref in doc.get("memory") or []:
        if not (isinstance(start, int) and isinstance(size, int) and 0 < size <= MAX_BLOB_BYTES):
            raise ValueError("bad memory region")
        regions.append(MemoryRegion(start, size, kind, _loader=blobs.loader(ref)))
    crash.memory = Memory(regions)
    for source_path, ref in doc.get("sources") or []:
        load = blobs.loader(ref)
        crash.sources[source_path] = SourceFile(
            source_path, _loader=lambda load=load: load().decode("utf-8", "replace"))
    crash.globals = [_variable_in(v) for v in doc.get("globals") or []]
    crash.classifiers = [Classifier(name, detail) for name, detail in doc.get("classifiers") or []]
    crash.annotations = [Annotation(**a) for a in doc.get("annotations") or []]
    crash.attributes = {str(k): str(v) for k, v in (doc.get("attributes") or {}).items()}
    crash.warnings = [str(w) for w in doc.get("warnings") or []]
    return crash


def _chunk(load):
    """A chunk of threads' variables, unpacked once, on first use."""
    cache: list = []

    def get() -> list:
        if not cache:
            try:
                cache.append(msgpack.unpackb(load(), raw=False, strict_map_key=False))
            except Exception:   # a corrupt chunk: its threads show no variables
                cache.append([])
        return cache[0]

    return get


def _thread_variables(load_chunk, position: int):
    cache: list = []

    def get() -> list:
        if not cache:
            threads = load_chunk()
            packed = threads[position] if 0 <= position < len(threads) else None
            try:
                data = packed.data if isinstance(packed, msgpack.ExtType) else b""
                cache.append(msgpack.unpackb(data, raw=False, strict_map_key=False) if data else [])
            except Exception:
                cache.append([])
        return cache[0]

    return get


def _frame_variables(load_thread, position: int):
    def load() -> tuple[list[Variable], list[Variable]]:
        frames = load_thread()
        if position >= len(frames):
            return [], []
        try:
            args, local_vars = frames[position]
            return [_variable_in(v) for v in args], [_variable_in(v) for v in local_vars]
        except Exception:   # a corrupt entry: the frame shows no variables
            return [], []

    return load
