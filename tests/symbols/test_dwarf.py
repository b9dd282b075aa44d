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
    assert {"fee", "kept", "on_stack", "ledger", "unused"} <= set(theirs), theirs
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
