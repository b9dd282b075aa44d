"""Evidence around the fault: aliases of the bad address, glibc heap chunks, bad arguments to
memory functions, possible bit flips, and mutexes threads wait on for each other."""

from __future__ import annotations

import struct

from hydra.analysis.api import AnalysisContext, base_function_name, runtime_module
from hydra.analysis.faults import NEAR_NULL, pointer_value
from hydra.analysis.instruction import is_canonical

STACK_SCAN = 64 << 10                 # bytes of each captured stack searched for aliases
MEMORY_FUNCTIONS = {"memcpy", "memmove", "memset", "strcpy", "stpcpy", "strcat", "realloc", "free"}
MUTEX_LOCK = ("pthread_mutex_lock", "__pthread_mutex_lock", "__pthread_mutex_lock_full", "__lll_lock_wait",
              "lll_mutex_lock_optimized", "___pthread_mutex_lock")
FUTEX_SYSCALL = 202


def analyze_aliases(context: AnalysisContext) -> None:
    address = context.notes.get("fault_address")
    crashed = context.faulting_thread
    if not isinstance(address, int) or address < NEAR_NULL or crashed is None:
        return
    found = []
    for thread in context.crash.threads:
        if thread is crashed:
            continue
        for name, value in thread.registers.items():
            if value == address:
                found.append((f"thread {thread.tid} register {name}", thread.tid, None))
    word = struct.pack("<Q" if context.pointer_size == 8 else "<I", address)
    for region in context.crash.memory.regions:
        if region.kind != "stack":
            continue
        data = region.data[:STACK_SCAN]
        at = data.find(word)
        while at >= 0 and len(found) < 16:
            if at % context.pointer_size == 0:
                slot = region.start + at
                owner = next((t for t in context.crash.threads
                              if t.registers.get("rsp", t.registers.get("esp", -1)) is not None
                              and region.start <= t.registers.get("rsp", t.registers.get("esp", -1)) < region.end), None)
                found.append((f"stack slot 0x{slot:x}" + (f" of thread {owner.tid}" if owner else ""),
                              owner.tid if owner else None, slot))
            at = data.find(word, at + 1)
    for text, tid, _slot in found[:16]:
        context.annotate(f"alias of the fault address 0x{address:x}: {text}", tid=tid, source="aliases")


MAX_CHUNKS = 200_000        # chunks walked in a heap before giving up (saying nothing)
MIN_CHUNK = 32


def analyze_heap(context: AnalysisContext) -> None:
    """Pointers near the fault into glibc's heap: the chunk's size and whether it is free."""
    thread = context.faulting_thread
    if thread is None or context.pointer_size != 8:
        return
    candidates: list[tuple[int, str, int | None, str | None]] = []
    address = context.notes.get("fault_address")
    if isinstance(address, int) and address >= NEAR_NULL:
        candidates.append((address, "the fault address", 0, None))
    first_code = next((f.index for f in thread.frames if f.module), 0)   # past a wild pc
    for name in ("rdi", "rsi", "rdx", "rcx", "rax", "rbx"):
        value = thread.registers.get(name)
        if value and value >= NEAR_NULL:
            candidates.append((value, f"register {name}", first_code, None))
    for frame in thread.frames[:8]:
        if runtime_module(frame.module):
            continue          # malloc's and the C library's own variables say nothing new
        for var in frame.args + frame.locals:
            value = pointer_value(var) if "*" in var.type else None
            if value and value >= NEAR_NULL:
                kind = "args" if var.kind == "arg" else "locals"
                candidates.append((value, f"{var.name} in {frame.display_name}", frame.index, f"{kind}/{var.name}"))
    key_address = context.symbol_address("tcache_key")
    tcache_key = context.read_pointer(key_address) if key_address else None
    seen = set()
    for pointer, what, frame_index, variable in candidates:
        if pointer in seen:
            continue
        seen.add(pointer)
        if not _in_heap(context, pointer):
            continue
        chunk = _chunk(context, pointer, tcache_key)
        if chunk is None:
            continue
        start, size, state = chunk
        text = f"{what} 0x{pointer:x} is in a heap chunk of {size} bytes at 0x{start:x}, {state}"
        severity = "info"
        if state.startswith("free") and (what == "the fault address" or frame_index == first_code):
            severity = "error"
            context.classify("use-after-free", f"0x{pointer:x} in a freed chunk of {size} bytes")
            text += ": use after free"
        context.annotate(text, severity=severity, tid=thread.tid, frame=frame_index, variable=variable, source="heap")


def _in_heap(context: AnalysisContext, pointer: int) -> bool:
    """In [heap], or in an anonymous writable mapping that is no thread's stack (an arena)."""
    entry = context.mapped(pointer)
    if entry is None or not entry.perms.startswith("rw"):
        return False
    if entry.path == "[heap]":
        return True
    if entry.path:
        return False
    return not any(entry.start <= t.registers.get("rsp", -1) < entry.end for t in context.crash.threads)


def _chunk(context: AnalysisContext, pointer: int, tcache_key: int | None) -> tuple[int, int, str] | None:
    """The glibc chunk holding pointer, found by walking the heap it is in from the start of
    its mapping, chunk by chunk, to the top chunk that ends the mapping: the main heap (a
    core names no [heap]: it is the anonymous mapping that walks so), or a large block
    malloc mapped alone. None when anything does not fit: a claim about the heap is made
    only when the heap says it."""
    entry = context.mapped(pointer)
    if entry is None:
        return None
    chunks = context.notes.setdefault("heap_walks", {})
    if entry.start not in chunks:
        chunks[entry.start] = _walk_heap(context, entry.start, entry.end)
    found = chunks[entry.start]
    if found is None:
        return None
    for start, size, mmapped in found:
        if start <= pointer < start + size:
            if pointer < start + 16:
                return None       # its header: no pointer a program holds
            if mmapped:
                return start + 16, size - 16, "mmapped, in use"
            following = start + size
            if following + 16 > entry.end:
                return start + 16, size - 16, "free (the top chunk: never allocated)"
            next_field = context.read_pointer(following + 8)
            if next_field is None:
                return None
            if tcache_key is not None and context.read_pointer(start + 24) == tcache_key:
                return start + 16, size - 16, "free (in a tcache bin)"
            return start + 16, size - 16, "in use" if next_field & 1 else "free"
    return None


def _walk_heap(context: AnalysisContext, start: int, end: int) -> list[tuple[int, int, bool]] | None:
    """(start, size, mmapped) of each chunk from start to end, or None when they do not tile
    [start, end) exactly as glibc lays a heap or a mapped chunk out."""
    first = context.read_pointer(start + 8)
    if first is not None and first & 2:
        size = first & ~7
        # a chunk mmapped on its own: one chunk, the whole mapping (to the page)
        return [(start, size, True)] if size >= MIN_CHUNK and start + size <= end and end - start - size < 4096 \
            else None
    chunks = []
    address = start
    for _ in range(MAX_CHUNKS):
        if address == end:
            return chunks
        size_field = context.read_pointer(address + 8)
        if size_field is None:
            return None
        size = size_field & ~7
        if size < MIN_CHUNK or size % 16 or address + size > end or size_field & 2:
            return None
        chunks.append((address, size, False))
        address += size
    return None


def analyze_arguments(context: AnalysisContext) -> None:
    """memcpy & co in frame 0: their arguments are still in the argument registers."""
    crash = context.crash
    if crash.process.architecture != "x86_64":
        return
    for thread in crash.threads:
        if not thread.frames:
            continue
        name = base_function_name(thread.frames[0].function)
        if name not in MEMORY_FUNCTIONS:
            continue
        regs = thread.registers
        dst, src, size = regs.get("rdi"), regs.get("rsi"), regs.get("rdx")
        problems = []
        if name in ("memcpy", "memmove", "memset", "strcpy", "stpcpy", "strcat") and dst is not None:
            entry = crash.map_entry_at(dst)
            if entry is None:
                problems.append(f"the destination 0x{dst:x} is not mapped")
            elif "w" not in entry.perms:
                problems.append(f"the destination 0x{dst:x} is read-only ({entry.perms} {entry.path or ''})".rstrip())
            elif name in ("memcpy", "memmove", "memset") and size is not None and dst + size > entry.end:
                problems.append(f"{size} bytes from 0x{dst:x} run {dst + size - entry.end} bytes past the end of its region")
        if name in ("memcpy", "memmove", "strcpy") and src is not None:
            if crash.map_entry_at(src) is None:
                problems.append(f"the source 0x{src:x} is not mapped")
        if name == "memcpy" and None not in (dst, src, size) and size and abs(dst - src) < size:
            problems.append(f"source and destination overlap ({size} bytes, 0x{src:x} and 0x{dst:x}): use memmove")
        if name in ("free", "realloc") and dst is not None and dst % 16 and dst >= NEAR_NULL:
            problems.append(f"0x{dst:x} is not a pointer malloc returns (not 16-byte aligned)")
        for problem in problems:
            context.annotate(f"{name}: {problem}", severity="warning", tid=thread.tid, frame=0, source="arguments")


def analyze_bit_flips(context: AnalysisContext) -> None:
    """Addresses one flipped bit away from the fault address that would have been valid."""
    address = context.notes.get("fault_address")
    direction = context.notes.get("direction", "read")
    crash = context.crash
    thread = context.faulting_thread
    if not isinstance(address, int) or thread is None or not crash.memory_map or context.pointer_size != 8:
        return
    if crash.map_entry_at(address) is not None or context.has("stack-overflow") or context.has("null-dereference"):
        return        # a null pointer plus a member's offset explains the address better
    canonical = is_canonical(address)
    bits = range(1, 48) if canonical else range(48, 64)
    need = {"read": "r", "write": "w", "exec": "x"}.get(str(direction), "r")
    values = [v for k, v in thread.registers.items() if not k.startswith("xmm")]
    results = []
    for bit in bits:
        flipped = address ^ (1 << bit)
        entry = crash.map_entry_at(flipped)
        if flipped != 0 and (entry is None or need not in entry.perms):
            continue
        weights = [0.25]
        if not canonical:
            weights.append(0.90)
        if flipped == 0:
            weights.append(0.25 if address <= 8192 else 0.5)
        near = sum(1 for v in values if abs(v - flipped) <= 4096)
        if near:
            weights.append({1: 0.5, 2: 0.55, 3: 0.6}.get(near, 0.65))
        confidence = 1.0
        for weight in weights:
            confidence *= 1 - weight
        results.append((1 - confidence, bit, flipped))
    for confidence, bit, flipped in sorted(results, reverse=True)[:3]:
        context.annotate(f"possible bit flip: 0x{address:x} with bit {bit} flipped is 0x{flipped:x}, "
                         f"which is {'NULL' if flipped == 0 else 'mapped'} (confidence {confidence:.2f})",
                         tid=thread.tid, frame=0, source="bit-flips")


def analyze_deadlock(context: AnalysisContext) -> None:
    """Threads blocked locking mutexes that other blocked threads own, in a cycle."""
    crash = context.crash
    waits: dict[int, tuple[int, int]] = {}      # waiter -> (mutex, owner)
    for thread in crash.threads:
        mutex = _awaited_mutex(thread)
        if mutex is None:
            continue
        owner = context.read_u32(mutex + 8)      # pthread_mutex_t.__data.__owner
        if owner:
            waits[thread.tid] = (mutex, owner)
            context.annotate(f"waits for mutex 0x{mutex:x}, held by thread {owner}", tid=thread.tid,
                             frame=0, source="deadlock")
    for start in waits:
        path = [start]
        current = start
        while current in waits and len(path) <= len(waits):
            current = waits[current][1]
            if current == start:
                cycle = " -> ".join(str(t) for t in path + [start])
                context.classify("deadlock", f"threads {cycle}")
                return
            if current in path:
                break
            path.append(current)


def _awaited_mutex(thread) -> int | None:
    for frame in thread.frames[:6]:
        if base_function_name(frame.function) in MUTEX_LOCK or (frame.function or "").endswith("pthread_mutex_lock"):
            for var in frame.args:
                if var.name == "mutex":
                    value = pointer_value(var)
                    if value:
                        return value
            if thread.registers.get("orig_rax") == FUTEX_SYSCALL and thread.registers.get("rdi"):
                return thread.registers["rdi"]        # the futex word is the mutex's first field
    return None
