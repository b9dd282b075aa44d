"""Names for the mappings a core leaves unnamed, as /proc/PID/maps names them: a thread's
stack, the heap brk grew, the vDSO, vsyscall. A core's file note lists only mappings backed
by a file; the others are found from what the crash holds."""

from __future__ import annotations

from hydra.model.crash import Crash, MapEntry

VSYSCALL = 0xFFFFFFFFFF600000
BRK_RANDOM = 1 << 30           # arch_randomize_brk's range on x86-64 (32 MiB on 32-bit)


def map_labels(crash: Crash) -> dict[int, str]:
    """Map entry start -> its name, for every entry with a file or a recognised role."""
    cached = crash._indexes.get("map_labels")
    if cached is not None and cached[0] == len(crash.memory_map):
        return cached[1]
    labels: dict[int, str] = {}
    entries = sorted(crash.memory_map, key=lambda entry: entry.start)
    for entry in entries:
        if entry.path:
            labels[entry.start] = entry.path
    for thread in crash.threads:
        sp = thread.frames[0].sp if thread.frames else thread.registers.get("rsp", thread.registers.get("sp"))
        entry = crash.map_entry_at(sp) if sp is not None else None
        if entry is not None and not entry.path:
            labels[entry.start] = f"[stack {thread.tid}]" if len(crash.threads) > 1 else "[stack]"
    for module in crash.modules:
        if "vdso" in module.name or "linux-gate" in module.name:
            entry = crash.map_entry_at(module.base)
            if entry is not None and not entry.path:
                labels[entry.start] = "[vdso]"
    for entry in entries:
        if entry.start == VSYSCALL:
            labels[entry.start] = "[vsyscall]"
    heap = _brk_heap(crash, entries, labels)
    if heap is not None:
        labels[heap.start] = "[heap]"
    crash._indexes["map_labels"] = (len(crash.memory_map), labels)
    return labels


def _brk_heap(crash: Crash, entries: list[MapEntry], labels: dict[int, str]) -> MapEntry | None:
    """The heap brk grows: the first anonymous writable mapping after the executable's last
    one, within the 1 GiB x86-64's kernel randomises its start by, and no thread's stack."""
    executable = crash.process.executable
    ends = [entry.end for entry in entries if executable and entry.path == executable]
    if not ends and crash.modules:
        main = crash.modules[0]
        ends = [main.base + main.size]
    if not ends:
        return None
    after = max(ends)
    for entry in entries:
        if entry.start < after or entry.start in labels:
            continue
        if entry.start - after > BRK_RANDOM:
            return None
        if "w" in entry.perms and not entry.path:
            return entry
        if entry.path:
            return None
    return None


def label_of(crash: Crash, entry: MapEntry) -> str:
    return map_labels(crash).get(entry.start, "")
