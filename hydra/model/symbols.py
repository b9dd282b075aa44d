"""The symbols a snapshot keeps: functions and data objects with their addresses, so
expressions can name them and code, registers and pointers can be labelled `<sym+off>`
as gdb labels them, without the binaries.

A snapshot keeps every symbol of the executable and, of the libraries, those that hold an
address something in the snapshot points at (a pc, a register, a word of kept memory).
Globals are object symbols with a type (`type_id` in the crash's type table).
"""

from __future__ import annotations

import bisect

from hydra.model.record import record

FUNCTION = "function"
OBJECT = "object"
KEPT_NOWHERE = b""          # the constant of a global defined but kept nowhere (gdb: <optimized out>)


@record
class Symbol:
    name: str                    # as gdb shows it: `main`, `Derived::area()`, `vtable for Derived`,
    #                              `counter` (a global), `main::calls` (a function's static)
    address: int
    size: int = 0
    kind: str = FUNCTION
    type_id: int | None = None   # a global's (or a function's) type
    module: str | None = None
    alias: bool = False          # another name for a symbol's bytes (`main::calls`): not a label
    constant: bytes | None = None    # a global the compiler kept as a value, not in memory
    #                                  (KEPT_NOWHERE: kept neither in memory nor as a value)
    linkage: str | None = None   # the mangled name, when it differs (x and disassembly show it)

    @property
    def lookup_name(self) -> str:
        """The name an expression uses: a function's name without its parameter list (and
        the qualifiers after it: `Item::total(int) const` is `Item::total`)."""
        name = self.name
        for suffix in (" const", " volatile", " &&", " &"):
            name = name.removesuffix(suffix)
        if self.kind == FUNCTION and name.endswith(")") and "(" in name \
                and not name.startswith(("vtable for", "typeinfo")):
            depth = 0
            for index in range(len(name) - 1, -1, -1):
                char = name[index]
                depth += char == ")"
                depth -= char == "("
                if depth == 0:
                    return name[:index]
        return self.name


class SymbolTable:
    def __init__(self, symbols: list[Symbol] | None = None):
        self.symbols = sorted(symbols or [], key=lambda s: (s.address, -s.size))
        labels = [s for s in self.symbols if not s.alias]
        self._labels = labels
        self._starts = [s.address for s in labels]
        self._names: dict[str, Symbol] | None = None

    def __len__(self) -> int:
        return len(self.symbols)

    def named(self, name: str) -> Symbol | None:
        """The symbol an expression names: by gdb's name or without its parameter list,
        a typed one (a global with debug info) before an untyped one."""
        if self._names is None:
            names: dict[str, Symbol] = {}
            for symbol in self.symbols:
                for key in (symbol.name, symbol.lookup_name):
                    known = names.get(key)
                    if known is None or (known.type_id is None and symbol.type_id is not None):
                        names[key] = symbol
            self._names = names
        return self._names.get(name)

    def containing(self, address: int) -> tuple[Symbol, int] | None:
        """(symbol, offset) for `<symbol+offset>`: the symbol whose bytes hold address; a
        function of unknown size holds what follows it up to the next symbol."""
        labels = self._labels
        index = bisect.bisect_right(self._starts, address) - 1
        for candidate in labels[max(0, index - 8):index + 1][::-1]:
            offset = address - candidate.address
            if 0 <= offset < candidate.size or (offset == 0 and candidate.size == 0):
                return candidate, offset
        if 0 <= index < len(labels):
            candidate = labels[index]
            following = labels[index + 1].address if index + 1 < len(labels) else None
            if candidate.kind == FUNCTION and candidate.size == 0 and following is not None \
                    and address < following:
                return candidate, address - candidate.address
        return None

    def label(self, address: int, linkage: bool = False) -> str | None:
        """gdb's `<symbol>` or `<symbol+offset>` for an address, or None; with `linkage`
        the mangled name, as gdb's `x` and disassembly show it."""
        found = self.containing(address)
        if found is None:
            return None
        symbol, offset = found
        name = (symbol.linkage or symbol.name) if linkage else symbol.name
        return f"<{name}+{offset}>" if offset else f"<{name}>"
