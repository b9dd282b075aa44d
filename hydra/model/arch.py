"""What differs between architectures: register sets in core notes and their names."""

from __future__ import annotations

from hydra.model.record import record


EM_X86_64 = 62
EM_AARCH64 = 183

MACHINE_NAMES = {
    3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390", 40: "arm", 43: "sparcv9",
    EM_X86_64: "x86_64", EM_AARCH64: "aarch64", 243: "riscv",
}


@record(frozen=True)
class Architecture:
    name: str
    machine: int
    gp_registers: tuple[str, ...]     # the order of pr_reg in NT_PRSTATUS
    pc: str
    sp: str
    fp: str
    # registers shown first, in this order, by `hydra bt --full` and the Registers tab
    display_order: tuple[str, ...]
    # the kernel's struct pt_regs, in drgn's register names: how an unwind is restarted
    pt_regs: tuple[str, ...] = ()
    # where a call leaves the return address: on the stack (x86) or in a register (arm)
    return_address_on_stack: bool = True
    # a signal frame as the kernel lays it out: where the interrupted registers are, from
    # the sp a handler returns with, and their order (struct sigcontext); () where unknown
    sigcontext_offset: int = 0
    sigcontext: tuple[str, ...] = ()
    # DWARF's register numbers, as names; and the numbers of the registers a call keeps
    # (what a caller's frame still holds at its return address)
    dwarf_registers: tuple[str, ...] = ()
    preserved: frozenset[int] = frozenset()


X86_64 = Architecture(
    name="x86_64",
    machine=EM_X86_64,
    gp_registers=(
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
        "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss", "fs_base",
        "gs_base", "ds", "es", "fs", "gs",
    ),
    pc="rip",
    sp="rsp",
    fp="rbp",
    display_order=(
        "rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
        "r11", "r12", "r13", "r14", "r15", "rflags", "fs_base", "gs_base", "cs", "ss",
        "ds", "es", "fs", "gs", "orig_rax",
    ),
    pt_regs=(
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
        "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss",
    ),
    dwarf_registers=("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12",
                     "r13", "r14", "r15", "rip"),
    preserved=frozenset({3, 6, 7, 12, 13, 14, 15}),      # rbx, rbp, rsp, r12 to r15
    sigcontext_offset=40,       # uc_flags, uc_link, uc_stack, then uc_mcontext
    sigcontext=("r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi", "rbp", "rbx", "rdx", "rax",
                "rcx", "rsp", "rip", "rflags"),
)

AARCH64 = Architecture(
    name="aarch64",
    machine=EM_AARCH64,
    gp_registers=tuple(f"x{i}" for i in range(31)) + ("sp", "pc", "pstate"),
    pc="pc",
    sp="sp",
    fp="x29",
    display_order=("pc", "sp", "x29", "x30") + tuple(f"x{i}" for i in range(29)) + ("pstate",),
    pt_regs=tuple(f"x{i}" for i in range(31)) + ("sp", "pc", "pstate"),
    return_address_on_stack=False,
    dwarf_registers=tuple(f"x{i}" for i in range(31)) + ("sp",),
    preserved=frozenset(range(19, 30)) | {31},           # x19 to x29, sp
)

ARCHITECTURES = {arch.machine: arch for arch in (X86_64, AARCH64)}

# 32-bit register sets, which only minidumps bring: shown first, in this order
X86_DISPLAY = ("eip", "esp", "ebp", "ebx", "esi", "edi", "eax", "ecx", "edx", "eflags",
               "cs", "ds", "es", "fs", "gs", "ss")
ARM_DISPLAY = ("pc", "sp", "r11", "lr") + tuple(f"r{i}" for i in range(11)) + ("r12", "cpsr")
DISPLAY_ORDER = {X86_64.name: X86_64.display_order, AARCH64.name: AARCH64.display_order,
                 "x86": X86_DISPLAY, "arm": ARM_DISPLAY}
WORD_BYTES = {"x86": 4, "arm": 4}       # the rest are 64-bit
# what `sp`, `pc` and `fp` name on each architecture
REGISTER_ROLES = {
    X86_64.name: {"sp": X86_64.sp, "pc": X86_64.pc, "fp": X86_64.fp},
    AARCH64.name: {"sp": AARCH64.sp, "pc": AARCH64.pc, "fp": AARCH64.fp},
    "x86": {"sp": "esp", "pc": "eip", "fp": "ebp"},
    "arm": {"sp": "sp", "pc": "pc", "fp": "r11"},
}


def machine_name(machine: int) -> str:
    return MACHINE_NAMES.get(machine, f"machine {machine}")
