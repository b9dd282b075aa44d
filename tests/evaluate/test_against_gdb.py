"""print, ptype, whatis and x on snapshots, against gdb on the same cores.

tests/programs/ask.c and ask.cpp are built at -O0 and -O2 and crashed, and ask_shared.c with
the shared library ask_library.c; every command of ask_c.commands / ask_cpp.commands /
ask_shared.commands runs in gdb on the core, then in Hydra on the snapshot of that core
with the program and its libraries moved away.
At least 95% of the answers must be the same text, and every other one must be listed in
known_differences.txt with its reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.evaluate.compare import gdb_answers, hydra_answers, read_commands

HERE = Path(__file__).parent
BUILDS = [("ask.c", "-O0", "ask_c"), ("ask.c", "-O2", "ask_c"), ("ask.cpp", "-O0", "ask_cpp"),
          ("ask.cpp", "-O2", "ask_cpp"), ("ask_shared.c", "-O0", "ask_shared"), ("ask_shared.c", "-O2", "ask_shared")]
LIBRARIES = {"ask_shared.c": ("ask_library.c",)}


def known_differences() -> dict[tuple[str, str, str], str]:
    known = {}
    for line in (HERE / "known_differences.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            where, command, reason = (part.strip() for part in line.split("|", 2))
            program, opt = where.split()
            known[(program, opt, command)] = reason
    return known


@pytest.fixture(scope="module")
def answers(crashed, tmp_path_factory):
    from hydra.capture.engine import capture_core
    from hydra.snapshot.format import write_snapshot

    folder = tmp_path_factory.mktemp("ask")
    rows = []
    for source, opt, listing in BUILDS:
        program = crashed(source, opt, libraries=LIBRARIES.get(source, ()))
        snapshot = folder / f"{program.name}.hsnap"
        write_snapshot(capture_core(program.core), str(snapshot))
        commands = read_commands(HERE / f"{listing}.commands")
        theirs = gdb_answers(program.exe, program.core, commands)
        binaries = [program.exe, *program.libraries]
        for binary in binaries:                  # not where the core says they are
            os.rename(binary, binary + ".hidden")
        try:
            ours = hydra_answers(str(snapshot), commands)
        finally:
            for binary in binaries:
                os.rename(binary + ".hidden", binary)
        rows += [(source, opt, *row) for row in zip(commands, theirs, ours)]
    return rows


def test_answers_are_gdbs(answers):
    known = known_differences()
    different = [(source, opt, command, ours, theirs) for source, opt, command, theirs, ours in answers
                 if ours != theirs]
    unexplained = [row for row in different if (row[0], row[1], row[2]) not in known]
    assert not unexplained, "\n".join(f"{s} {o} | {c}\n  gdb:   {t}\n  hydra: {h}" for s, o, c, h, t in unexplained)
    assert len(answers) >= 300
    assert (len(answers) - len(different)) / len(answers) >= 0.95


def test_every_kind_of_command_is_compared(answers):
    commands = {command.split()[0].split("/")[0] for _, _, command, _, _ in answers}
    assert {"print", "ptype", "whatis", "x", "@1"} <= commands
    formats = {command.split()[0] for _, _, command, _, _ in answers if command.startswith("print/")}
    assert {f"print/{f}" for f in "xduotcasz"} <= formats



RUST_COMMANDS = {
    ("rust_workspace", "-O3"): {
        "rustcrash::replay": ["print ledger", "whatis ledger", "ptype ledger", "print *ledger", "ptype *ledger",
                              "print total", "print total + 1", "whatis total", "ptype total", "print orders",
                              "whatis orders", "ptype orders", "print iter", "whatis iter", "ptype iter",
                              "print iter.ptr", "ptype iter.ptr", "ptype ledger.balances"],
        "rustcrash::main": ["print extra", "whatis extra", "print ledger", "print ledger.balances.len",
                            "print orders", "ptype orders", "whatis ledger"],
    },
    ("rust_panic.rs", "-O0"): {
        "rust_panic::Inventory::count": [f"{command} {expression}" for expression in
                                         ("self", "slot", "*self", "self.counts", "self.counts.len")
                                         for command in ("print", "whatis", "ptype")],
        "rust_panic::report": [f"{command} {expression}" for expression in
                               ("inventory", "slots", "*inventory", "slots.length")
                               for command in ("print", "whatis", "ptype")],
        "rust_panic::main": [f"{command} {expression}" for expression in ("inventory", "slots", "inventory.counts")
                             for command in ("print", "whatis", "ptype")],
    },
    ("rust_enums.rs", "-O0"): {
        "rust_enums::area": [f"{command} {expression}" for expression in ("s", "*s", "scale", "extra", "name", "factor")
                             for command in ("print", "whatis", "ptype")],
    },
}


@pytest.mark.parametrize("source, opt", list(RUST_COMMANDS))
def test_rust_answers_are_gdbs(crashed, capture, tmp_path, source, opt):
    """print, whatis and ptype in Rust frames (a -O0 program, and a cargo release build's
    values in registers and pieces), in gdb's Rust spelling (`*mut T`, `&[usize] [0, 2, 9]`,
    `struct T {\n  field: U,\n}`), against gdb on the same core, the binaries moved away.
    The one difference: bytes past a value's last piece are `<optimized out>` where gdb
    says `<synthetic pointer>`."""
    from hydra.snapshot.format import write_snapshot

    program = crashed(source, opt)
    crash = capture(program)
    listed = RUST_COMMANDS[(source, opt)]
    frames = {f.function: f.index for f in crash.crashed_thread.frames if f.function in listed and not f.inline}
    assert set(frames) == set(listed)
    commands = [f"@{frames[function]} {command}" for function, commands in listed.items() for command in commands]
    snapshot = tmp_path / "rust.hsnap"
    write_snapshot(crash, str(snapshot))
    theirs = [answer.replace("<synthetic pointer>", "<optimized out>")
              for answer in gdb_answers(program.exe, program.core, commands)]
    os.rename(program.exe, program.exe + ".hidden")          # the snapshot alone answers
    try:
        ours = hydra_answers(str(snapshot), commands)
    finally:
        os.rename(program.exe + ".hidden", program.exe)
    different = [(command, mine, gdbs) for command, mine, gdbs in zip(commands, ours, theirs) if mine != gdbs]
    assert not different, "\n".join(f"{c}\n  gdb:   {g}\n  hydra: {h}" for c, h, g in different)
