"""The disassembly around a pc decodes a window, whatever the size of the captured region."""

from __future__ import annotations

import time

from hydra.model.crash import Crash, Process
from hydra.model.memory import Memory, MemoryRegion
from hydra.tui.code import instruction_at, instructions_around


def _crash_with_code(size: int, pc_offset: int) -> tuple[Crash, int]:
    crash = Crash(origin="snapshot")
    crash.process = Process(architecture="x86_64")
    base = 0x400000
    crash.memory = Memory([MemoryRegion(base, size, "code", b"\x90" * size)])     # nop nop nop ...
    return crash, base + pc_offset


def test_a_region_of_megabytes_is_decoded_only_around_the_pc():
    crash, pc = _crash_with_code(8 << 20, 4 << 20)
    started = time.perf_counter()
    decoded = instructions_around(crash, pc)
    assert time.perf_counter() - started < 2.0
    addresses = [address for address, _, _ in decoded]
    assert pc in addresses
    assert addresses[0] >= pc - 256 and addresses[-1] < pc + 4096
    assert instruction_at(crash, pc) == "nop"


def test_the_window_stops_at_the_end_of_the_region():
    crash, pc = _crash_with_code(64, 60)
    addresses = [address for address, _, _ in instructions_around(crash, pc)]
    assert addresses[0] == pc - 60 and addresses[-1] == pc + 3
