"""hydra print, ptype, whatis and x from the command line, on a snapshot whose program is
gone: answers on standard output, errors as one line and status 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import hydra_command

SAMPLES = Path(__file__).resolve().parents[2] / "sample_snapshots"


@pytest.fixture(scope="module")
def snapshot(crashed, tmp_path_factory):
    """ask.c's snapshot, with the program and its source moved where nothing finds them."""
    folder = tmp_path_factory.mktemp("cli")
    program = crashed("ask.c", "-O0")
    path = folder / "ask.hsnap"
    done = subprocess.run(hydra_command() + ["snap", program.core, "-o", str(path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    hidden = folder / "away"
    hidden.mkdir()
    shutil.move(program.exe, hidden / "exe")
    yield str(path)
    shutil.move(hidden / "exe", program.exe)


def hydra(*args) -> subprocess.CompletedProcess:
    return subprocess.run(hydra_command() + list(args), capture_output=True, text=True, timeout=120)


def test_print_ptype_whatis_and_x(snapshot):
    assert hydra("print", snapshot, "acct->owner").stdout == '$1 = "bob", \'\\000\' <repeats 12 times>\n'
    assert hydra("print/x", snapshot, "counter").stdout == "$1 = 0x2a\n"
    assert hydra("print", snapshot, "list[1].next->value", "*", "2").stdout == "$1 = 60\n"
    assert hydra("ptype", snapshot, "struct point").stdout == "type = struct point {\n    int x;\n    int y;\n}\n"
    assert hydra("whatis", snapshot, "ops").stdout == "type = binary_op [2]\n"
    done = hydra("x", snapshot, "shorts", "--count", "3", "--unit", "h", "--format", "d")
    assert done.stdout.startswith("0x") and done.stdout.rstrip().endswith("1\t-2\t3") and "<shorts>" in done.stdout
    assert hydra("x/2xg", snapshot, "&box").stdout.count("0x") == 3


def test_frames_threads_and_json(snapshot):
    assert hydra("print", snapshot, "argc", "--frame", "1").stdout == "$1 = 1\n"
    done = hydra("print", snapshot, "local", "--json")
    assert json.loads(done.stdout)["output"] == "$1 = {x = 1, y = -1}"
    done = hydra("print", snapshot, "argc", "--frame", "99")
    assert done.returncode == 2 and "no frame #99" in done.stderr


@pytest.mark.parametrize("expression, message", [
    ("nosuch", 'No symbol "nosuch" in current context.'),
    ("acct->nosuch", "There is no member named nosuch."),
    ("*nowhere", "Cannot access memory at address 0x0"),
    ("1 +", "A syntax error in expression, near `'."),
    ("10 / 0", "Division by zero"),
    ("counter = 1", "read-only"),
])
def test_errors_are_one_line_and_status_2(snapshot, expression, message):
    done = hydra("print", snapshot, expression)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr


def test_an_older_snapshot_opens_without_evaluation(tmp_path):
    # a sample as Hydra bundled it in format 1.0, before snapshots kept a type table
    sample = Path(__file__).parent / "data" / "ledger_assert-format1.hsnap"
    from hydra.snapshot.format import HEADER

    assert HEADER.unpack_from(sample.read_bytes(), 0)[1] == 1
    done = hydra("print", str(sample), "$pc")
    assert done.returncode == 0 and done.stdout.startswith("$1 = (void (*)()) 0x")
    assert "no type table" in done.stderr


def test_control_bytes_from_a_dump_reach_no_terminal(snapshot):
    done = hydra("print", snapshot, '"\\033]0;x\\007"')
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\\033" in done.stdout
