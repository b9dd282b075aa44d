"""C and C++ character and string literals spelled as gdb spells them: escapes, runs of
equal characters as `<repeats N times>`, 200 elements, the L/u/U prefixes of wide ones."""

from __future__ import annotations

import re

import drgn
from drgn import TypeKind

from hydra.model.crash import PRINT_ELEMENTS, REPEAT_THRESHOLD


def is_char(type_: drgn.Type) -> bool:
    return type_.kind == TypeKind.INT and (type_.size or 0) == 1 and "char" in (type_.name or "")


WIDE_PREFIXES = {"wchar_t": "L", "char16_t": "u", "char32_t": "U"}


def wide_prefix(type_: drgn.Type) -> str | None:
    """gdb's prefix for a string of this character type (L, u, U), or None."""
    return WIDE_PREFIXES.get(type_.name or "") if type_.kind == TypeKind.INT else None


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
    """gdb's spelling of a C string: printable ASCII as is, the rest as octal escapes."""
    literal = prefix + _quoted(text[:length])
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
