"""Where DWARF says a function's variables are at a pc (symbols/dwarf.py), against gdb's
`info scope` on the same core: constants, registers, the frame base, and nowhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oracle.gdb import ensure_gdb  # noqa: E402


def _gdb_scope(program, address: int) -> dict[str, tuple]:
    """gdb's word for each symbol at address: ("constant", N), ("register", NAME),
    ("fbreg", OFFSET) or ("entry value",), where it says one of those."""
    text = subprocess.run([ensure_gdb(), "-batch", "-nx", "-ex", f"info scope *{address:#x}", program.exe, program.core],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "LC_ALL": "C"}).stdout
    found: dict[str, tuple] = {}
    for block in re.split(r"\nSymbol ", "\n" + text)[1:]:
        name, _, rest = block.partition(" is ")
        rest = re.sub(r"\n?, length \d+\.\s*$", "", rest.strip())
        if rest.startswith("multi-location"):
            chosen = None
            for match in re.finditer(r"Range (0x[0-9a-f]+)-(0x[0-9a-f]+): (.*?)(?=\n  Range|\n, length|$)", rest, re.S):
                if int(match[1], 16) <= address < int(match[2], 16):
                    chosen = match[3]
            rest = chosen or ""
        if (constant := re.match(r"a constant with value (-?\d+)", rest)):
            found[name] = ("constant", int(constant[1]))
        elif (register := re.match(r"a variable in \$(\w+)\s*$", rest.strip())):
            found[name] = ("register", register[1])
        elif (fbreg := re.search(r"complex DWARF expression:\s+0: DW_OP_fbreg (-?\d+)\s*$", rest.strip())):
            found[name] = ("fbreg", int(fbreg[1]))
        elif "DW_OP_entry_value" in rest and "DW_OP_stack_value" in rest:
            found[name] = ("entry value",)
    return found


def test_variables_places_are_gdbs(crashed, capture):
    from hydra.model.arch import X86_64
    from hydra.symbols.dwarf import (FRAME_BASE_CFA, PIECE_CONSTANT, PIECE_MISSING, PIECE_REGISTER, DebugFile)

    program = crashed("locations.c", "-O2")
    crash = capture(program)
    frame = next(f for f in crash.crashed_thread.frames if f.function == "settle")
    module = next(m for m in crash.modules if m.path == crash.process.executable)
    lookup = frame.pc - 1                      # a caller's frame: the call's last byte
    debug_file = DebugFile(program.exe)
    try:
        [scope] = [s for s in debug_file.function_scopes(lookup - module.base) if s.name == "settle"]
    finally:
        debug_file.close()
    theirs = _gdb_scope(program, lookup)
    # what gdb says of each, where it is one of the four forms (gcc 12 gives all five so;
    # another compiler may keep one in a way this test does not read)
    assert len(theirs) >= 3 and {said[0] for said in theirs.values()} >= {"constant", "register"}, theirs
    assert scope.visible == ["amount", "unused", "ledger", "fee", "kept", "on_stack"]
    for name, said in theirs.items():
        if said[0] == "constant":
            assert scope.held[name] == [(PIECE_CONSTANT, said[1] % (1 << 64), 8)], name
        elif said[0] == "register":
            assert scope.held[name] == [(PIECE_REGISTER, X86_64.dwarf_registers.index(said[1]), 0)], name
        elif said[0] == "fbreg":
            assert scope.places[name] == (FRAME_BASE_CFA, said[1]), name
        else:
            assert scope.held[name] == [(PIECE_MISSING, 0, 0)], name


def test_locations_a_program_could_make_up_are_bounded():
    """A binary's DWARF is the crashed program's: piece sizes and operation counts it
    makes up are refused, not followed."""
    from hydra.symbols.dwarf import (DW_OP_piece, DW_OP_reg0, PIECE_MISSING, PIECE_REGISTER, _computed, _held)

    assert _held(((DW_OP_reg0, 0, 0), (DW_OP_piece, (1 << 64) - 1, 0))) is None
    assert _held(((DW_OP_reg0, 0, 0), (DW_OP_piece, 0, 0))) is None
    assert _held(((DW_OP_piece, 40, 0), (DW_OP_piece, 40, 0))) is None             # more than 64 bytes
    assert _held(((DW_OP_reg0 + 3, 0, 0), (DW_OP_piece, 8, 0), (DW_OP_piece, 8, 0))) == \
        [(PIECE_REGISTER, 3, 8), (PIECE_MISSING, 0, 8)]
    assert _computed(tuple((0x06, 0, 0) for _ in range(17)), None) is None          # too many steps
    assert _computed(((0x91, 8, 0),), None) is None                                  # fbreg without a base


def test_computed_addresses_and_held_bytes_never_follow_a_bad_value():
    from hydra.capture.fromtypes import computed_address, held_bytes
    from hydra.symbols.dwarf import DW_OP_breg0, DW_OP_deref, DW_OP_plus, PIECE_REGISTER

    names = ["rax", "rdx"]
    unreadable = lambda address, size: None                                     # noqa: E731
    assert computed_address([(DW_OP_breg0, 8), (DW_OP_deref, 0)], {"rax": 16}, names, None, unreadable) is None
    assert computed_address([(DW_OP_deref, 0)], {}, names, None, unreadable) is None           # empty stack
    assert computed_address([(DW_OP_breg0, 0), (DW_OP_plus, 0)], {"rax": 1}, names, None, unreadable) is None
    assert computed_address([(DW_OP_breg0 + 1, 0)], {"rax": 1}, names, None, unreadable) is None  # no rdx
    assert computed_address([(DW_OP_breg0, -8 % (1 << 64))], {"rax": 16}, names, None, unreadable) == 8
    assert held_bytes([(PIECE_REGISTER, 9, 8)], {"rax": 1}, names) == (None, [])               # no such register
    assert held_bytes([(PIECE_REGISTER, 0, 1 << 40)], {"rax": 1}, names) == (None, [])        # cached nonsense
    assert held_bytes([(PIECE_REGISTER, 0, 4)], {"rax": 0x1122334455}, names) == (b"\x55\x44\x33\x22", [])
