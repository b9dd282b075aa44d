"""The command line end to end: snap, bt, and bad input (one line, exit status 2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HYDRA = [sys.executable, "-m", "hydra"]


def run(*args, cwd=None, env=None):
    return subprocess.run([*HYDRA, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)


def assert_bad_input(result, name):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(name) in lines[0]
    assert "Traceback" not in result.stderr


def test_snap_writes_beside_cwd_and_bt_reads_it(crashed, tmp_path):
    program = crashed("null_deref.c", "-O0")
    result = run("snap", program.core, "--kv", "build=1234", "--global", "lock", "--global", "nonesuch", cwd=tmp_path,
                 env={"HYDRA_ATTRIBUTES": "team=storage\n# comment\n"})
    assert result.returncode == 0, result.stderr
    snapshot = tmp_path / (Path(program.core).name + ".hsnap")
    assert snapshot.exists() and str(snapshot.name) in result.stderr
    out = run("bt", snapshot, "--json", "--full")
    assert out.returncode == 0
    document = json.loads(out.stdout)
    assert document["signal"] == {"number": 11, "name": "SIGSEGV", "code": 1,
                                  "code_name": "SEGV_MAPERR", "address": 8}
    crashed_thread = document["threads"][0]
    assert crashed_thread["crashed"] and crashed_thread["tid"] == document["crashed_tid"]
    top = crashed_thread["frames"][0]
    assert top["function"] == "lookup_price" and top["line"] == 16 and top["trust"] == "context"
    assert top["module"].endswith("null_deref_O0") and top["module_offset"] > 0
    assert {k: top["args"][1][k] for k in ("name", "type", "value")} == {"name": "idx", "type": "int", "value": "2"}
    assert document["attributes"]["build"] == "1234"
    assert document["attributes"]["team"] == "storage"
    assert document["attributes"]["uname.sysname"] == "Linux"
    assert "segv" in document["classifiers"]
    assert [g["name"] for g in document["globals"]] == ["lock"]
    assert document["globals"][0]["type"] == "pthread_mutex_t"
    assert "--global nonesuch" in result.stderr


def test_bt_on_a_core_matches_bt_on_its_snapshot(crashed, tmp_path):
    program = crashed("assert_fail.c", "-O0")
    snapshot = tmp_path / "a.hsnap"
    assert run("snap", program.core, "-o", snapshot).returncode == 0
    from_core = json.loads(run("bt", program.core, "--json").stdout)
    from_snapshot = json.loads(run("bt", snapshot, "--json").stdout)
    for document in (from_core, from_snapshot):
        document["process"].pop("capture_time")
    assert from_core["threads"] == from_snapshot["threads"]


def test_text_backtrace_puts_the_crashed_thread_first(crashed):
    program = crashed("threads_many.c", "-O0")
    result = run("bt", program.core)
    assert result.returncode == 0
    blocks = result.stdout.split("\n\n")
    assert blocks[0].startswith("Program terminated with signal SIGSEGV (SEGV_MAPERR), fault address 0x18")
    assert "(crashed)" in blocks[1].splitlines()[0]
    assert "explode (where=0x18, value=42)" in blocks[1]
    assert result.stdout.count("Thread ") == 42


def test_bt_thread_option(crashed):
    program = crashed("null_deref.c", "-O0")
    document = json.loads(run("bt", program.core, "--json").stdout)
    other = document["threads"][-1]["tid"]
    only = json.loads(run("bt", program.core, "--json", "--thread", other).stdout)
    assert [t["tid"] for t in only["threads"]] == [other]
    assert_bad_input(run("bt", program.core, "--thread", 1), program.core)


def test_one_shot_commands_flush_everything_before_ending_at_once(crashed, tmp_path):
    # `hydra bt` and `snap` end the process without tearing the interpreter down; what they
    # printed must all arrive, through a pipe read slowly, and a reader that stops early
    # must not turn into a traceback or a failure status.
    program = crashed("threads_many.c", "-O0")
    snapshot = tmp_path / "many.hsnap"
    assert run("snap", program.core, "-o", snapshot).returncode == 0

    from hydra.cli import main

    expected = tmp_path / "expected.json"
    with open(expected, "w") as handle:
        saved, sys.stdout = sys.stdout, handle
        try:
            assert main(["bt", str(snapshot), "--json", "--full"]) == 0
        finally:
            sys.stdout = saved
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    with subprocess.Popen([*HYDRA, "bt", str(snapshot), "--json", "--full"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=buffered) as process:
        received = bytearray()
        while chunk := process.stdout.read(4096):
            received += chunk
        assert process.wait(timeout=60) == 0, process.stderr.read()
    assert len(received) > 64 << 10
    assert json.loads(received) == json.loads(expected.read_text())

    with subprocess.Popen([*HYDRA, "bt", str(snapshot), "--full"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=buffered) as process:
        assert process.stdout.readline().startswith(b"Program terminated with signal SIGSEGV")
        process.stdout.close()
        assert process.wait(timeout=60) == 0
        assert b"Traceback" not in process.stderr.read()


def test_missing_libraries_give_a_partial_snapshot(crashed, tmp_path):
    program = crashed("null_deref.c", "-O0")
    # the executable moved away: frames in it become module+offset, with a warning
    core = tmp_path / "moved.core"
    shutil.copy(program.core, core)
    exe = Path(program.exe)
    hidden = exe.with_suffix(".hidden")
    exe.rename(hidden)
    try:
        result = run("bt", core, "--json")
    finally:
        hidden.rename(exe)
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr and "not found" in result.stderr
    document = json.loads(result.stdout)
    assert exe.name in document["attributes"]["_missing_symbols"]
    top = document["threads"][0]["frames"]
    assert any(f["function"] is None and f["module_offset"] is not None for f in top)


def test_mismatched_executable_is_one_clear_line_and_status_2(crashed, tmp_path):
    program = crashed("null_deref.c", "-O0")
    other = crashed("assert_fail.c", "-O0")
    result = run("bt", program.core, "--exe", other.exe)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert other.exe in result.stderr and "build-id" in result.stderr and "differs" in result.stderr


def test_input_files_are_not_modified(crashed, tmp_path):
    program = crashed("exception.cpp", "-O2")
    before = Path(program.core).read_bytes()
    stat = os.stat(program.core)
    run("snap", program.core, "-o", tmp_path / "x.hsnap")
    assert Path(program.core).read_bytes() == before
    assert os.stat(program.core).st_mtime == stat.st_mtime


def _aarch64_core(tmp_path, source_core):
    data = bytearray(Path(source_core).read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # e_machine: aarch64, notes still x86 sized
    path = tmp_path / "arm.core"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("case", ["missing", "directory", "not_core", "executable", "truncated",
                                  "empty", "other_arch", "unreadable"])
def test_bad_input_is_one_line_and_status_2(case, crashed, tmp_path):
    program = crashed("null_deref.c", "-O0")
    if case == "missing":
        target = tmp_path / "nope.core"
    elif case == "directory":
        target = tmp_path
    elif case == "not_core":
        target = tmp_path / "text.core"
        target.write_text("hello\n" * 100)
    elif case == "executable":
        target = Path(program.exe)
    elif case == "truncated":
        target = tmp_path / "cut.core"
        target.write_bytes(Path(program.core).read_bytes()[:3000])
    elif case == "empty":
        target = tmp_path / "empty.core"
        target.write_bytes(b"")
    elif case == "other_arch":
        data = bytearray(Path(program.core).read_bytes())
        data[18:20] = (40).to_bytes(2, "little")  # EM_ARM
        target = tmp_path / "arm.core"
        target.write_bytes(bytes(data))
    else:
        target = tmp_path / "secret.core"
        shutil.copy(program.core, target)
        target.chmod(0)
        if os.geteuid() == 0:
            pytest.skip("root reads files whatever their mode")
    for command in (["bt", target], ["snap", target, "-o", tmp_path / "o.hsnap"]):
        assert_bad_input(run(*command), target)
    assert not (tmp_path / "o.hsnap").exists()


def test_bad_executable_option(crashed, tmp_path):
    program = crashed("null_deref.c", "-O0")
    assert_bad_input(run("bt", program.core, "--exe", tmp_path / "none"), tmp_path / "none")
    text = tmp_path / "script.sh"
    text.write_text("#!/bin/sh\n")
    assert_bad_input(run("bt", program.core, "--exe", text), text)


def test_truncated_core_keeps_what_is_there(crashed, tmp_path):
    program = crashed("null_deref.c", "-O0")
    data = Path(program.core).read_bytes()
    cut = tmp_path / "half.core"
    cut.write_bytes(data[: len(data) * 3 // 4])
    result = run("bt", cut)
    # either a partial backtrace with a warning or a clean refusal: never a traceback
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert "truncated" in result.stderr
    else:
        assert_bad_input(result, cut)


@pytest.mark.parametrize("args,name", [
    (["{bad}"], "{bad}"),
    (["{sample}", "--theme", "no-such-theme"], "no-such-theme"),
    (["{sample}", "--goto", "x/y"], "x/y"),
])
def test_ui_refuses_bad_input_before_drawing(tmp_path, args, name):
    bad = tmp_path / "broken.hsnap"
    bad.write_bytes(b"HYDRASNP" + b"\0" * 10)
    sample = Path(__file__).resolve().parents[1] / "sample_snapshots" / "default.hsnap"
    argv = [a.format(bad=bad, sample=sample) for a in args]
    assert_bad_input(run(*argv), name.format(bad=bad))


def _mutations(data: bytes, seed: int) -> bytes:
    import random

    rng = random.Random(seed)
    out = bytearray(data)
    # the ELF header, program headers and notes are where a size field can lie
    hot = min(len(out), 64 + 56 * 64 + 8192)
    for _ in range(rng.randint(1, 24)):
        position = rng.randrange(0, hot) if rng.random() < 0.8 else rng.randrange(0, len(out))
        out[position] = rng.randrange(256)
    return bytes(out)


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("HYDRA_FUZZ_CASES", "12"))))
def test_corrupted_cores_never_crash_hydra(crashed, tmp_path, seed):
    program = crashed("null_deref.c", "-O0")
    core = tmp_path / f"mutant{seed}.core"
    core.write_bytes(_mutations(Path(program.core).read_bytes(), seed))
    result = run("bt", core, "--json")
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("HYDRA_FUZZ_CASES", "12"))))
def test_corrupted_snapshots_never_crash_hydra(crashed, tmp_path, seed):
    program = crashed("null_deref.c", "-O0")
    good = tmp_path / "good.hsnap"
    assert run("snap", program.core, "-o", good).returncode == 0
    import random

    rng = random.Random(seed)
    data = bytearray(good.read_bytes())
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    mutant = tmp_path / "mutant.hsnap"
    mutant.write_bytes(bytes(data))
    result = run("bt", mutant, *(["--json", "--full"] if seed % 2 else ["--full"]))
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_bt_options_apply_to_a_snapshot(crashed, tmp_path):
    # --rules and --no-analysis mean on a snapshot what they mean on its core
    program = crashed("null_deref.c", "-O0")
    snapshot = tmp_path / "null.hsnap"
    assert run("snap", program.core, "-o", snapshot).returncode == 0
    rules = tmp_path / "crash.rules"
    rules.write_text("skip lookup_price\n")
    from_core = json.loads(run("bt", program.core, "--json", "--rules", rules).stdout)
    from_snapshot = json.loads(run("bt", snapshot, "--json", "--rules", rules).stdout)
    stored = json.loads(run("bt", snapshot, "--json").stdout)
    assert from_snapshot["fingerprint"] == from_core["fingerprint"] != stored["fingerprint"]
    bare_core = json.loads(run("bt", program.core, "--json", "--no-analysis").stdout)
    bare_snapshot = json.loads(run("bt", snapshot, "--json", "--no-analysis").stdout)
    assert len(stored["classifiers"]) > len(bare_snapshot["classifiers"])
    for part in ("classifiers", "fingerprint", "severity", "annotations"):
        assert bare_snapshot[part] == bare_core[part], part


def test_a_stripped_executable_is_warned_about(crashed, tmp_path):
    program = crashed("null_deref.c", "-O0")
    stripped = tmp_path / "null_deref"
    shutil.copy(program.exe, stripped)
    subprocess.run(["strip", "--strip-all", str(stripped)], check=True)
    os.rename(program.exe, program.exe + ".away")       # only the stripped copy can be found
    try:
        result = run("bt", program.core, "--json", "--exe", stripped)
    finally:
        os.rename(program.exe + ".away", program.exe)
    assert result.returncode == 0, result.stderr
    assert any("no symbols or debug info" in w for w in json.loads(result.stdout)["warnings"])
    assert "no symbols or debug info" in result.stderr


def test_a_sysroot_library_of_another_build_is_warned_about_and_not_used(crashed, tmp_path):
    # libm put where the core says libc was: its build-id is not libc's
    program = crashed("null_deref.c", "-O0")
    document = json.loads(run("bt", program.core, "--json").stdout)
    libc = next(m["path"] for m in document["modules"] if "/libc.so" in m["path"])
    libm = next(p for p in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6",
                            "/lib64/libm.so.6") if os.path.exists(p))
    target = tmp_path / "sysroot" / libc.lstrip("/")
    target.parent.mkdir(parents=True)
    shutil.copy(libm, target)
    result = run("bt", program.core, "--json", "--sysroot", tmp_path / "sysroot")
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert any(str(target) in w and "another build" in w for w in warnings), warnings
    assert "lookup_price" in result.stdout


def test_a_core_cut_short_has_a_partial_fingerprint(crashed, tmp_path):
    # 100 KB of a core: the crashed thread's stack is gone; its bucket is never the whole crash's
    program = crashed("null_deref.c", "-O0")
    cut = tmp_path / "cut.core"
    cut.write_bytes(Path(program.core).read_bytes()[:100_000])
    whole = json.loads(run("bt", program.core, "--json").stdout)
    result = run("bt", cut, "--json")
    assert result.returncode == 0 and "truncated" in result.stderr
    partial = json.loads(result.stdout)
    assert partial["fingerprint"]["hash"] != whole["fingerprint"]["hash"]
    assert any("truncated" in w for w in partial["warnings"])
    header = next(l for l in run("bt", cut).stdout.splitlines() if l.startswith("Fingerprint:"))
    assert "partial: the core is truncated" in header


def test_every_command_parses_its_own_arguments_and_says_its_help(capsys):
    """The parser is made for the command run: each command takes its own options and no
    other's, and `hydra --help`'s command list names them all."""
    from hydra import cli

    for name, _what, _arguments in cli.SUBCOMMANDS:
        with pytest.raises(SystemExit) as done:
            cli._parser(name).parse_args([name, "--help"])
        assert done.value.code == 0, name
        assert f"usage: hydra {name}" in capsys.readouterr().out
    assert cli._parser("x").parse_args(["x", "f.hsnap", "&v", "--count", "4"]).count == 4
    with pytest.raises(SystemExit):
        cli._parser("print").parse_args(["print", "f.hsnap", "v", "--count", "4"])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli._parser(None).parse_args(["--help"])
    listed = capsys.readouterr().out
    assert all(name in listed for name in cli.COMMANDS)
