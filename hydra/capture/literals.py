"""Which drgn types are characters, and their literal prefixes; the spelling itself is
hydra.model.gdbstyle's (shared with the evaluator)."""

from __future__ import annotations

import drgn
from drgn import TypeKind



def is_char(type_: drgn.Type) -> bool:
    return type_.kind == TypeKind.INT and (type_.size or 0) == 1 and "char" in (type_.name or "")


WIDE_PREFIXES = {"wchar_t": "L", "char16_t": "u", "char32_t": "U"}


def wide_prefix(type_: drgn.Type) -> str | None:
    """gdb's prefix for a string of this character type (L, u, U), or None. In C, wchar_t is
    a typedef of int, which gdb still reads as a wide character: typedefs are looked through."""
    for _ in range(16):
        prefix = WIDE_PREFIXES.get(type_.name or "") if type_.kind in (TypeKind.INT, TypeKind.TYPEDEF) else None
        if prefix is not None or type_.kind != TypeKind.TYPEDEF:
            return prefix
        type_ = type_.type
    return None


