"""gdb's `x/NFU ADDRESS`: memory as numbers, characters, addresses, strings or instructions,
a line of units per row, each row headed by its address and `<symbol+offset>`."""

from __future__ import annotations

from hydra.evaluate.errors import EvalError
from hydra.evaluate.values import Unavailable
from hydra.model.crash import UNAVAILABLE
from hydra.model.gdbstyle import c_string_literal, char_literal, float_text

UNITS = {"b": 1, "h": 2, "w": 4, "g": 8}
PER_LINE = {("x", 1): 8, ("x", 2): 8, ("x", 4): 4, ("x", 8): 2, ("d", 1): 8, ("d", 2): 8, ("d", 4): 4,
            ("d", 8): 2, ("u", 1): 8, ("u", 2): 8, ("u", 4): 4, ("u", 8): 2, ("o", 1): 8, ("o", 2): 8,
            ("o", 4): 4, ("o", 8): 2, ("t", 1): 8, ("t", 2): 8, ("t", 4): 4, ("t", 8): 2, ("c", 1): 8,
            ("a", 8): 2, ("a", 4): 4, ("f", 4): 4, ("f", 8): 2, ("z", 1): 8, ("z", 2): 8, ("z", 4): 4, ("z", 8): 2}
MAX_UNITS = 4096


def parse_examine(spec: str) -> tuple[int, str, int]:
    """`/4xw` -> (4, "x", 4); defaults as gdb's first `x`: 1, x, w."""
    count, fmt, unit = 1, "x", None
    digits = ""
    for char in spec.lstrip("/"):
        if char.isdigit() or (char == "-" and not digits):
            digits += char
        elif char in UNITS:
            unit = UNITS[char]
        elif char in "xduotacfsiz":
            fmt = char
        else:
            raise EvalError(f"Invalid number \"{spec}\"." if char.isdigit() else f"Undefined output format \"{char}\".")
    if digits:
        count = int(digits)
    if count <= 0:
        raise EvalError("Invalid number of units" if count < 0 else "Cannot examine 0 units.")
    count = min(count, MAX_UNITS)
    if unit is None:
        unit = {"a": 8, "c": 1, "s": 1, "i": 1}.get(fmt, 4)
    if fmt == "a":
        unit = 8
    if fmt == "c" and unit not in (1,):
        unit = 1
    return count, fmt, unit


def examine(session, address: int, count: int, fmt: str, unit: int) -> str:
    """The lines `x` prints, each unit read from the snapshot (`<unavailable>` where it was not kept)."""
    if fmt == "s":
        return _strings(session, address, count, unit)
    if fmt == "i":
        return _instructions(session, address, count)
    per_line = PER_LINE.get((fmt, unit), 4)
    lines = []
    cursor = address
    for row in range(0, count, per_line):
        cells = []
        for _ in range(min(per_line, count - row)):
            cells.append(_cell(session, cursor, fmt, unit))
            cursor += unit
        start = cursor - unit * len(cells)
        lines.append(f"{_where(session, start)}:\t" + "\t".join(cells))
    session.last_examined = cursor - unit
    return "\n".join(lines)


def _where(session, address: int) -> str:
    label = session.label(address, linkage=True)       # gdb's asm-demangle is off
    return f"0x{address:x}" + (f" {label}" if label else "")


def _cell(session, address: int, fmt: str, unit: int) -> str:
    try:
        raw = session.memory.read(address, unit)
    except Unavailable:
        return UNAVAILABLE
    number = int.from_bytes(raw, "little")
    if fmt in ("x", "z"):
        return f"0x{number:0{2 * unit}x}"
    if fmt == "d":
        return str(number - (1 << (8 * unit)) if number >> (8 * unit - 1) else number)
    if fmt == "u":
        return str(number)
    if fmt == "o":
        return f"0{number:o}" if number else "0"
    if fmt == "t":
        return f"{number:0{8 * unit}b}"
    if fmt == "c":
        signed = number - 256 if number > 127 else number
        return f"{signed} {char_literal(number)}"
    if fmt == "a":
        label = session.label(number)
        return f"0x{number:x}" + (f" {label}" if label else "")
    if fmt == "f":
        import struct

        value = struct.unpack("<f" if unit == 4 else "<d", raw)[0] if unit in (4, 8) else float(number)
        return float_text(value, unit)
    return f"0x{number:x}"


def _strings(session, address: int, count: int, unit: int) -> str:
    lines = []
    cursor = address
    for _ in range(count):
        units = []
        start = cursor
        while len(units) < 200:
            try:
                raw = session.memory.read(cursor, unit)
            except Unavailable:
                break
            cursor += unit
            code = int.from_bytes(raw, "little")
            if code == 0:
                break
            units.append(code)
        else:
            lines.append(f"{_where(session, start)}:\t{c_string_literal(''.join(map(chr, units)), len(units), True)}")
            continue
        if not units and cursor == start:
            lines.append(f"{_where(session, start)}:\t<unavailable>")
            cursor += unit
            continue
        lines.append(f"{_where(session, start)}:\t{c_string_literal(''.join(map(chr, units)), len(units))}")
    session.last_examined = start
    return "\n".join(lines)


def _instructions(session, address: int, count: int) -> str:
    from hydra.analysis.instruction import disassemble

    lines = []
    cursor = address
    pc = session.frame.pc if session.frame is not None else None
    for _ in range(count):
        try:
            code = session.memory.read(cursor, 16)
        except Unavailable:
            try:
                code = bytes(b for b in session.memory.read_partial(cursor, 16) if b is not None)
            except EvalError:
                code = b""
        decoded = disassemble(code, cursor, session.architecture, 1) if code else []
        marker = "=> " if cursor == pc else "   "
        if not decoded:
            lines.append(f"{marker}{_where(session, cursor)}:\t<unavailable>")
            cursor += 1
            continue
        _, size, text = decoded[0]
        lines.append(f"{marker}{_where(session, cursor)}:\t{text}")
        cursor += size
    session.last_examined = cursor
    return "\n".join(lines)
