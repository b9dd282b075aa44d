"""`hydra bt` and `hydra snap` on minidumps, as users run them."""

from __future__ import annotations

import json
import os
import subprocess

from tests.conftest import hydra_command


def run(*args: str, env: dict | None = None, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(hydra_command() + list(args), capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def test_bt_json_shape(dumps):
    done = run("bt", "--json", str(dumps / "breakpad/minidump2.dmp"), "--symbols", str(dumps / "breakpad/symbols"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["crash_reason"] == "EXCEPTION_ACCESS_VIOLATION_WRITE"
    assert report["signal"]["name"] == "EXCEPTION_ACCESS_VIOLATION_WRITE" and report["signal"]["address"] == 0x45
    crashed = report["threads"][0]
    assert crashed["crashed"] is True and crashed["tid"] == report["crashed_tid"] == 3060
    assert [f["trust"] for f in crashed["frames"]] == ["context", "cfi", "cfi", "cfi"]
    assert all(f["module_offset"] is not None for t in report["threads"] for f in t["frames"])
    assert crashed["frames"][0]["function"] == "`anonymous namespace'::CrashFunction"
    assert "_missing_symbols" in report["attributes"]
    assert {m["debug_id"] for m in report["modules"]} >= {"5A9832E5287241C1838ED98914E9B7FF1"}


def test_symbol_path_from_the_environment_and_the_config(dumps, tmp_path):
    dump = str(dumps / "breakpad/minidump2.dmp")
    without = json.loads(run("bt", "--json", dump).stdout)
    assert without["threads"][0]["frames"][0]["function"] is None
    env = {"HYDRA_SYMBOL_PATH": f"/nonexistent:{dumps / 'breakpad/symbols'}"}
    with_env = json.loads(run("bt", "--json", dump, env=env).stdout)
    assert with_env["threads"][0]["frames"][1]["function"] == "main"
    config = tmp_path / "config" / "hydra"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f'symbols = ["{dumps / "breakpad/symbols"}"]\n')
    with_config = json.loads(run("bt", "--json", dump, env={"XDG_CONFIG_HOME": str(tmp_path / "config")}).stdout)
    assert with_config["threads"][0]["frames"][1]["function"] == "main"


def test_snap_makes_a_self_contained_snapshot(dumps, tmp_path):
    dump = str(dumps / "breakpad/minidump2.dmp")
    symbols = str(dumps / "breakpad/symbols")
    done = run("snap", dump, "--symbols", symbols, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    snapshot = tmp_path / "minidump2.dmp.hsnap"
    assert snapshot.is_file() and "wrote" in done.stderr
    direct = json.loads(run("bt", "--json", dump, "--symbols", symbols).stdout)
    reopened = json.loads(run("bt", "--json", str(snapshot)).stdout)
    for key in ("crash_reason", "signal", "crashed_tid", "threads", "attributes"):
        assert reopened[key] == direct[key], key


def test_text_backtrace_names_the_reason(dumps):
    done = run("bt", str(dumps / "symbolic/fixtures/macos/mini.dmp"))
    assert done.returncode == 0
    assert done.stdout.startswith("Program terminated with signal EXC_BAD_ACCESS (KERN_INVALID_ADDRESS), fault address 0x45.")


def test_bt_of_several_files_gives_one_json_line_each_in_order(dumps, tmp_path):
    files = [str(dumps / name) for name in ("breakpad/minidump2.dmp", "breakpad/linux_null_read_av.dmp",
                                            "symbolic/fixtures/linux/mini.dmp", "symbolic/fixtures/windows/mini.dmp")]
    broken = tmp_path / "broken.dmp"
    broken.write_bytes(b"MDMP" + bytes(20))
    batch = files[:2] + [str(broken)] + files[2:]
    symbols = ["--symbols", str(dumps / "breakpad/symbols")]
    done = run("bt", "--json", *batch, *symbols)
    assert done.returncode == 2
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["file"] for line in lines] == batch
    assert "error" in lines[2] and str(broken) in done.stderr and done.stderr.count("\n") == 1
    # each line is what `bt --json FILE` says of the file alone
    for path, line in zip(batch, lines):
        if path == str(broken):
            continue
        alone = json.loads(run("bt", "--json", path, *symbols).stdout)
        alone.pop("conventions")
        assert line == {"file": path, **alone}


def test_a_file_whose_reading_process_died_gets_its_error_line_and_the_batch_goes_on(dumps, monkeypatch, capsys):
    import signal

    import hydra.cli

    files = [str(dumps / name) for name in ("breakpad/minidump2.dmp", "breakpad/linux_null_read_av.dmp",
                                            "symbolic/fixtures/linux/mini.dmp")]
    reading = hydra.cli._bt_one

    def dies_on_the_second(path: str):
        if path == files[1]:
            os.kill(os.getpid(), signal.SIGKILL)       # as a crash in native code would end it
        return reading(path)

    monkeypatch.setattr(hydra.cli, "_bt_one", dies_on_the_second)
    status = hydra.cli.main(["bt", "--json", *files, "--symbols", str(dumps / "breakpad/symbols")])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 2
    assert [line["file"] for line in lines] == files
    assert "threads" in lines[0] and "threads" in lines[2]
    assert lines[1]["error"] == f"{files[1]}: the worker process reading it was killed by SIGKILL"
    assert err.count("\n") == 1 and "was killed by SIGKILL" in err


def test_a_file_that_trips_a_bug_gets_its_line_and_the_batch_goes_on(dumps, monkeypatch, capsys):
    import hydra.cli

    files = [str(dumps / name) for name in ("breakpad/minidump2.dmp", "symbolic/fixtures/linux/mini.dmp")]
    opening = hydra.cli._open_crash

    def fails_on_the_first(args, path, *rest):
        if path == files[0]:
            raise ZeroDivisionError("a bug\tin a reader")
        return opening(args, path, *rest)

    monkeypatch.delenv("HYDRA_DEBUG", raising=False)
    monkeypatch.setattr(hydra.cli, "_open_crash", fails_on_the_first)
    status = hydra.cli.main(["bt", "--json", *files])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 2 and [line["file"] for line in lines] == files
    assert lines[0]["error"] == (f"{files[0]}: internal error: ZeroDivisionError: a bug\\x09in a reader "
                                 "(HYDRA_DEBUG=1 shows more)")
    assert "threads" in lines[1]
