"""Parameters' values at their function's entry, as gdb finds them (`signo=signo@entry=6`).

An optimizing compiler often keeps a parameter only in the register it arrived in, and
only until that register is reused: its location then reads DW_OP_entry_value(reg), "what
reg held when the function was entered". The caller's call site says what it put there
(DW_AT_call_value: a constant, a register the call preserves plus an offset, memory, or
again the caller's own entry value). Here those expressions are evaluated in the calling
frame, through tail calls and from caller to caller (tailcalls.Link, innermost first).
Only registers a call preserves are read from a calling frame: the others are not known
at a return address.
"""

from __future__ import annotations

from hydra.capture.tailcalls import Link
from hydra.model.arch import Architecture
from hydra.symbols.callsites import DW_OP_entry_value, DW_OP_GNU_entry_value, EntryParameter, entry_value_register

MASK = (1 << 64) - 1
MAX_DEPTH = 8               # callers followed for one value
MAX_OPERATIONS = 64


class Unknown(Exception):
    """The expression needs what the snapshot cannot know."""


def entry_value(links: list[Link], register: int, arch: Architecture, read) -> int | None:
    """What `register` held when the function entered through links[0] began; read(address,
    size) -> bytes. None when it cannot be known."""
    try:
        return _entry(links, 0, register, arch, read, 0)
    except Unknown:
        return None


def jump_target(link: Link, arch: Architecture, read) -> int | None:
    """Where an indirect jump's call site went (its DW_AT_call_target), evaluated with
    link's registers; None when it cannot be known."""
    try:
        return _evaluate(link.site.target_expression or (), [link], 0, arch, read, 0)
    except Unknown:
        return None


def parameter_values(links: list[Link], parameters: list[EntryParameter], arch: Architecture,
                     read) -> dict[str, tuple[int, bool]]:
    """name -> (value at entry, known only through it), for the parameters it is known of."""
    found = {}
    for parameter in parameters:
        value = entry_value(links, parameter.register, arch, read)
        if value is not None:
            found[parameter.name] = (value, parameter.only_at_entry)
    return found


def _entry(links: list[Link], level: int, register: int, arch: Architecture, read, depth: int) -> int:
    if level >= len(links) or depth > MAX_DEPTH:
        raise Unknown
    link = links[level]
    expression = link.site.values.get(register)
    if not expression:
        raise Unknown
    return _evaluate(expression, links, level, arch, read, depth)


def _evaluate(expression: tuple, links: list[Link], level: int, arch: Architecture, read, depth: int) -> int:
    link = links[level]
    stack: list[int] = []

    def register_value(number: int) -> int:
        if (number not in arch.preserved and not link.exact) or number >= len(arch.dwarf_registers):
            raise Unknown
        value = link.registers.get(arch.dwarf_registers[number])
        if value is None:
            raise Unknown
        return value

    def pop() -> int:
        if not stack:
            raise Unknown
        return stack.pop()

    for atom, number, number2 in expression[:MAX_OPERATIONS]:
        if 0x30 <= atom <= 0x4F:                          # DW_OP_lit0..31
            stack.append(atom - 0x30)
        elif 0x08 <= atom <= 0x11:                        # DW_OP_const1u .. DW_OP_consts
            stack.append(number & MASK)
        elif atom == 0x03:                                # DW_OP_addr: an address in the file
            stack.append((number + link.bias) & MASK)
        elif 0x50 <= atom <= 0x6F:                        # DW_OP_regN: the value it holds
            stack.append(register_value(atom - 0x50))
        elif 0x70 <= atom <= 0x8F:                        # DW_OP_bregN offset
            stack.append((register_value(atom - 0x70) + _signed(number)) & MASK)
        elif atom == 0x92:                                # DW_OP_bregx register offset
            stack.append((register_value(number) + _signed(number2)) & MASK)
        elif atom == 0x9C:                                # DW_OP_call_frame_cfa
            if link.cfa is None:
                raise Unknown
            stack.append(link.cfa)
        elif atom == 0x91:                                # DW_OP_fbreg offset
            if not link.frame_base or any(op[0] == 0x91 for op in link.frame_base):
                raise Unknown
            base = _evaluate(link.frame_base, links, level, arch, read, depth + 1)
            stack.append((base + _signed(number)) & MASK)
        elif atom == 0x23:                                # DW_OP_plus_uconst
            stack.append((pop() + number) & MASK)
        elif atom in _BINARY:
            right, left = pop(), pop()
            stack.append(_BINARY[atom](left, right) & MASK)
        elif atom == 0x1F:                                # DW_OP_neg
            stack.append(-pop() & MASK)
        elif atom == 0x20:                                # DW_OP_not
            stack.append(~pop() & MASK)
        elif atom in (0x06, 0x94):                        # DW_OP_deref, DW_OP_deref_size
            size = 8 if atom == 0x06 else number
            if size not in (1, 2, 4, 8):
                raise Unknown
            data = read(pop(), size)
            if data is None or len(data) != size:
                raise Unknown
            stack.append(int.from_bytes(data, "little"))
        elif atom in (DW_OP_entry_value, DW_OP_GNU_entry_value):
            # the calling function's own entry value: one caller further out
            inner = entry_value_register(((atom, number, number2),))
            if inner is None:
                raise Unknown
            stack.append(_entry(links, level + 1, inner, arch, read, depth + 1))
        elif atom == 0x9F:                                # DW_OP_stack_value
            break
        else:
            raise Unknown                                 # frame base, CFA, TLS, pieces...
    if not stack:
        raise Unknown
    return stack[-1]


def _signed(value: int) -> int:
    value &= MASK
    return value - (1 << 64) if value >> 63 else value


_BINARY = {
    0x22: lambda a, b: a + b,          # DW_OP_plus
    0x1C: lambda a, b: a - b,          # DW_OP_minus
    0x1E: lambda a, b: a * b,          # DW_OP_mul
    0x1A: lambda a, b: a & b,          # DW_OP_and
    0x21: lambda a, b: a | b,          # DW_OP_or
    0x27: lambda a, b: a ^ b,          # DW_OP_xor
    0x24: lambda a, b: a << (b & 63),  # DW_OP_shl
    0x25: lambda a, b: a >> (b & 63),  # DW_OP_shr
}
