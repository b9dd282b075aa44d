"""The memory a snapshot keeps: stacks from sp upwards, code around every pc, the objects
variables point at, globals and what they point at, and more on request (--memory); read
from the core in the pieces it has."""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

import drgn

from hydra.capture import environment
from hydra.capture.corefile import CoreInfo
from hydra.capture.typetable import TypedGlobal
from hydra.capture.values import ValueReader
from hydra.model.crash import Crash
from hydra.model.memory import MemoryRegion

if TYPE_CHECKING:
    from hydra.capture.walker import FrameWalker


# code bytes kept around pcs: the faulting instruction with context on both sides,
# and for callers the instructions leading up to the call
TOP_CODE_CONTEXT = (192, 128)
CALLER_CODE_CONTEXT = (96, 16)
STACK_RED_ZONE = 128
STACK_LIMIT = 4 << 20         # stack bytes kept per thread from sp upwards
STACK_GUARD_GAP = 1 << 20     # Linux's gap below a stack (stack_guard_gap): an overflowed sp is in it
STACK_TOP_KEEP = 64 << 10     # and the top of the stack (argv, env, auxv) beyond that
ADDRESS_END = (1 << 64) - 1   # no read reaches the last byte: drgn counts the end in 64 bits
FOLLOWED_GLOBALS = 256       # globals whose pointers' targets (a string, an object) a snapshot keeps


def follow_global_pointers(prog: drgn.Program, reader: ValueReader, table, typed_globals) -> None:
    """What globals point at, themselves or through their members and elements (a string
    literal in .rodata, a heap object), is kept as for locals: `print greeting` shows its text
    from the snapshot."""
    followed = 0
    for typed in typed_globals:
        if followed >= FOLLOWED_GLOBALS:
            break
        type_ = table.get(table.strip_typedefs(typed.type_id))
        if type_ is None or type_.kind not in ("pointer", "struct", "class", "union", "array") or \
                typed.variable.function:
            continue
        try:
            obj = prog.variable(typed.variable.name)
        except (LookupError, ValueError, NotImplementedError):      # drgn reads no long double object
            continue
        if obj.address_ != typed.address:
            continue
        followed += 1
        try:
            reader.variable(typed.variable.name, obj, "global")
        except Exception:       # a hostile value: its target is simply not kept
            continue


def uncovered(low: int, high: int, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [low, high) outside every sorted (start, end) range."""
    parts = []
    for start, end in covered:
        if end <= low or start >= high:
            continue
        if start > low:
            parts.append((low, start))
        low = max(low, end)
    if low < high:
        parts.append((low, high))
    return parts


def capture_memory(prog: drgn.Program, info: CoreInfo, crash: Crash, reader: ValueReader,
                   walker: FrameWalker, secrets: list[bytes], memory: str = "default",
                   typed_globals: list[TypedGlobal] = ()) -> None:
    ranges: list[tuple[int, int, str]] = _global_ranges(info, crash, typed_globals)
    ranges += _more_memory(info, crash, memory)
    segments = sorted(info.segments, key=lambda s: s.vaddr)
    starts = [s.vaddr for s in segments]
    for thread in crash.threads:
        sp = thread.registers.get(info.arch.sp)
        if sp is None:
            continue
        segment = _stack_segment(segments, starts, sp)
        if segment is None:
            continue
        top = segment.vaddr + segment.memsz
        low = max(segment.vaddr, sp - STACK_RED_ZONE)
        ranges.append((low, min(top, low + STACK_LIMIT), "stack"))
        if top - low > STACK_LIMIT:
            ranges.append((max(low + STACK_LIMIT, top - STACK_TOP_KEEP), top, "stack"))
    for pc, innermost in walker.pcs.items():
        before, after = TOP_CODE_CONTEXT if innermost else CALLER_CODE_CONTEXT
        ranges.append((max(0, pc - before), pc + after, "code"))
    for address, size in reader.ranges:
        ranges.append((address, address + size, "object"))
    keep_memory(prog, crash, ranges, secrets)


def keep_memory(prog: drgn.Program, crash: Crash, ranges: list[tuple[int, int, str]], secrets: list[bytes]) -> None:
    """The core's bytes in ranges ([start, end, kind]) into the snapshot's memory, the
    environment's secrets blanked."""
    for start, end, kind in _merge(ranges):
        start, end = max(0, start), min(end, ADDRESS_END)      # a wild pc near the top of the space
        if start >= end:
            continue
        data = _read_available(prog, start, end)
        for piece_start, piece in data:
            crash.memory.add(MemoryRegion(piece_start, len(piece), kind, _data=environment.scrub(piece, secrets)))


def _stack_segment(segments: list, starts: list[int], sp: int):
    """The segment of the stack sp is in (segments sorted by address, starts their
    addresses); for a stack that overflowed, sp may be just below it, in the guard gap (the
    faulting instruction moved it there before writing)."""
    at = bisect.bisect_right(starts, sp)
    if at and sp < segments[at - 1].vaddr + segments[at - 1].memsz:
        return segments[at - 1]
    if at < len(segments) and segments[at].vaddr - sp <= STACK_GUARD_GAP and segments[at].flags & 2:
        return segments[at]
    return None


GLOBAL_DATA_BYTES = 16 << 20     # the executable's writable data and globals kept by default


def _global_ranges(info: CoreInfo, crash: Crash, typed_globals) -> list[tuple[int, int, str]]:
    """The globals, then the executable's writable data, then that of the libraries whose
    globals were read, within GLOBAL_DATA_BYTES."""
    executable = crash.process.executable
    def size_of(typed) -> int:
        type_ = crash.types.get(typed.type_id)
        return max(1, type_.size or 8) if type_ is not None else 8

    libraries = {g.module for g in typed_globals} - {executable}
    spans = [(m.base, m.base + m.size) for m in crash.modules if m.path in libraries]
    wanted = [(g.address, g.address + size_of(g)) for g in typed_globals if g.variable.constant is None]
    wanted += [(entry.start, entry.end) for entry in crash.memory_map
               if entry.path == executable and "w" in entry.perms]
    wanted += [(entry.start, entry.end) for entry in crash.memory_map if "w" in entry.perms and
               any(low <= entry.start < high for low, high in spans)]     # a path may name it otherwise
    ranges, left = [], GLOBAL_DATA_BYTES
    for start, end in wanted:
        size = min(end - start, left)
        if size <= 0:
            break
        ranges.append((start, start + size, "global"))
        left -= size
    return ranges


def _more_memory(info: CoreInfo, crash: Crash, memory: str) -> list[tuple[int, int, str]]:
    """--memory heap: every anonymous writable mapping that is not a thread's stack (glibc's
    heap and arenas, mmap'd blocks); --memory all: every writable mapping."""
    if memory == "default":
        return []
    stacks = [thread.registers.get(info.arch.sp) for thread in crash.threads]
    ranges = []
    for entry in crash.memory_map:
        if "w" not in entry.perms:
            continue
        anonymous = entry.path is None
        stack = any(sp is not None and entry.start <= sp < entry.end for sp in stacks)
        if memory == "all" or (anonymous and not stack):
            ranges.append((entry.start, entry.end, "heap" if anonymous and not stack else "data"))
    return ranges


def _merge(ranges: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[list] = []
    for start, end, kind in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            if kind == "stack":
                merged[-1][2] = kind
        else:
            merged.append([start, end, kind])
    return [tuple(item) for item in merged]


def bytes_or_none(prog: drgn.Program, address: int, size: int) -> bytes | None:
    try:
        return prog.read(address, size)
    except (drgn.FaultError, OSError, ValueError, OverflowError):
        return None


def _read_available(prog: drgn.Program, start: int, end: int) -> list[tuple[int, bytes]]:
    """Read [start, end) in page-aligned pieces, skipping what the core does not hold."""
    try:
        return [(start, prog.read(start, end - start))]
    except (drgn.FaultError, OSError):   # OSError: a segment pointing outside a corrupt core
        pass
    pieces: list[tuple[int, bytes]] = []
    cursor = start
    run_start = None
    run = bytearray()
    while cursor < end:
        step = min(end, (cursor & ~0xFFF) + 0x1000) - cursor
        try:
            chunk = prog.read(cursor, step)
        except (drgn.FaultError, OSError):
            # as much of the page as can be read: code near the end of a binary's text
            # segment is read from the file, which ends before the page does
            prefix = _readable_prefix(prog, cursor, step)
            if prefix:
                if run_start is None:
                    run_start = cursor
                run += prefix
            if run:
                pieces.append((run_start, bytes(run)))
                run = bytearray()
            run_start = None
        else:
            if run_start is None:
                run_start = cursor
            run += chunk
        cursor += step
    if run:
        pieces.append((run_start, bytes(run)))
    return pieces


def _readable_prefix(prog: drgn.Program, start: int, size: int) -> bytes:
    """The longest readable start of [start, start + size), to 16 bytes, by halving."""
    low, high, found = 0, size, b""
    while high - low > 16:
        middle = (low + high) // 2
        try:
            found = prog.read(start, middle)
            low = middle
        except (drgn.FaultError, OSError):
            high = middle
    return found
