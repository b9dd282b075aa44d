"""Our ctypes calls into capstone's library against capstone's own Python binding, the oracle:
the same instructions, texts, groups, registers and memory operands, on real code (this
machine's libc and Python) and on random bytes, for every architecture Hydra decodes."""

import random
import sys

import pytest

from hydra.analysis import libcapstone
from hydra.analysis.instruction import disassemble, engine

capstone = pytest.importorskip("capstone")
from capstone import x86 as cs_x86  # noqa: E402


def _text_of(path: str, limit: int = 1 << 20) -> bytes:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as handle:
        section = ELFFile(handle).get_section_by_name(".text")
        return section.data()[:limit]


def _real_code() -> bytes:
    import os

    libc = next((p for p in ("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6") if os.path.exists(p)), None)
    return (_text_of(libc) if libc else b"") + _text_of(os.path.realpath(sys.executable), 1 << 18)


def _samples(code: bytes, count: int, seed: int) -> list[bytes]:
    chance = random.Random(seed)
    out = [code[at:at + 16] for at in (chance.randrange(len(code) - 16) for _ in range(count))] if code else []
    return out + [bytes(chance.randrange(256) for _ in range(16)) for _ in range(count)]


def test_the_library_is_capstone_5_and_loads_once():
    assert libcapstone.load() is not None
    assert libcapstone.load() is libcapstone.load()
    assert capstone.cs_version()[0] == 5


@pytest.mark.parametrize("mode, registers", [(capstone.CS_MODE_64, 64), (capstone.CS_MODE_32, 32)])
def test_details_of_x86_instructions_are_capstones(mode, registers):
    ours = engine("x86_64" if registers == 64 else "x86", detail=True)
    theirs = capstone.Cs(capstone.CS_ARCH_X86, mode)
    theirs.detail = True
    compared = 0
    for sample in _samples(_real_code(), 3000, registers):
        expected = next(theirs.disasm(sample, 0x401000), None)
        got = ours.first(sample, 0x401000)
        if expected is None:
            assert got is None
            continue
        compared += 1
        assert (got.address, got.size, got.mnemonic, got.op_str) == \
            (expected.address, expected.size, expected.mnemonic, expected.op_str)
        assert got.groups == {expected.group_name(g) for g in expected.groups}
        read, written = expected.regs_access()
        assert got.read == [expected.reg_name(r) for r in read]
        assert got.written == [expected.reg_name(r) for r in written]
        assert len(got.operands) == len(expected.operands)
        for mine, oracle in zip(got.operands, expected.operands):
            assert (mine.type, mine.size, mine.access) == (oracle.type, oracle.size, oracle.access)
            if oracle.type == cs_x86.X86_OP_REG:
                assert mine.reg == expected.reg_name(oracle.reg)
            if oracle.type == cs_x86.X86_OP_MEM:
                memory = oracle.mem
                name = lambda r: expected.reg_name(r) if r else None  # noqa: E731
                assert (mine.segment, mine.base, mine.index, mine.scale, mine.disp) == \
                    (name(memory.segment), name(memory.base), name(memory.index), memory.scale, memory.disp)
    assert compared > 2000


@pytest.mark.parametrize("architecture, arch, mode", [
    ("x86_64", capstone.CS_ARCH_X86, capstone.CS_MODE_64),
    ("aarch64", capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM),
    ("arm", capstone.CS_ARCH_ARM, capstone.CS_MODE_ARM)])
def test_runs_of_instructions_are_capstones_in_both_syntaxes(architecture, arch, mode):
    samples = _samples(_real_code(), 1000, 3)
    for att in ((False, True) if arch == capstone.CS_ARCH_X86 else (False,)):
        theirs = capstone.Cs(arch, mode)
        if att:
            theirs.syntax = capstone.CS_OPT_SYNTAX_ATT
        ours = engine(architecture, att=att)
        decoded = 0
        for sample in samples:
            expected = list(theirs.disasm_lite(sample, 0x1000))
            assert list(ours.disasm_lite(sample, 0x1000)) == expected
            decoded += len(expected)
        assert decoded > 1000
    if architecture == "arm":
        thumb = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB)
        for sample in samples:
            assert list(engine("arm", thumb=True).disasm_lite(sample, 0x1001, 2)) == \
                list(thumb.disasm_lite(sample, 0x1001, 2))


def test_disassemble_spells_att_as_gdb():
    # 8b 07: mov (%rdi),%eax; c3: ret (capstone spells the operand size, as objdump does)
    assert disassemble(b"\x8b\x07\xc3", 0x10, "x86_64", 5) == [(0x10, 2, "movl   (%rdi),%eax"), (0x12, 1, "retq")]
    assert disassemble(b"\xff\xff", 0, "x86_64", 5) == []
    assert disassemble(b"\x90", 0, "mips", 5) == []
