"""The symbols a snapshot keeps (model/symbols.py): every function and object symbol of the
executable and of the small libraries whose globals were read, and of the other libraries
those that hold an address the snapshot shows or points at: pcs, registers, and the
words of kept memory.
Globals read from DWARF are object symbols with their types; functions in captured frames
carry their types too.
"""

from __future__ import annotations

import bisect
import struct

import drgn

from hydra.capture.programsymbols import ProgramSymbols
from hydra.capture.typetable import TypedGlobal
from hydra.model.crash import Crash
from hydra.model.symbols import FUNCTION, OBJECT, Symbol, SymbolTable
from hydra.symbols.demangle import demangle

MAX_EXECUTABLE_SYMBOLS = 20_000     # an executable with more keeps only the ones it points at
MAX_LIBRARY_SYMBOLS = 2_000         # and a library with debug info (the C library has 8,000)
MAX_WORDS = 500_000                 # words of kept memory looked at for pointers into modules


def build_symbols(prog: drgn.Program, program_symbols: ProgramSymbols, crash: Crash,
                  functions: dict[int, int], typed_globals: list[TypedGlobal]) -> SymbolTable:
    ranges = sorted((m.base, m.base + m.size, m.path) for m in crash.modules if m.size)
    starts = [start for start, _, _ in ranges]

    def module_of(address: int) -> str | None:
        index = bisect.bisect_right(starts, address) - 1
        if index >= 0 and address < ranges[index][1]:
            return ranges[index][2]
        return None

    kept: dict[tuple[int, str], Symbol] = {}
    section_end = _section_ends(prog, crash)

    def keep(symbol) -> None:
        kind = _kind(symbol.kind)
        if kind is None:
            return
        key = (symbol.address, symbol.name)
        if key not in kept:
            name = demangle(symbol.name)
            size = symbol.size
            if size == 0 and kind == FUNCTION:
                # `_fini` and hand-written code have no size: gdb bounds them by their section,
                # so the .rodata after .fini is not `<_fini+3777>`
                end = section_end(symbol.address)
                size = end - symbol.address if end else 0
            kept[key] = Symbol(name, symbol.address, size, kind,
                               functions.get(symbol.address) if kind == FUNCTION else None,
                               module_of(symbol.address), linkage=symbol.name if name != symbol.name else None)

    # every symbol of the executable and of the libraries whose globals were read, when
    # they have a reasonable number; of the others, those the snapshot points at
    executable = crash.process.executable
    whole = {path for path in {typed.module for typed in typed_globals} - {executable}
             if path and _symbol_count(crash, path) <= MAX_LIBRARY_SYMBOLS}
    if executable and _symbol_count(crash, executable) <= MAX_EXECUTABLE_SYMBOLS:
        whole.add(executable)
    if whole:
        try:
            everything = prog.symbols()
        except Exception:
            everything = []
        for symbol in everything:
            if module_of(symbol.address) in whole:
                keep(symbol)
    pointed_at = _pointed_at(crash, module_of, functions, typed_globals)
    program_symbols.expect(pointed_at)
    for address in pointed_at:
        try:
            for symbol in program_symbols.containing(address):
                keep(symbol)
        except (LookupError, OverflowError, ValueError):
            continue
    table = list(kept.values())
    for symbol in table:
        _with_parameters(symbol, crash.types)
    by_address = {(s.address, s.kind): s for s in table}
    for typed in typed_globals:
        if typed.variable.constant is not None:
            table.append(Symbol(typed.variable.name, 0, 0, OBJECT, typed.type_id, typed.module, alias=True,
                                constant=typed.variable.constant))
            continue
        symbol = by_address.get((typed.address, OBJECT))
        if symbol is not None and symbol.type_id is None:
            symbol.type_id = typed.type_id
        if symbol is None or symbol.lookup_name != typed.variable.name:
            # a function's static (`main::calls`) or a name the symbol table spells otherwise
            table.append(Symbol(typed.variable.name, typed.address, symbol.size if symbol else 0, OBJECT,
                                typed.type_id, typed.module, alias=symbol is not None))
    return SymbolTable(table)


def _section_ends(prog: drgn.Program, crash: Crash):
    """address -> the end of the loaded section that holds it, or None; from the section
    headers of each module's file, read when one of its addresses is first asked about."""
    from hydra.symbols.elffile import section_table

    files = {m.path: (m.code_file or m.path) for m in crash.modules}
    modules = []
    for module in prog.modules():
        try:
            start, end = module.address_range or (0, 0)
            bias = module.loaded_file_bias
        except (ValueError, LookupError):
            continue
        path = files.get(module.name)
        if start < end and path:
            modules.append((start, end, path, bias or 0))
    loaded: dict[str, list[tuple[int, int]]] = {}

    def end_of(address: int) -> int | None:
        for start, end, path, bias in modules:
            if start <= address < end:
                if path not in loaded:
                    table = section_table(path)
                    loaded[path] = [(s.address + bias, s.address + bias + s.size)
                                    for s in (table.sections.values() if table else ()) if s.address and s.flags & 2]
                return next((high for low, high in loaded[path] if low <= address < high), None)
        return None
    return end_of


def _with_parameters(symbol: Symbol, types) -> None:
    """A C++ function that is not mangled (main, an extern "C" function) is named as gdb
    names it from its debug info, with its parameters: `main()`, `main(int, char**)`."""
    function = types.get(symbol.type_id) if symbol.kind == FUNCTION else None
    if function is None or function.language != "c++" or "(" in symbol.name:
        return
    symbol.linkage = symbol.linkage or symbol.name
    symbol.name = f"{symbol.name}({', '.join(_demangler_spelling(types, p) for p in function.parameters)})"


def _demangler_spelling(types, index, depth: int = 0) -> str:
    """A parameter's type as the demangler writes it: `char**`, `shop::Item&`, `char const*`."""
    type_ = types.get(index)
    if type_ is None or depth > 16:
        return "void"
    const = " const" if type_.const else ""
    if type_.kind in ("pointer", "reference", "rvalue_reference") and type_.name is None:
        mark = {"pointer": "*", "reference": "&", "rvalue_reference": "&&"}[type_.kind]
        return _demangler_spelling(types, type_.target, depth + 1) + mark + const
    return (type_.name or "?") + const


def _symbol_count(crash: Crash, path: str | None) -> int:
    """How many symbols a module's symbol table holds, from its section headers (listing
    them all to count them costs a large program a third of a second)."""
    from hydra.symbols.elffile import section_table

    module = next((m for m in crash.modules if m.path == path), None)
    path = (module.code_file or module.path) if module is not None else None
    table = section_table(path) if path else None
    if table is None:
        return 0
    symtab = table.sections.get(".symtab") or table.sections.get(".dynsym")
    return symtab.size // 24 if symtab is not None else 0


def _kind(kind: drgn.SymbolKind) -> str | None:
    if kind == drgn.SymbolKind.FUNC:
        return FUNCTION
    if kind in (drgn.SymbolKind.OBJECT, drgn.SymbolKind.TLS):
        return OBJECT
    return None


def _pointed_at(crash: Crash, module_of, functions: dict[int, int], typed_globals) -> set[int]:
    """Addresses inside modules that the snapshot shows: pcs, registers, words of memory."""
    found: set[int] = set(functions) | {g.address for g in typed_globals}
    for thread in crash.threads:
        for value in thread.registers.values():
            found.add(value)
        for frame in thread.frames:
            found.add(frame.pc)
            found.update(frame.registers.values())
    words = 0
    for region in crash.memory.regions:
        data = region.data
        count = len(data) // 8
        if not count or words > MAX_WORDS:
            continue
        words += count
        found.update(struct.unpack_from(f"<{count}Q", data))
    return {address for address in found if isinstance(address, int) and 0 < address < 1 << 64
            and module_of(address) is not None}
