"""The faulting instruction: what it is, which memory it touched and through which registers."""

from __future__ import annotations

from hydra.model.record import field, record


CANONICAL_LOW = 0x0000800000000000
CANONICAL_HIGH = 0xFFFF800000000000

# capstone's x86 register names for sub-registers, mapped to the 64-bit register we hold
_WIDE = {}
for _name in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp"):
    for _form in (_name, "e" + _name, "r" + _name):
        _WIDE[_form] = "r" + _name
for _index in range(8, 16):
    for _suffix in ("", "d", "w", "b"):
        _WIDE[f"r{_index}{_suffix}"] = f"r{_index}"
_WIDE.update(al="rax", bl="rbx", cl="rcx", dl="rdx", sil="rsi", dil="rdi", bpl="rbp", spl="rsp", rip="rip")
_WIDE32 = {form: "e" + name for name in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp", "ip")
           for form in (name, "e" + name)}
_WIDE32.update(al="eax", bl="ebx", cl="ecx", dl="edx", ah="eax", bh="ebx", ch="ecx", dh="edx")


@record
class MemoryAccess:
    address: int | None          # computed from the registers; None when one is unknown
    size: int
    write: bool
    read: bool
    base: str | None
    index: str | None
    scale: int
    displacement: int
    base_value: int | None = None


@record
class Decoded:
    address: int
    text: str                    # "mov rax, qword ptr [rbx + 8]"
    mnemonic: str
    groups: set[str] = field(default_factory=set)    # call, jump, ret, int, ...
    accesses: list[MemoryAccess] = field(default_factory=list)
    registers: list[str] = field(default_factory=list)
    target_register: str | None = None     # a call's or jump's target held in a register (`call rdx`)
    size: int = 0                          # bytes
    written: list[str] = field(default_factory=list)   # registers it writes (64-bit names)

    @property
    def is_call(self) -> bool:
        return "call" in self.groups

    @property
    def is_branch(self) -> bool:
        return "jump" in self.groups or "call" in self.groups or "ret" in self.groups

    @property
    def is_push(self) -> bool:
        return self.mnemonic.startswith("push")

    @property
    def is_division(self) -> bool:
        return self.mnemonic in ("div", "idiv")


def decode(code: bytes, address: int, registers: dict[str, int], bits: int = 64) -> Decoded | None:
    """The first instruction of code, at address, with its memory operands evaluated."""
    from hydra.analysis import libcapstone   # ctypes and the library: loaded when first decoding

    md = engine("x86_64" if bits == 64 else "x86", detail=True)
    instruction = md.first(code, address) if md is not None else None
    if instruction is None:
        return None
    wide = _WIDE if bits == 64 else _WIDE32
    groups = instruction.groups
    decoded = Decoded(address, f"{instruction.mnemonic} {instruction.op_str}".strip(), instruction.mnemonic, groups)
    decoded.size = instruction.size
    if instruction.read is not None:
        decoded.registers = sorted({wide.get(r, r) for r in instruction.read})
        decoded.written = sorted({wide.get(r, r) for r in instruction.written})
    for position, operand in enumerate(instruction.operands):
        if operand.type == libcapstone.OP_REG and decoded.is_branch:
            decoded.target_register = wide.get(operand.reg, operand.reg)
        if operand.type != libcapstone.OP_MEM:
            continue
        base = wide.get(operand.base) if operand.base else None
        index = wide.get(operand.index) if operand.index else None
        write = bool(operand.access & libcapstone.ACCESS_WRITE)
        read = bool(operand.access & libcapstone.ACCESS_READ) or not write
        if position == 0 and decoded.mnemonic.startswith(("mov", "vmov", "stos", "rep mov", "rep stos")) \
                and len(instruction.operands) > 1:
            write, read = True, False     # a store, whatever capstone says of AVX-512 operands
        if decoded.mnemonic.startswith(("lea", "nop")):
            continue
        value = operand.disp
        known = True
        base_value = None
        if base == "rip" or base == "eip":
            value += address + instruction.size
        elif base:
            base_value = registers.get(base)
            known = known and base_value is not None
            value += base_value or 0
        if index:
            index_value = registers.get(index)
            known = known and index_value is not None
            value += (index_value or 0) * operand.scale
        segment = operand.segment
        if segment in ("fs", "gs"):
            base_of_segment = registers.get(f"{segment}_base")
            known = known and base_of_segment is not None
            value += base_of_segment or 0
        mask = (1 << bits) - 1
        decoded.accesses.append(MemoryAccess(value & mask if known else None, operand.size, write, read,
                                             base, index, operand.scale, operand.disp, base_value))
    if decoded.is_call or decoded.is_push:      # the implicit store of the return address
        sp = registers.get("rsp" if bits == 64 else "esp")
        if sp is not None:
            decoded.accesses.append(MemoryAccess(sp - bits // 8, bits // 8, True, False, None, None, 1, -(bits // 8), sp))
    if "ret" in groups:
        sp = registers.get("rsp" if bits == 64 else "esp")
        if sp is not None:
            decoded.accesses.append(MemoryAccess(sp, bits // 8, False, True, None, None, 1, 0, sp))
    return decoded


def is_canonical(address: int) -> bool:
    return address < CANONICAL_LOW or address >= CANONICAL_HIGH


_ENGINES: dict = {}


def engine(architecture: str, thumb: bool = False, att: bool = False, detail: bool = False):
    """A capstone disassembler for the architecture (the one front end the views, analysis
    and the evaluator share); None when capstone is missing or the architecture unknown."""
    key = (architecture, thumb, att, detail)
    if key not in _ENGINES:
        from hydra.analysis import libcapstone

        modes = {"x86_64": (libcapstone.ARCH_X86, libcapstone.MODE_64),
                 "x86": (libcapstone.ARCH_X86, libcapstone.MODE_32),
                 "aarch64": (libcapstone.ARCH_ARM64, libcapstone.MODE_ARM),
                 "arm": (libcapstone.ARCH_ARM, libcapstone.MODE_THUMB if thumb else libcapstone.MODE_ARM)}
        if architecture not in modes:
            return None
        _ENGINES[key] = libcapstone.disassembler(*modes[architecture], att=att and architecture in ("x86_64", "x86"),
                                                 detail=detail)
    return _ENGINES[key]


def disassemble(code: bytes, address: int, architecture: str, count: int, att: bool = True,
                thumb: bool = False) -> list[tuple[int, int, str]]:
    """(address, size, text) of up to count instructions; AT&T syntax spelled as gdb's
    disassembler spells it (`mov    (%rax),%eax`) unless att is False."""
    md = engine(architecture, thumb, att)
    if md is None:
        return []
    out = []
    for at, size, mnemonic, operands in md.disasm_lite(code, address, count):
        if att and architecture in ("x86_64", "x86"):
            text = f"{mnemonic:<6} {operands.replace(', ', ',')}".rstrip() if operands else mnemonic
        else:
            text = f"{mnemonic} {operands}".strip()
        out.append((at, size, text))
    return out
