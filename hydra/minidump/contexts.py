"""CPU contexts of minidump threads: amd64, x86, arm64 (both layouts) and arm.

A context becomes the register dict the model uses, named as gdb and Breakpad name them.
"""

from __future__ import annotations

import struct

from hydra.model.arch import ARM_DISPLAY, X86_DISPLAY
from hydra.model.record import record

# SystemInfo processor_architecture
ARCH_X86, ARCH_ARM, ARCH_AMD64, ARCH_ARM64, ARCH_ARM64_OLD = 0, 5, 9, 12, 0x8003
CPU_NAMES = {ARCH_X86: "x86", ARCH_ARM: "arm", ARCH_AMD64: "amd64", ARCH_ARM64: "arm64",
             ARCH_ARM64_OLD: "arm64", 0x8001: "sparc", 0x8002: "ppc64", 0x8004: "mips64",
             1: "mips", 3: "ppc"}
# The model's architecture names (hydra.model.arch) for the CPUs we unwind.
MODEL_ARCH = {ARCH_X86: "x86", ARCH_ARM: "arm", ARCH_AMD64: "x86_64", ARCH_ARM64: "aarch64",
              ARCH_ARM64_OLD: "aarch64"}

CONTEXT_AMD64 = 0x100000
CONTEXT_X86 = 0x10000
CONTEXT_ARM = 0x40000000
CONTEXT_ARM64 = 0x400000
CONTEXT_ARM64_OLD = 0x80000000


@record(frozen=True)
class CpuLayout:
    name: str
    pointer_size: int
    pc: str
    sp: str
    fp: str
    display_order: tuple[str, ...]
    # registers a callee must preserve: carried into a caller's frame when CFI has no rule
    callee_saved: tuple[str, ...]


AMD64 = CpuLayout("amd64", 8, "rip", "rsp", "rbp",
                  ("rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
                   "r11", "r12", "r13", "r14", "r15", "rflags", "cs", "ds", "es", "fs", "gs", "ss"),
                  ("rbx", "rbp", "r12", "r13", "r14", "r15"))
X86 = CpuLayout("x86", 4, "eip", "esp", "ebp", X86_DISPLAY, ("ebx", "esi", "edi", "ebp"))
ARM64 = CpuLayout("arm64", 8, "pc", "sp", "x29",
                  ("pc", "sp", "x29", "x30") + tuple(f"x{i}" for i in range(29)) + ("cpsr",),
                  tuple(f"x{i}" for i in range(19, 30)))
# Breakpad walks arm frame pointers only on iOS, where r7 is the frame pointer
ARM = CpuLayout("arm", 4, "pc", "sp", "r7", ARM_DISPLAY, ("r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"))
LAYOUTS = {ARCH_AMD64: AMD64, ARCH_X86: X86, ARCH_ARM64: ARM64, ARCH_ARM64_OLD: ARM64, ARCH_ARM: ARM}

_AMD64_GP = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
             "r12", "r13", "r14", "r15", "rip")


def parse_context(raw: bytes, architecture: int) -> dict[str, int]:
    """The registers of one context; raises ValueError when it does not fit the CPU."""
    if architecture == ARCH_AMD64:
        return _amd64(raw)
    if architecture == ARCH_X86:
        return _x86(raw)
    if architecture in (ARCH_ARM64, ARCH_ARM64_OLD):
        return _arm64(raw)
    if architecture == ARCH_ARM:
        return _arm(raw)
    raise ValueError(f"CPU {CPU_NAMES.get(architecture, hex(architecture))} contexts are not supported")


def _check(raw: bytes, cpu: str, minimum: int, full: int, flags_at: int, flag: int) -> None:
    if len(raw) < minimum:
        raise ValueError(f"{cpu} context is {len(raw)} bytes, expected {full}")
    flags, = struct.unpack_from("<I", raw, flags_at)
    if flags & flag == 0:
        raise ValueError(f"context flags 0x{flags:x} are not {cpu}'s")


def _amd64(raw: bytes) -> dict[str, int]:
    _check(raw, "amd64", 256, 1232, 48, CONTEXT_AMD64)
    mxcsr, = struct.unpack_from("<I", raw, 52)
    cs, ds, es, fs, gs, ss, eflags = struct.unpack_from("<HHHHHHI", raw, 56)
    registers = dict(zip(_AMD64_GP, struct.unpack_from("<17Q", raw, 120)))
    registers.update(rflags=eflags, cs=cs, ds=ds, es=es, fs=fs, gs=gs, ss=ss, mxcsr=mxcsr)
    if len(raw) >= 416 + 256:
        for index in range(16):
            low, high = struct.unpack_from("<QQ", raw, 416 + 16 * index)
            registers[f"xmm{index}"] = low | high << 64
    return registers


def _x86(raw: bytes) -> dict[str, int]:
    _check(raw, "x86", 204, 716, 0, CONTEXT_X86)
    gs, fs, es, ds, edi, esi, ebx, edx, ecx, eax, ebp, eip, cs, eflags, esp, ss = struct.unpack_from(
        "<16I", raw, 140)
    return dict(eip=eip, esp=esp, ebp=ebp, ebx=ebx, esi=esi, edi=edi, eax=eax, ecx=ecx, edx=edx,
                eflags=eflags, cs=cs, ds=ds, es=es, fs=fs, gs=gs, ss=ss)


def _arm64(raw: bytes) -> dict[str, int]:
    """Windows' layout (u32 flags, cpsr, x0..x30, sp, pc) or Breakpad's old one (u64 flags,
    x0..x30, sp, pc, then cpsr): the same registers, the same order, cpsr elsewhere."""
    cpsr = None
    if len(raw) >= 272 and struct.unpack_from("<I", raw, 0)[0] & CONTEXT_ARM64:
        cpsr, = struct.unpack_from("<I", raw, 4)
    elif len(raw) >= 276 and struct.unpack_from("<Q", raw, 0)[0] & CONTEXT_ARM64_OLD:
        cpsr, = struct.unpack_from("<I", raw, 272)
    if cpsr is None:
        raise ValueError(f"arm64 context of {len(raw)} bytes has neither arm64 layout")
    values = struct.unpack_from("<33Q", raw, 8)
    registers = {f"x{i}": values[i] for i in range(31)}
    registers.update(sp=values[31], pc=values[32], cpsr=cpsr)
    return registers


def _arm(raw: bytes) -> dict[str, int]:
    _check(raw, "arm", 72, 368, 0, CONTEXT_ARM)
    values = struct.unpack_from("<17I", raw, 4)
    registers = {f"r{i}": values[i] for i in range(13)}
    registers.update(sp=values[13], lr=values[14], pc=values[15], cpsr=values[16])
    return registers
