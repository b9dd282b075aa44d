"""Names of the mappings a core leaves unnamed, against the kernel's /proc/PID/maps of the
same process, copied by the program before it crashed."""

from __future__ import annotations

from pathlib import Path

from hydra.model.regions import map_labels


def test_heap_stack_and_vdso_are_named_as_the_kernel_names_them(crashed, capture):
    program = crashed("own_maps.c", "-O0")
    crash = capture(program)
    kernel = {}
    for line in (Path(program.core).parent / "maps.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[5].startswith("["):
            kernel[int(parts[0].split("-")[0], 16)] = parts[5]
    labels = map_labels(crash)
    assert "[heap]" in kernel.values() and "[vdso]" in kernel.values()
    for start, name in kernel.items():
        if name in ("[heap]", "[vdso]", "[vsyscall]"):
            assert labels.get(start) == name, (hex(start), name, labels.get(start))
        if name == "[stack]":      # the main thread's
            assert labels.get(start) == f"[stack {crash.process.pid}]"
    # nothing else is called a heap
    assert list(labels.values()).count("[heap]") == 1
    # the thread that faulted runs on a stack of its own, named after it
    assert f"[stack {crash.crashed_tid}]" in labels.values()
