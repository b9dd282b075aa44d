"""drgn's symbol lookups by address, answered from indexed symbol tables: the same answers
as drgn's scan of the whole table on real programs' cores (every module, random addresses,
and each symbol's first, last and one-past-the-end byte, where sizeless assembly symbols
and overlapping aliases decide)."""

from __future__ import annotations

import random

import drgn
import pytest

from hydra.capture.programsymbols import ProgramSymbols


def _program(core: str) -> drgn.Program:
    prog = drgn.Program()
    prog.set_core_dump(core)
    try:
        prog.load_default_debug_info()
    except drgn.MissingDebugInfoError:
        pass
    return prog


def _spelled(symbols) -> list[tuple]:
    return [(s.name, s.address, s.size, s.kind, s.binding) for s in symbols]


@pytest.mark.parametrize("source", ["cxx_values.cpp", "null_deref.c"])
def test_lookups_match_drgn(crashed, source, monkeypatch):
    from hydra.capture import programsymbols

    monkeypatch.setattr(programsymbols, "BREAK_EVEN", 0)      # every answer from an index
    program = crashed(source, "-O2")
    prog = _program(program.core)
    symbols = ProgramSymbols(prog)
    chooser = random.Random(7)
    addresses = []
    for module in prog.modules():
        if module.address_range:
            start, end = module.address_range
            addresses += [chooser.randrange(start, end) for _ in range(200)]
    everything = prog.symbols()
    for symbol in chooser.sample(everything, min(len(everything), 400)):
        addresses += [symbol.address, symbol.address + max(symbol.size, 1) - 1, symbol.address + symbol.size]
    differing = []
    for address in addresses:
        try:
            expected = _spelled(prog.symbols(address))
        except LookupError:
            expected = []
        try:
            best = _spelled([prog.symbol(address)])
        except LookupError:
            best = []
        try:
            got_best = _spelled([symbols.best(address)])
        except LookupError:
            got_best = []
        if _spelled(symbols.containing(address)) != expected or got_best != best:
            differing.append(hex(address))
    # the program and the C library (whose debug file has a .symtab) answered from their index
    assert sum(1 for index in symbols._indexes.values() if index is not None) >= 2
    assert not differing, differing[:10]
