"""drgn's symbol lookups by address, answered from each module's symbol table read once.

drgn scans a module's whole table for each lookup (4 ns a symbol: 0.2 ms in a program
with 55,000 symbols); a capture asks about every pc and every address its snapshot points
at. Indexing a table (hydra.symbols.symtab) costs about 1 µs a symbol, as much as some
250 scans: a module's table is indexed, when it has a full one, once that many lookups
were asked or are expected (expect()), and answers come from the index. They are
drgn.Symbol objects either way, and the same ones.
"""

from __future__ import annotations

import bisect

import drgn

from hydra.symbols.symtab import ElfSymbol, SymbolIndex, precedence, read_symbol_index

BREAK_EVEN = 250                   # lookups in a module that cost as much as indexing its table


class ProgramSymbols:
    def __init__(self, prog: drgn.Program):
        self.prog = prog
        modules = []
        for module in prog.modules():
            try:
                start, end = module.address_range or (0, 0)
            except (ValueError, LookupError):
                continue
            if start < end:
                modules.append((start, end, module))
        modules.sort(key=lambda entry: entry[0])
        self._modules = modules
        self._starts = [start for start, _, _ in modules]
        self._asked: dict[int, int] = {}        # by module: lookups, and those expected
        self._indexes: dict[int, SymbolIndex | None] = {}

    def containing(self, address: int) -> list[drgn.Symbol]:
        """Program.symbols(address)."""
        index = self._index(address)
        if index is None:
            return self.prog.symbols(address)
        return [_drgn_symbol(symbol) for symbol in index.containing(address)]

    def best(self, address: int) -> drgn.Symbol:
        """Program.symbol(address): of the symbols holding it, the one starting nearest
        before it, then the smallest, then the most binding, then the first; LookupError
        when none does."""
        index = self._index(address)
        if index is None:
            return self.prog.symbol(address)
        found = index.containing(address)
        if not found:
            raise LookupError(f"could not find symbol containing 0x{address:x}")
        chosen = found[0]
        for symbol in found[1:]:
            if (symbol.address, -symbol.size, precedence(symbol.binding)) > \
                    (chosen.address, -chosen.size, precedence(chosen.binding)):
                chosen = symbol
        return _drgn_symbol(chosen)

    def expect(self, addresses) -> None:
        """Lookups of these addresses are coming: count them towards indexing."""
        for address in addresses:
            place = self._place(address)
            if place is not None:
                self._asked[place] = self._asked.get(place, 0) + 1

    def index_now(self, addresses) -> None:
        """Index the tables of the modules holding these addresses now, whatever was asked:
        before a fork, so that both processes share one index rather than each build it."""
        for address in addresses:
            place = self._place(address)
            if place is not None and place not in self._indexes:
                self._build(place)

    def _place(self, address: int) -> int | None:
        place = bisect.bisect_right(self._starts, address) - 1
        return place if place >= 0 and address < self._modules[place][1] else None

    def _index(self, address: int) -> SymbolIndex | None:
        place = self._place(address)
        if place is None:
            return None
        if place in self._indexes:
            return self._indexes[place]
        self._asked[place] = self._asked.get(place, 0) + 1
        if self._asked[place] <= BREAK_EVEN:
            return None
        return self._build(place)

    def _build(self, place: int) -> SymbolIndex | None:
        """The index of a module's table (None, remembered, when it has none to read)."""
        start, end, module = self._modules[place]
        self._indexes[place] = None
        for path, bias in ((module.debug_file_path, module.debug_file_bias),
                           (module.loaded_file_path, module.loaded_file_bias)):
            if path and bias is not None:
                self._indexes[place] = read_symbol_index(path, bias, (start, end))
                if self._indexes[place] is not None:
                    break
        return self._indexes[place]


def _drgn_symbol(symbol: ElfSymbol) -> drgn.Symbol:
    try:
        kind = drgn.SymbolKind(symbol.kind)
    except ValueError:
        kind = drgn.SymbolKind.UNKNOWN
    try:
        binding = drgn.SymbolBinding(symbol.binding + 1)       # drgn counts STB_LOCAL as 1
    except ValueError:
        binding = drgn.SymbolBinding.UNKNOWN
    return drgn.Symbol(symbol.name, symbol.address, symbol.size, binding, kind)
