"""The disassembly around a pc decodes a window, whatever the size of the captured region."""

from __future__ import annotations


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
    decoded = instructions_around(crash, pc)
    addresses = [address for address, _, _ in decoded]
    assert pc in addresses
    assert addresses[0] >= pc - 256 and addresses[-1] < pc + 4096
    assert instruction_at(crash, pc) == "nop"


def test_the_window_stops_at_the_end_of_the_region():
    crash, pc = _crash_with_code(64, 60)
    addresses = [address for address, _, _ in instructions_around(crash, pc)]
    assert addresses[0] == pc - 60 and addresses[-1] == pc + 3


def test_arm_code_in_thumb_state_is_decoded_as_thumb():
    from hydra.model.crash import Frame
    from hydra.tui.code import disassembly_lines, is_thumb

    crash = Crash(origin="minidump")
    crash.process = Process(architecture="arm")
    base = 0x10000
    # Thumb: push {r7, lr} (0xb580); add r7, sp, #0 (0xaf00); movs r3, #0 (0x2300); ldr r3, [r3] (0x681b)
    code = bytes.fromhex("80b5 00af 0023 1b68")
    crash.memory = Memory([MemoryRegion(base, len(code), "code", code)])
    frame = Frame(0, base + 6, registers={"pc": base + 6, "cpsr": 0x20})
    assert is_thumb(crash, frame)
    assert instruction_at(crash, base, thumb=True) == "push {r7, lr}"
    lines = disassembly_lines(crash, frame, faulting=True)
    shown = [lines.line(index).plain for index in range(lines.count)]
    assert any(line.startswith("=>") and "ldr" in line and "[r3]" in line for line in shown)
    # the same bytes in ARM state are something else entirely
    assert instruction_at(crash, base) != "push {r7, lr}"
