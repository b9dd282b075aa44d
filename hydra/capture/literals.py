"""Which drgn types are characters, and their literal prefixes; the spelling itself is
hydra.model.gdbstyle's (shared with the evaluator)."""

from __future__ import annotations

import drgn
from drgn import TypeKind



def is_char(type_: drgn.Type) -> bool:
    return type_.kind == TypeKind.INT and (type_.size or 0) == 1 and "char" in (type_.name or "")


WIDE_PREFIXES = {"wchar_t": "L", "char16_t": "u", "char32_t": "U"}


def wide_prefix(type_: drgn.Type) -> str | None:
    """gdb's prefix for a string of this character type (L, u, U), or None."""
    return WIDE_PREFIXES.get(type_.name or "") if type_.kind == TypeKind.INT else None


