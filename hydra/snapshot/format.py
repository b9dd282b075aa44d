"""Write and read .hsnap files (the layout is described in FORMAT.md beside this file).

Large byte blobs (memory, sources, per-thread variables) are compressed one by one and
located by offset, so opening a snapshot decodes only the index; a blob is read from
the mapped file when something asks for it.
"""

from __future__ import annotations

import lzma
import os
import struct
import zlib
from collections.abc import Callable

import msgpack

from hydra.model import BadInput
from hydra.model.errors import describe
from hydra.model.files import atomic_output, map_input
from hydra.model.crash import (
    MAX_RAW_BYTES, Annotation, Classifier, Crash, Frame, MapEntry, Module, Process, Signal, SourceFile, Thread,
    Trust, Variable,
)
from hydra.model.memory import Memory, MemoryRegion
from hydra.model.symbols import FUNCTION, OBJECT, Symbol, SymbolTable
from hydra.model.types import Kind, Member, Method, Type, TypeTable, Variant

from hydra.snapshot import MAGIC
FORMAT_VERSION = (3, 3)
OLDEST_MAJOR = 1                # 1.x and 2.x open without types and symbols: no evaluation
HEADER = struct.Struct("<8sHHIQQQ")     # magic, major, minor, flags, index offset/length/raw length
FLAG_LZMA_INDEX = 1
# The index holds names, frames and references, never bulk data: a writer's index stays a
# few MB even for a hundred thousand frames. Reading no more than this keeps any file's
# index under about 200 MB of objects (a byte of msgpack makes at most a pointer's worth).
MAX_INDEX_BYTES = 24 << 20
MAX_BLOB_BYTES = 1 << 31
VARIABLE_CHUNK_BYTES = 1 << 20
MEMORY_PIECE_BYTES = 1 << 20
MAX_SOURCE_BYTES = 16 << 20     # capture keeps no larger source file
# frames read at most: one thread's, and all threads' (a capture keeps at most a few
# thousand a thread, and a few tens of thousands in all; more is a hostile file)
MAX_THREAD_FRAMES = 1 << 15
MAX_FRAMES_READ = 1 << 17
MAX_VARIABLE_CHUNK_BYTES = 64 << 20
MAX_TABLE_BYTES = 256 << 20     # the type table and the symbols, each
MAX_TYPES = 1 << 21
MAX_SYMBOLS = 1 << 21     # a chunk closes past 1 MiB; one thread's variables stay far below
# Blobs smaller than this share compressed blocks: a small crash is mostly small pieces
# (code around each pc, a few stack pages, one source file), and one stream over all of
# them compresses far better than a stream each.
SMALL_BLOB_BYTES = 64 << 10
BLOCK_BYTES = 1 << 20
# Up to a block's worth, LZMA: slower to compress than zlib but a fifth smaller, and a
# snapshot with that little in it takes milliseconds either way. Bigger ones stay zlib.
LZMA_LIMIT = BLOCK_BYTES
CODEC_ZLIB = 0
CODEC_LZMA = 1
# preset 2: a twentieth of preset 6's time for 5% more bytes (the decoder reads any preset)
LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 2, "dict_size": BLOCK_BYTES}]
# attribute of a Thread handed over by decode_threads: its variables, still packed
PACKED_VARIABLES = "_packed_variables"
# attribute of such a thread: the crash's type id of each type id in its packed variables
TYPE_MAP = "_type_map"
# attribute of a Crash: its threads' variables in chunks, compressed ahead (compress_ahead)
CHUNKS_AHEAD = "_chunks_ahead"
FRAME_FIELDS = ("index", "pc", "function", "file", "line", "column", "module", "module_offset", "inline",
                "trust", "sp", "cfa", "symbol", "symbol_offset", "registers")


def _lzma(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS)


def _zlib(data: bytes) -> bytes:
    return zlib.compress(data, 6)


# ---------------------------------------------------------------- writing

class _BlobWriter:
    """Blobs are compressed on two threads while the index is being built (zlib runs
    without the interpreter lock), then written in order; references are filled in then.

    A large blob is a zlib stream of its own. Small ones are gathered into blocks; a block
    that fills up is compressed with zlib at once, and the last block, when it is the only
    one, with LZMA."""

    def __init__(self, handle):
        from concurrent.futures import ThreadPoolExecutor     # only to write: most opens only read

        self.handle = handle
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.pending: list[tuple[list[list[int]], object]] = []
        self.block: list[tuple[list[int], bytes]] = []
        self.block_bytes = 0

    def put(self, data: bytes, compressing=None) -> list[int]:
        """Where data will be; `compressing`, a future of its zlib stream, when that was
        started before (compress_ahead)."""
        if len(data) < SMALL_BLOB_BYTES:
            reference = [0, 0, 0, CODEC_ZLIB, self.block_bytes, len(data)]
            self.block.append((reference, data))
            self.block_bytes += len(data)
            if self.block_bytes >= BLOCK_BYTES:
                self._seal(CODEC_ZLIB)
            return reference
        reference = [0, 0, len(data)]
        self.pending.append(([reference], compressing or self.pool.submit(_zlib, data)))
        return reference

    def _seal(self, codec: int) -> None:
        if not self.block:
            return
        data = b"".join(piece for _, piece in self.block)
        references = [reference for reference, _ in self.block]
        for reference in references:
            reference[2] = len(data)
            reference[3] = codec
        self.pending.append((references, self.pool.submit(_lzma if codec == CODEC_LZMA else _zlib, data)))
        self.block = []
        self.block_bytes = 0

    def finish(self) -> None:
        try:
            only_block = not any(len(refs[0]) == 6 for refs, _ in self.pending)
            self._seal(CODEC_LZMA if only_block else CODEC_ZLIB)
            for references, job in self.pending:
                compressed = job.result()
                offset = self.handle.tell()
                for reference in references:
                    reference[0] = offset
                    reference[1] = len(compressed)
                self.handle.write(compressed)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _variable_out(var: Variable, shared: dict[int, list] | None = None) -> list:
    """A variable as a list; `shared` maps id(children) to their output, because capture
    shares one decoded subtree among every pointer to the same object."""
    if not var.children:
        children = []
    elif shared is None:
        children = [_variable_out(child) for child in var.children]
    else:
        children = shared.get(id(var.children))
        if children is None:
            children = shared[id(var.children)] = [_variable_out(child, shared) for child in var.children]
    out = [var.name, var.type, var.value, var.kind, var.address, var.size, var.note, children, var.omitted]
    if var.type_id is not None or var.raw is not None or var.entry is not None or var.missing:
        out += [var.type_id, var.raw]          # 3.0: a top-level variable's type and bytes
        if var.entry is not None or var.missing:
            out.append(var.entry)              # 3.1: a parameter's value at entry
        if var.missing:
            out.append([list(span) for span in var.missing])     # 3.2: raw's optimized-out ranges
    return out


def _registers_out(registers: dict[str, int]) -> dict:
    # vector registers are wider than msgpack integers: those are little-endian bytes
    if not registers or (min(registers.values()) >= 0 and max(registers.values()) < 1 << 64):
        return registers           # most frames: CFI-recovered general registers only
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


def _frame_out(frame: Frame, register_sets: dict[int, int], register_list: list) -> list:
    key = id(frame.registers)
    if key not in register_sets:
        register_sets[key] = len(register_list)
        register_list.append(_registers_out(frame.registers))
    # in FRAME_FIELDS order
    return [frame.index, frame.pc, frame.function, frame.file, frame.line, frame.column, frame.module,
            frame.module_offset, frame.inline, frame.trust, frame.sp, frame.cfa, frame.symbol,
            frame.symbol_offset, register_sets[key]]


def write_snapshot(crash: Crash, path: str) -> int:
    """Write atomically: a temporary file in the target's folder, renamed when complete."""
    with atomic_output(path, ".hsnap-") as handle:
        write_snapshot_to(crash, handle)
    return os.path.getsize(path)


def write_snapshot_to(crash: Crash, handle) -> None:
    """The snapshot into an open, seekable binary file (or io.BytesIO), from its start."""
    handle.write(b"\0" * HEADER.size)
    blobs = _BlobWriter(handle)
    try:
        document = _document(crash, blobs)
    finally:
        blobs.finish()
    raw = msgpack.packb(document, use_bin_type=True)
    flags = FLAG_LZMA_INDEX if len(raw) <= LZMA_LIMIT else 0
    index = _lzma(raw) if flags & FLAG_LZMA_INDEX else _zlib(raw)
    offset = handle.tell()
    handle.write(index)
    end = handle.tell()
    handle.seek(0)
    handle.write(HEADER.pack(MAGIC, *FORMAT_VERSION, flags, offset, len(index), len(raw)))
    handle.seek(end)


def snapshot_bytes(crash: Crash) -> bytes:
    import io

    buffer = io.BytesIO()
    write_snapshot_to(crash, buffer)
    return buffer.getvalue()


def _thread_out(thread: Thread, register_sets: dict[int, int], register_list: list) -> dict:
    """A thread as the index holds it, without its variables."""
    document = {
        "tid": thread.tid, "name": thread.name, "state": thread.state, "crashed": thread.crashed,
        "registers": _registers_out(thread.registers), "unwind_note": thread.unwind_note,
        "elided_frames": thread.elided_frames, "elided_after": thread.elided_after,
        "kernel_frames": thread.kernel_frames,
        "frames": [_frame_out(f, register_sets, register_list) for f in thread.frames],
    }
    if hasattr(thread, TYPE_MAP) and hasattr(thread, PACKED_VARIABLES):
        document["type_map"] = list(getattr(thread, TYPE_MAP))
    return document


def _variables_out(thread: Thread, shared: dict[int, list]) -> bytes:
    """A thread's variables packed: one [args, locals] pair per frame. Threads handed over
    already packed (decode_threads) keep those bytes."""
    packed = getattr(thread, PACKED_VARIABLES, None)
    if packed is not None:
        return packed
    return msgpack.packb(
        [[[_variable_out(v, shared) for v in f.args], [_variable_out(v, shared) for v in f.locals]]
         for f in thread.frames], use_bin_type=True)


def encode_threads(threads: list[Thread]) -> bytes:
    """Threads in the snapshot's own encoding, for handing them to another process."""
    register_sets: dict[int, int] = {}
    register_list: list[dict] = []
    shared: dict[int, list] = {}
    documents = []
    for thread in threads:
        document = _thread_out(thread, register_sets, register_list)
        document["variables"] = _variables_out(thread, shared)
        documents.append(document)
    return msgpack.packb({"frame_fields": FRAME_FIELDS, "register_sets": register_list, "threads": documents},
                         use_bin_type=True)


def pack_variables(threads: list[Thread], type_map: list) -> None:
    """Pack the threads' variables now, as the snapshot will hold them, with type ids that
    type_map turns into the crash's (filled in before the snapshot is written): capture
    packs its own threads while its forked copy still walks, as the copy does."""
    shared: dict[int, list] = {}
    for thread in threads:
        setattr(thread, PACKED_VARIABLES, _variables_out(thread, shared))
        setattr(thread, TYPE_MAP, type_map)


def decode_threads(data: bytes, type_map: list | None = None) -> list[Thread]:
    """The threads encode_threads packed; variables are unpacked when first asked for.
    `type_map` (filled in later, before any variable is read) turns the type ids the packer
    gave variables into the crash's own."""
    document = msgpack.unpackb(data, raw=False, strict_map_key=False)
    register_sets = [_registers_in(raw) for raw in document["register_sets"]]
    threads = []
    for raw_thread in document["threads"]:
        packed = raw_thread["variables"]
        thread = _thread_in(raw_thread, register_sets, [str(name) for name in document["frame_fields"]],
                            _thread_variables(lambda packed=packed: [msgpack.ExtType(1, packed)], 0),
                            trusted=True, type_map=type_map)
        setattr(thread, PACKED_VARIABLES, packed)
        if type_map is not None:
            setattr(thread, TYPE_MAP, type_map)
        threads.append(thread)
    return threads


def forget_packed_variables(thread: Thread) -> None:
    """A thread of decode_threads whose values changed after they were packed: its
    variables are written from its frames."""
    for name in (PACKED_VARIABLES, TYPE_MAP):
        if hasattr(thread, name):
            delattr(thread, name)


def _sources_out(crash: Crash, blobs: _BlobWriter) -> list:
    """Each source's text once, however many paths name it (capture shares the text)."""
    stored: dict[int, list[int]] = {}
    out = []
    for source in crash.sources.values():
        text = source.text
        if id(text) not in stored:
            stored[id(text)] = blobs.put(text.encode("utf-8", "surrogateescape"))
        out.append([source.path, stored[id(text)]])
    return out


class _VariableChunks:
    """Threads' variables are stored in chunks of threads: threads repeat the same library
    frames, which compress far better together, while a chunk stays small enough to load on
    demand. A chunk is sealed when the next thread would not fit, and at the end."""

    def __init__(self, seal: Callable[[bytes], object]):
        self.seal = seal                 # what becomes of a sealed chunk's bytes
        self.sealed: list = []           # what seal made of each
        self.placed: list[tuple[Thread, bytes]] = []      # threads with their packed variables
        self.positions: list[list[int]] = []              # each one's chunk and place in it
        self._open: list = []
        self._open_bytes = 0

    def place(self, thread: Thread, packed: bytes) -> None:
        if self._open_bytes + len(packed) > VARIABLE_CHUNK_BYTES and self._open:
            self.close()
        self.placed.append((thread, packed))
        self.positions.append([len(self.sealed), len(self._open)])
        self._open.append(msgpack.ExtType(1, packed))
        self._open_bytes += len(packed)

    def close(self) -> None:
        """Seal the open chunk; with no thread at all, an empty one."""
        if self._open or not self.sealed:
            self.sealed.append(self.seal(msgpack.packb(self._open, use_bin_type=True)))
        self._open = []
        self._open_bytes = 0


def compress_ahead(crash: Crash) -> None:
    """Start compressing the threads' variables now, on another core (zlib runs without the
    interpreter lock), while capture finishes its other work; the snapshot's writer takes
    what was made. Only threads whose variables are packed for good are taken (capture
    packs them during the claims), up to the first that is not: the writer checks that
    they are still the crash's threads, packed alike, and places the rest itself."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)     # the one core capture leaves free here
    chunks = _VariableChunks(lambda data: (data, pool.submit(_zlib, data) if len(data) >= SMALL_BLOB_BYTES
                                           else None))
    for thread in crash.threads:
        packed = getattr(thread, PACKED_VARIABLES, None)
        if packed is None:
            break
        chunks.place(thread, packed)
    else:
        chunks.close()
    pool.shutdown(wait=False)            # its work goes on; the writer waits for each result
    setattr(crash, CHUNKS_AHEAD, chunks)


def _variable_chunks(crash: Crash, blobs: _BlobWriter) -> _VariableChunks:
    """Every thread's variables placed in chunks, each chunk put in blobs: `sealed` holds
    their references."""
    chunks = getattr(crash, CHUNKS_AHEAD, None)
    if chunks is not None:
        delattr(crash, CHUNKS_AHEAD)        # taken once: its sealed chunks become references
    if chunks is not None and len(chunks.placed) <= len(crash.threads) and all(
            thread is placed and getattr(thread, PACKED_VARIABLES, None) is packed
            for thread, (placed, packed) in zip(crash.threads, chunks.placed)):
        chunks.sealed = [blobs.put(data, compressing) for data, compressing in chunks.sealed]
        chunks.seal = blobs.put
    else:
        chunks = _VariableChunks(blobs.put)
    shared: dict[int, list] = {}     # the crash keeps every children list alive: ids stay unique
    for thread in crash.threads[len(chunks.placed):]:
        chunks.place(thread, _variables_out(thread, shared))
    chunks.close()
    return chunks


def _document(crash: Crash, blobs: _BlobWriter) -> dict:
    register_sets: dict[int, int] = {}
    register_list: list[dict] = []
    chunks = _variable_chunks(crash, blobs)
    threads = []
    for thread, position in zip(crash.threads, chunks.positions):
        document = _thread_out(thread, register_sets, register_list)
        document["variables"] = position
        threads.append(document)
    chunk_refs = chunks.sealed
    process = crash.process
    return {
        "origin": crash.origin,
        "process": {
            "pid": process.pid, "command_line": process.command_line, "executable": process.executable,
            "uid": process.uid, "gid": process.gid, "capture_time": process.capture_time,
            "core_path": process.core_path, "core_size": process.core_size,
            "architecture": process.architecture, "state": process.state,
            "capture_version": process.capture_version,
        },
        "signal": None if crash.signal is None else {
            "number": crash.signal.number, "name": crash.signal.name, "code": crash.signal.code,
            "code_name": crash.signal.code_name, "address": crash.signal.address,
            "sender_pid": crash.signal.sender_pid, "sender_uid": crash.signal.sender_uid,
        },
        "crashed_tid": crash.crashed_tid,
        "frame_fields": FRAME_FIELDS,
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
        "sources": _sources_out(crash, blobs),
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
        "truncated": crash.truncated,
        "types": blobs.put(msgpack.packb(_types_out(crash.types), use_bin_type=True)) if len(crash.types) else None,
        "symbols": blobs.put(msgpack.packb(_symbols_out(crash.symbols), use_bin_type=True))
        if len(crash.symbols) else None,
    }


def _types_out(table: TypeTable) -> list:
    rows = []
    for t in table.types:
        row = [t.kind, t.name, t.size, t.target, t.const, t.volatile, t.signed, t.charset, t.length,
               [_member_out(m) for m in t.members],
               [[m.name, m.type, m.virtual, m.static, m.const, m.artificial, m.access] for m in t.methods],
               [[name, value] for name, value in t.enumerators], t.scoped, t.flag_enum, t.parameters, t.variadic,
               t.prototyped, t.incomplete, t.containing, t.language,
               [[name, index] for name, index in t.template_parameters]]
        if t.variants or t.discriminant is not None:       # 3.3: a Rust enum's
            row += [_member_out(t.discriminant) if t.discriminant is not None else None,
                    [[v.value, _member_out(v.member)] for v in t.variants]]
        rows.append(row)
    return rows


def _member_out(m: Member) -> list:
    return [m.name, m.type, m.offset, m.bit_size, m.bit_offset, m.base, m.virtual, m.static, m.address,
            m.artificial, m.access]


def _symbols_out(table: SymbolTable) -> list:
    return [[s.name, s.address, s.size, s.kind, s.type_id, s.module, s.alias, s.constant, s.linkage]
            for s in table.symbols]


# ---------------------------------------------------------------- reading

class _Blobs:
    def __init__(self, path: str, data, size: int):
        self.path = path
        self.data = data
        self.size = size
        self._blocks: dict[int, bytes] = {}     # shared blocks, decompressed once

    def check(self, ref) -> tuple[int, int, int]:
        if not (isinstance(ref, list) and len(ref) in (3, 6) and all(isinstance(x, int) for x in ref)):
            raise ValueError("bad blob reference")
        offset, length, raw = ref[:3]
        if offset < HEADER.size or length < 0 or offset + length > self.size or not 0 <= raw <= MAX_BLOB_BYTES:
            raise ValueError("a blob lies outside the file")
        if len(ref) == 6:
            codec, start, size = ref[3:]
            if codec not in (CODEC_ZLIB, CODEC_LZMA) or start < 0 or size < 0 or start + size > raw:
                raise ValueError("a blob lies outside its block")
        return offset, length, raw

    def loader(self, ref, limit: int = MAX_BLOB_BYTES):
        """What loads the blob: at most limit bytes of it, and never more of a shared block
        than a writer puts in one, whatever the reference declares."""
        offset, length, raw = self.check(ref)
        if len(ref) == 3:
            return lambda: _decompress(self.data[offset : offset + length], min(raw, limit), CODEC_ZLIB)
        codec, start, size = ref[3:]
        raw = min(raw, BLOCK_BYTES + SMALL_BLOB_BYTES)

        def load() -> bytes:
            block = self._blocks.get(offset)
            if block is None:
                block = self._blocks[offset] = _decompress(self.data[offset : offset + length], raw, codec)
            return block[start : start + size]

        return load


def _decompress(data: bytes, raw: int, codec: int) -> bytes:
    """At most raw bytes: a hostile length cannot make a huge allocation. Corrupt data
    reads as empty (the region or source shows as missing)."""
    try:
        if codec == CODEC_LZMA:
            return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=LZMA_FILTERS).decompress(data, raw)
        return zlib.decompressobj().decompress(data, raw)
    except (zlib.error, lzma.LZMAError):
        return b""


def read_snapshot(path: str, data: bytes | None = None) -> Crash:
    """The snapshot at path, or in `data` (path then only names it)."""
    if data is None:
        data, size = map_input(path, "a Hydra snapshot")
    else:
        size = len(data)
    if size < HEADER.size:
        raise BadInput(path, "not a Hydra snapshot (too short)")
    magic, major, minor, flags, offset, length, raw_length = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise BadInput(path, "not a Hydra snapshot")
    if major > FORMAT_VERSION[0]:
        raise BadInput(path, f"snapshot format {major}.{minor} is newer than this Hydra reads "
                             f"({OLDEST_MAJOR}.x to {FORMAT_VERSION[0]}.x); upgrade Hydra")
    if major < OLDEST_MAJOR:
        raise BadInput(path, f"snapshot format {major}.{minor} is older than this Hydra reads")
    if offset < HEADER.size or offset + length > size:
        raise BadInput(path, "truncated or corrupt snapshot: the index lies outside the file")
    if raw_length > MAX_INDEX_BYTES:
        raise BadInput(path, f"corrupt snapshot: its index claims {raw_length} bytes, more than a writer makes")
    try:
        compressed = data[offset : offset + length]
        if flags & FLAG_LZMA_INDEX:
            raw = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=LZMA_FILTERS).decompress(compressed, raw_length)
        else:
            raw = zlib.decompressobj().decompress(compressed, raw_length)
        document = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception as error:  # msgpack reports bad data with several exception types
        raise BadInput(path, f"corrupt snapshot index: {describe(error)}") from None
    try:
        return _crash(document, _Blobs(path, data, size))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError) as error:
        raise BadInput(path, f"corrupt snapshot: {describe(error)}") from None


_SCALARS = (int, float, bool)
MAX_PLAIN_DEPTH = 8


def _text(value) -> str:
    """A text field: text, or a flat value (a number, bytes) written as text; a list or a
    map where text belongs is corruption (written out, a nested one would recurse)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (*_SCALARS, bytes)):
        return str(value)
    raise ValueError(f"a text field holds a {type(value).__name__}")


def _optional_text(value) -> str | None:
    return None if value is None else _text(value)


def _number(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a map")
    return value


def _sequence(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list")
    return value


def _plain(value, depth: int = 0):
    """Free-form facts (the system section) as JSON would hold them: text, numbers, lists
    and maps with text keys, at most MAX_PLAIN_DEPTH deep."""
    if value is None or isinstance(value, (str, bool, float)) or _number(value) is not None:
        return value
    if depth >= MAX_PLAIN_DEPTH:
        raise ValueError("system facts nested too deeply")
    if isinstance(value, dict):
        return {_text(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in value]
    return _text(value)


def _map_entry_in(entry) -> MapEntry:
    start, end, perms, *rest = entry
    if not (isinstance(start, int) and isinstance(end, int)):
        raise ValueError("bad memory map entry")
    return MapEntry(start, end, _text(perms), _number(rest[0]) or 0 if rest else 0,
                    _optional_text(rest[1]) if len(rest) > 1 else None)


def _annotation_in(raw: dict) -> Annotation:
    return Annotation(_text(raw.get("text")), _text(raw.get("severity")) or "info",
                      _text(raw.get("source")) or "hydra", _number(raw.get("tid")), _number(raw.get("frame")),
                      _optional_text(raw.get("variable")))


def _variable_in(raw, depth: int = 0) -> Variable:
    if not isinstance(raw, list) or len(raw) not in (9, 11, 12, 13):
        raise ValueError("a variable is not a list of 9, 11, 12 or 13 fields")
    name, type_, value, kind, address, size, note, children, omitted = raw[:9]
    type_id, data = raw[9:11] if len(raw) >= 11 else (None, None)
    entry = raw[11] if len(raw) >= 12 and isinstance(raw[11], str) else None
    data = data if isinstance(data, bytes) and len(data) <= MAX_RAW_BYTES else None
    missing = raw[12] if len(raw) == 13 and isinstance(raw[12], list) and data is not None else []
    missing = [(span[0], span[1]) for span in missing[:MAX_RAW_BYTES] if isinstance(span, list) and len(span) == 2
               and all(type(n) is int for n in span) and 0 <= span[0] < span[1] <= len(data)]
    if depth > 64 or not isinstance(children, list):
        children = []
    return Variable(name=_text(name), type=_text(type_), value=_text(value), kind=_text(kind) or "local",
                    address=_number(address), size=_number(size),
                    note=note if isinstance(note, str) else None,
                    children=[_variable_in(c, depth + 1) for c in children],
                    omitted=_number(omitted) or 0, type_id=_number(type_id),
                    raw=data, entry=entry, missing=missing)


def _crash(doc: dict, blobs: _Blobs) -> Crash:
    if not isinstance(doc, dict):
        raise ValueError("the index is not a map")
    crash = Crash(origin="snapshot")
    crash.system = {_text(k): _plain(v) for k, v in _mapping(doc.get("system"), "system").items()}
    crash.system.setdefault("captured_from", _optional_text(doc.get("origin")))
    process = _mapping(doc["process"], "process")
    capture_time = process.get("capture_time")
    crash.process = Process(
        **{k: _number(process.get(k)) for k in ("pid", "uid", "gid", "core_size", "capture_version")},
        **{k: _optional_text(process.get(k)) for k in ("command_line", "executable", "core_path", "state")},
        capture_time=float(capture_time) if isinstance(capture_time, (int, float)) and not
        isinstance(capture_time, bool) and 0 <= capture_time < 1e11 else None,
        architecture=_optional_text(process.get("architecture")) or "x86_64")
    signal = _mapping(doc.get("signal"), "signal")
    if signal:
        crash.signal = Signal(_number(signal["number"]) or 0, _text(signal["name"]), _number(signal.get("code")),
                              _optional_text(signal.get("code_name")), _number(signal.get("address")),
                              _number(signal.get("sender_pid")), _number(signal.get("sender_uid")))
    crash.crashed_tid = _number(doc.get("crashed_tid"))
    register_sets = [_registers_in(raw) for raw in _sequence(doc.get("register_sets"), "register sets")]
    frame_fields = [_text(name) for name in _sequence(doc.get("frame_fields"), "frame fields") or FRAME_FIELDS]
    chunk_loaders = [_chunk(blobs.loader(ref, MAX_VARIABLE_CHUNK_BYTES))
                     for ref in _sequence(doc.get("variable_chunks"), "variable chunks")]
    frames_left = [MAX_FRAMES_READ]
    for raw_thread in _sequence(doc["threads"], "threads"):
        chunk, position = raw_thread["variables"]
        if not (_number(chunk) is not None and 0 <= chunk < len(chunk_loaders) and _number(position) is not None):
            raise ValueError("a thread's variables point nowhere")
        type_map = raw_thread.get("type_map") if isinstance(raw_thread, dict) else None
        type_map = [t if _number(t) is not None else None for t in _sequence(type_map, "a type map")[:1 << 20]] \
            if type_map is not None else None
        crash.threads.append(_thread_in(raw_thread, register_sets, frame_fields,
                                        _thread_variables(chunk_loaders[chunk], position), frames_left,
                                        type_map=type_map))
    if any(t.unwind_note and "frames in the snapshot; the first" in t.unwind_note for t in crash.threads):
        crash.warnings.append(f"the snapshot holds more frames than a capture keeps (at most {MAX_THREAD_FRAMES} "
                              f"a thread, {MAX_FRAMES_READ} in all): the rest are left out")
    crash.modules = [Module(
        _text(m.get("path")), _number(m.get("base")) or 0, _number(m.get("size")) or 0,
        **{k: _optional_text(m.get(k)) for k in ("build_id", "debug_file", "debug_id", "code_file", "note")},
        has_symbols=bool(m.get("has_symbols"))) for m in (_mapping(m, "a module")
                                                          for m in _sequence(doc.get("modules"), "modules"))]
    crash.memory_map = [_map_entry_in(entry) for entry in _sequence(doc.get("memory_map"), "memory map")]
    regions = []
    for start, size, kind, ref in _sequence(doc.get("memory"), "memory"):
        if not (isinstance(start, int) and isinstance(size, int) and 0 < size <= MEMORY_PIECE_BYTES):
            raise ValueError("bad memory region")       # writers store memory in pieces
        regions.append(MemoryRegion(start, size, _text(kind), _loader=blobs.loader(ref, MEMORY_PIECE_BYTES)))
    crash.memory = Memory(regions)
    for source_path, ref in _sequence(doc.get("sources"), "sources"):
        load = blobs.loader(ref, MAX_SOURCE_BYTES)
        crash.sources[_text(source_path)] = SourceFile(
            _text(source_path), _loader=lambda load=load: load().decode("utf-8", "replace"))
    crash.globals = [_variable_in(v) for v in _sequence(doc.get("globals"), "globals")]
    crash.classifiers = [Classifier(_text(name), _text(detail))
                         for name, detail in _sequence(doc.get("classifiers"), "classifiers")]
    crash.annotations = [_annotation_in(_mapping(a, "an annotation"))
                         for a in _sequence(doc.get("annotations"), "annotations")]
    crash.attributes = {_text(k): _text(v) for k, v in _mapping(doc.get("attributes"), "attributes").items()}
    crash.warnings += [_text(w) for w in _sequence(doc.get("warnings"), "warnings")]
    crash.truncated = doc.get("truncated") is True
    if doc.get("types") is not None:
        crash._types_loader = _lazy_table(blobs.loader(doc["types"], MAX_TABLE_BYTES), _types_in, TypeTable)
    if doc.get("symbols") is not None:
        crash._symbols_loader = _lazy_table(blobs.loader(doc["symbols"], MAX_TABLE_BYTES), _symbols_in,
                                            SymbolTable)
    return crash


def _lazy_table(load, decode, empty):
    """A table read when first asked for; a corrupt one reads as empty (the crash still opens,
    without evaluation)."""
    def get():
        try:
            return decode(msgpack.unpackb(load(), raw=False, strict_map_key=False))
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError,
                msgpack.UnpackException):
            return empty()
    return get


LANGUAGES = ("c", "c++", "rust", "other")


def _types_in(raw) -> TypeTable:
    rows = _sequence(raw, "types")
    if len(rows) > MAX_TYPES:
        raise ValueError("too many types")
    count = len(rows)

    def index(value):
        if value is None:
            return None
        if _number(value) is None or not 0 <= value < count:
            raise ValueError("a type refers to no type")
        return value

    def member(m) -> Member:
        if not isinstance(m, list) or len(m) != 11:
            raise ValueError("a member is not a list of 11 fields")
        return Member(_optional_text(m[0]), index(m[1]), _number(m[2]) or 0, _number(m[3]) or 0, _number(m[4]) or 0,
                      bool(m[5]), bool(m[6]), bool(m[7]), _number(m[8]), bool(m[9]), _text(m[10]))

    def variant(v) -> Variant:
        if not isinstance(v, list) or len(v) != 2:
            raise ValueError("a variant is not a value and a member")
        return Variant(_number(v[0]), member(v[1]))

    types = []
    for row in rows:
        if not isinstance(row, list) or len(row) not in (21, 23):
            raise ValueError("a type is not a list of 21 or 23 fields")
        (kind, name, size, target, const, volatile, signed, charset, length, members, methods, enumerators,
         scoped, flag_enum, parameters, variadic, prototyped, incomplete, containing, language, templates) = row[:21]
        discriminant, variants = row[21:] if len(row) == 23 else (None, [])
        if kind not in Kind.ALL or language not in LANGUAGES:
            raise ValueError("an unknown kind of type")
        types.append(Type(
            kind, _optional_text(name), _number(size), index(target), bool(const), bool(volatile), bool(signed),
            _text(charset), _number(length),
            [member(m) for m in _sequence(members, "members")],
            [Method(_text(m[0]), index(m[1]), bool(m[2]), bool(m[3]), bool(m[4]), bool(m[5]), _text(m[6]))
             for m in _sequence(methods, "methods")],
            [(_text(n), v) for n, v in _sequence(enumerators, "enumerators") if _number(v) is not None],
            bool(scoped), bool(flag_enum), [index(p) for p in _sequence(parameters, "parameters")],
            bool(variadic), bool(prototyped), bool(incomplete), index(containing),
            [(_text(n), index(i)) for n, i in _sequence(templates, "template parameters")], language,
            member(discriminant) if discriminant is not None else None,
            [variant(v) for v in _sequence(variants, "variants")]))
        if types[-1].kind != Kind.VOID and types[-1].kind not in (Kind.FUNCTION,) and \
                any(m.type is None for m in types[-1].members + [v.member for v in types[-1].variants] +
                    ([types[-1].discriminant] if types[-1].discriminant is not None else [])):
            raise ValueError("a member without a type")
    return TypeTable(types)


def _symbols_in(raw) -> SymbolTable:
    symbols = []
    for name, address, size, kind, type_id, module, alias, constant, linkage in _sequence(raw, "symbols")[:MAX_SYMBOLS]:
        if _number(address) is None or kind not in (FUNCTION, OBJECT):
            raise ValueError("a bad symbol")
        symbols.append(Symbol(_text(name), address, _number(size) or 0, kind, _number(type_id),
                              _optional_text(module), bool(alias),
                              constant if isinstance(constant, bytes) and len(constant) <= MAX_RAW_BYTES else None,
                              _optional_text(linkage)))
    return SymbolTable(symbols)


def _thread_in(raw_thread: dict, register_sets: list[dict], frame_fields, load_variables,
               frames_left: list[int] | None = None, trusted: bool = False, type_map: list | None = None) -> Thread:
    raw_thread = _mapping(raw_thread, "a thread")
    if not isinstance(raw_thread["tid"], int):
        raise ValueError("a thread without a number")
    thread = Thread(
        tid=raw_thread["tid"], name=_optional_text(raw_thread.get("name")),
        state=_optional_text(raw_thread.get("state")) or "?",
        crashed=bool(raw_thread.get("crashed")), registers=_registers_in(raw_thread.get("registers")),
        unwind_note=_optional_text(raw_thread.get("unwind_note")),
        elided_frames=_number(raw_thread.get("elided_frames")) or 0,
        elided_after=_number(raw_thread.get("elided_after")),
        kernel_frames=[_text(line) for line in _sequence(raw_thread.get("kernel_frames"), "kernel frames")],
    )
    raw_frames = _sequence(raw_thread["frames"], "frames")
    if frames_left is not None:
        kept = max(0, min(MAX_THREAD_FRAMES, frames_left[0]))
        if len(raw_frames) > kept:
            thread.unwind_note = f"{len(raw_frames)} frames in the snapshot; the first {kept} are shown"
            raw_frames = raw_frames[:kept]
        frames_left[0] -= len(raw_frames)
    for position, raw_frame in enumerate(raw_frames):
        if isinstance(raw_frame, list):      # 2.0: positions named by frame_fields
            raw_frame = dict(zip(frame_fields, raw_frame))
        registers_index = raw_frame.get("registers")
        if not isinstance(raw_frame["index"], int) or not isinstance(raw_frame["pc"], int):
            raise ValueError("a frame without a number or pc")
        frame = Frame(
            index=raw_frame["index"], pc=raw_frame["pc"], function=_optional_text(raw_frame.get("function")),
            file=_optional_text(raw_frame.get("file")), line=_number(raw_frame.get("line")),
            column=_number(raw_frame.get("column")), module=_optional_text(raw_frame.get("module")),
            module_offset=_number(raw_frame.get("module_offset")),
            inline=bool(raw_frame.get("inline")), trust=_optional_text(raw_frame.get("trust")) or Trust.CFI,
            sp=_number(raw_frame.get("sp")), cfa=_number(raw_frame.get("cfa")),
            symbol=_optional_text(raw_frame.get("symbol")),
            symbol_offset=_number(raw_frame.get("symbol_offset")),
            registers=register_sets[registers_index] if isinstance(registers_index, int)
            and 0 <= registers_index < len(register_sets) else {},
        )
        frame._variables_loader = _frame_variables(load_variables, position, trusted, type_map)
        thread.frames.append(frame)
    return thread


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
            try:
                threads = load_chunk()
                packed = threads[position] if isinstance(threads, list) and 0 <= position < len(threads) else None
                data = packed.data if isinstance(packed, msgpack.ExtType) else b""
                cache.append(msgpack.unpackb(data, raw=False, strict_map_key=False) if data else [])
            except Exception:
                cache.append([])
        return cache[0]

    return get


def _trusted_variable(raw) -> Variable:
    """A variable this program encoded a moment ago (a forked capture's half): no checks."""
    name, type_, value, kind, address, size, note, children, omitted = raw[:9]
    return Variable(name, type_, value, kind, address, size, note, [_trusted_variable(c) for c in children],
                    omitted, *raw[9:])


def _frame_variables(load_thread, position: int, trusted: bool = False, type_map: list | None = None):
    read = _trusted_variable if trusted else _variable_in

    def mapped(raw):
        variable = read(raw)
        if type_map is not None and variable.type_id is not None:
            local = variable.type_id
            variable.type_id = type_map[local] if isinstance(local, int) and 0 <= local < len(type_map) else None
        return variable

    def load() -> tuple[list[Variable], list[Variable]]:
        frames = load_thread()
        if not isinstance(frames, list) or position >= len(frames):
            return [], []
        try:
            args, local_vars = frames[position]
            return [mapped(v) for v in args], [mapped(v) for v in local_vars]
        except Exception:   # a corrupt entry: the frame shows no variables
            return [], []

    return load
