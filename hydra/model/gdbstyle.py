"""Values spelled as gdb prints them: characters and strings (escapes, `<repeats N times>`,
200 elements, the L/u/U prefixes of wide ones), floating point numbers (9 and 17 digits,
NaN with its bits, long double exactly) and flag enums. Pure functions of numbers and text,
shared by capture (which reads values with drgn) and the evaluator (which reads them from a
snapshot's type table and memory)."""

from __future__ import annotations

import re
import struct

from hydra.model.crash import PRINT_ELEMENTS, REPEAT_THRESHOLD


def wide_text(units) -> str | None:
    """Code units as text, or None when one is no character at all (a hostile value)."""
    try:
        return "".join(map(chr, units))
    except (ValueError, OverflowError, TypeError):
        return None


_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\033",
            34: '\\"', 92: "\\\\"}


def char_literal(value: int) -> str:
    code = value & 0xFF if value < 0 else value
    if code == 39:
        return "'\\''"
    if code == 34:
        return "'\"'"
    return f"'{_spell(chr(code))}'" if code < 0x110000 else f"'\\x{code:x}'"


# each character as it stands inside a C string literal: octal below 256, hex above
_SPELLING = {chr(code): _ESCAPES.get(code) or (chr(code) if 32 <= code < 127 else f"\\{code:03o}")
             for code in range(256)}

# printable ASCII without the characters gdb escapes (", \\)
_PLAIN = re.compile(r'[ !#-\[\]-~]*')


def _spell(character: str) -> str:
    return _SPELLING.get(character) or f"\\x{ord(character):x}"


def c_string_literal(text: str, length: int, truncated: bool = False, prefix: str = "") -> str:
    """gdb's spelling of a C string: printable ASCII as is, the rest as octal escapes, runs
    of more than ten equal characters as `'A' <repeats 199 times>`."""
    body = text[:length]
    parts: list[str] = []
    position = 0
    for run in _RUN.finditer(body) if len(body) > REPEAT_THRESHOLD else ():
        if run.start() > position:
            parts.append(_quoted(body[position:run.start()]))
        parts.append(f"{char_literal(ord(body[run.start()]))} <repeats {run.end() - run.start()} times>")
        position = run.end()
    if position < len(body) or not parts:
        parts.append(_quoted(body[position:]))
    literal = prefix + ", ".join(parts)
    return literal + "..." if truncated else literal


def _quoted(text: str) -> str:
    if _PLAIN.fullmatch(text):
        return '"' + text + '"'
    return '"' + "".join(map(_spell, text)) + '"'


MAX_VALUE_SIZE = 65536      # gdb's `set max-value-size`
_RUN = re.compile(r"(.)\1{%d,}" % REPEAT_THRESHOLD, re.DOTALL)     # more than ten equal characters


def char_array_literal(raw: bytes | str, prefix: str = "") -> str:
    """gdb's spelling of a char array: every element but one final NUL, runs of more than
    ten equal characters as `'x' <repeats N times>`, at most 200 elements (a run counts
    ten). Wide characters come as text, with their prefix (L, u, U) before the first part."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    return prefix + _text_literal(text)


def _text_literal(raw: str) -> str:
    data = raw[:-1] if raw.endswith("\0") else raw
    # most arrays are some text and then NULs to the end: the NULs need no scanning
    body = data.rstrip("\0")
    zeros = len(data) - len(body)
    if zeros <= REPEAT_THRESHOLD:
        body, zeros = data, 0
    if len(body) <= REPEAT_THRESHOLD:
        # too short for a run: the common `char name[16]` holding a word
        if not zeros:
            return _quoted(body)
        return f"{_quoted(body)}, '\\000' <repeats {zeros} times>" if body else f"'\\000' <repeats {zeros} times>"
    parts: list[str] = []
    counted = position = 0
    for run in _RUN.finditer(body):
        plain = body[position:run.start()][: PRINT_ELEMENTS - counted]
        if plain:
            parts.append(_quoted(plain))
            counted += len(plain)
            position += len(plain)
        if counted >= PRINT_ELEMENTS:
            break
        parts.append(f"{char_literal(ord(body[run.start()]))} <repeats {run.end() - run.start()} times>")
        counted += REPEAT_THRESHOLD
        position = run.end()
        if counted >= PRINT_ELEMENTS:
            break
    else:
        plain = body[position:][: PRINT_ELEMENTS - counted]
        if plain or not (parts or zeros):
            parts.append(_quoted(plain))
        position += len(plain)
        counted += len(plain)
        if zeros and position == len(body) and counted < PRINT_ELEMENTS:
            parts.append(f"'\\000' <repeats {zeros} times>")
            position += zeros
    literal = ", ".join(parts)
    return literal + "..." if position < len(data) else literal


def float_text(value: float, size: int) -> str:
    """A float or double as gdb's %g with 9 or 17 digits; NaN with its sign and fraction."""
    if value != value:
        return nan_text(value, size)
    return format(value, ".9g" if size <= 4 else ".17g")


def nan_text(value: float, size: int) -> str:
    """gdb's `nan(0x8000000000000)`, `-nan(...)`: the sign and the fraction bits."""
    if size <= 4:
        bits, = struct.unpack("<I", struct.pack("<f", value))
        sign, fraction = bits >> 31, bits & ((1 << 23) - 1)
    else:
        bits, = struct.unpack("<Q", struct.pack("<d", value))
        sign, fraction = bits >> 63, bits & ((1 << 52) - 1)
    return f"{'-' if sign else ''}nan(0x{fraction:x})"


def is_flag_enum(values) -> bool:
    """gdb's flag enum: every enumerator zero or a single bit (two enumerators may name the
    same bit); an enum without enumerators is one too."""
    for value in values:
        if value < 0 or value & (value - 1):
            return False
    return True


def flags_text(value: int, enumerators) -> str:
    """gdb's `(F_A | F_C)`, `(F_A | unknown: 0x8)`, `(unknown: 0x8)` or `0`; enumerators
    are (name, value) pairs."""
    if value < 0:
        return str(value)
    names = []
    for name, bits in enumerators:
        if value & bits:
            names.append(name)
            value &= ~bits
    if value:
        names.append(f"unknown: 0x{value:x}")
    return f"({' | '.join(names)})" if names else "0"


# x87 extended precision (x86 long double) and IEEE binary128 (aarch64 long double):
# (exponent bits, fraction bits, explicit integer bit, bytes holding them)
_WIDE_FLOATS = {"x86_64": (15, 63, True, 10), "aarch64": (15, 112, False, 16)}


def wide_float_text(raw: bytes, architecture: str) -> str | None:
    """A long double spelled as gdb spells it (%g with enough digits to read it back:
    21 for x87, 36 for binary128), decoded exactly; None for an unknown layout."""
    layout = _WIDE_FLOATS.get(architecture)
    if layout is None:
        return None
    exponent_bits, fraction_bits, explicit_one, size = layout
    if len(raw) < size:
        return None
    bits = int.from_bytes(raw[:size], "little")
    sign = "-" if bits >> (exponent_bits + fraction_bits + (1 if explicit_one else 0)) & 1 else ""
    fraction = bits & ((1 << fraction_bits) - 1)
    exponent = bits >> (fraction_bits + (1 if explicit_one else 0)) & ((1 << exponent_bits) - 1)
    integer = (bits >> fraction_bits & 1) if explicit_one else (1 if exponent else 0)
    bias = (1 << (exponent_bits - 1)) - 1
    if exponent == (1 << exponent_bits) - 1:
        if fraction == 0:
            return f"{sign}inf"
        shown = bits & ((1 << (fraction_bits + 1)) - 1) if explicit_one else fraction
        return f"{sign}nan(0x{shown:x})"
    mantissa = (integer << fraction_bits) | fraction
    power = max(exponent, 1) - bias - fraction_bits
    if mantissa == 0:
        return f"{sign}0"
    import decimal

    digits = 21 if explicit_one else 36
    with decimal.localcontext() as context:
        context.prec = 6000
        exact = decimal.Decimal(mantissa) * decimal.Decimal(2) ** power
        context.prec = digits
        rounded = +exact
    text = format(rounded, f".{digits}g")
    if "e" in text:
        number, exponent_text = text.split("e")
        if "." in number:
            number = number.rstrip("0").rstrip(".")
        sign_e = "-" if exponent_text.startswith("-") else "+"
        text = f"{number}e{sign_e}{abs(int(exponent_text)):02d}"
    elif "." in text:
        text = text.rstrip("0").rstrip(".")
    return sign + text


# x86's flags register, bit by bit, as gdb names its set bits: `[ CF PF SF IF RF ]`
EFLAGS = ((0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"), (10, "DF"), (11, "OF"),
          (14, "NT"), (16, "RF"), (17, "VM"), (18, "AC"), (19, "VIF"), (20, "VIP"), (21, "ID"))


def eflags_text(value: int) -> str:
    return "[ " + "".join(f"{name} " for bit, name in EFLAGS if value >> bit & 1) + "]"


def half_float_text(raw: bytes, bfloat: bool) -> str:
    """A 16-bit float (IEEE half, or bfloat16: a float's upper half) with gdb's digits."""
    if bfloat:
        value = struct.unpack("<f", b"\0\0" + raw[:2])[0]
        return _short_float(value, 4)
    value = struct.unpack("<e", raw[:2])[0]
    return _short_float(value, 5)


def _short_float(value: float, digits: int) -> str:
    if value != value:
        return "nan(0x0)"
    return format(value, f".{digits}g")
