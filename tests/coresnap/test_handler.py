"""The crash collector, driven exactly as the kernel drives it: a real core on stdin and the
core_pattern arguments (%P %I %s %t %E)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import hydra_command


@pytest.fixture(scope="module")
def core(crashed):
    program = crashed("null_deref.c", "-O0")
    return program


def handle(archive: Path, core_path: str | None, pid: int, exe: str, data: bytes | None = None,
           config: Path | None = None, env: dict | None = None, when: int | None = None) -> subprocess.CompletedProcess:
    command = hydra_command() + ["coresnap", "handle", "--dir", str(archive)]
    if config:
        command += ["--config", str(config)]
    command += [str(pid), str(pid), "11", str(when or int(time.time())), exe.replace("/", "!")]
    stdin = data if data is not None else Path(core_path).read_bytes()
    return subprocess.run(command, input=stdin, capture_output=True, timeout=300,
                          env={**os.environ, **(env or {})})


def entries(archive: Path) -> list[dict]:
    found = []
    for path in sorted((archive / "entries").glob("*/entry.json")):
        found.append(json.loads(path.read_text()))
    return found


def test_one_crash_becomes_a_snapshot(core, tmp_path):
    archive = tmp_path / "archive"
    done = handle(archive, core.core, 4242, core.exe)
    assert done.returncode == 0, done.stderr
    [entry] = entries(archive)
    assert entry["state"] == "done" and entry["error"] is None
    assert entry["executable"] == core.exe and entry["size"] == os.path.getsize(core.core)
    assert not (archive / "entries" / entry["id"] / "core").exists()          # keep_core is off
    from hydra.snapshot import read_snapshot

    crash = read_snapshot(entry["snapshot"])
    assert crash.crashed_thread.frames[0].function == "lookup_price"
    assert crash.attributes["coresnap.entry"] == entry["id"]
    assert "stored the core" in (archive / "coresnap.log").read_text()
    listing = subprocess.run(hydra_command() + ["coresnap", "list", "--dir", str(archive)], capture_output=True,
                             text=True, timeout=60)
    assert entry["id"] in listing.stdout and "done" in listing.stdout


def test_ten_crashes_at_once(core, tmp_path):
    archive = tmp_path / "archive"
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda i: handle(archive, core.core, 5000 + i, core.exe, when=1700000000), range(10)))
    assert [r.returncode for r in results] == [0] * 10
    found = entries(archive)
    assert len(found) == 10 and {e["state"] for e in found} == {"done"}
    assert len({e["id"] for e in found}) == 10
    assert len(list((archive / "snapshots" / "default").glob("*.hsnap"))) == 10


def test_full_disk_skips_and_says_so(core, tmp_path):
    archive = tmp_path / "archive"
    config = tmp_path / "config.toml"
    config.write_text('[coresnap]\n[coresnap.dump]\nquota = 100\n')
    done = handle(archive, core.core, 4343, core.exe, config=config)
    assert done.returncode == 0
    assert entries(archive) == []
    log = (archive / "coresnap.log").read_text()
    assert "skipped the core of pid 4343" in log and "dump.quota" in log


def test_corrupt_core_stays_pending_then_retry(core, tmp_path):
    archive = tmp_path / "archive"
    done = handle(archive, None, 4444, core.exe, data=b"\x7fELF" + b"\0" * 100)
    assert done.returncode == 1
    [entry] = entries(archive)
    assert entry["state"] == "pending" and "cannot read the core" in entry["error"]
    # the core was damaged in transit; put the real one back and retry
    (archive / "entries" / entry["id"] / "core").write_bytes(Path(core.core).read_bytes())
    retry = subprocess.run(hydra_command() + ["coresnap", "retry", entry["id"], "--dir", str(archive)],
                           capture_output=True, text=True, timeout=300)
    assert retry.returncode == 0, retry.stderr
    [entry] = entries(archive)
    assert entry["state"] == "done" and entry["error"] is None


def test_a_crashing_snapshot_step_keeps_the_core(core, tmp_path):
    archive = tmp_path / "archive"
    done = handle(archive, core.core, 4545, core.exe, env={"HYDRA_CORESNAP_FAULT": "snapshot"})
    assert done.returncode == 1
    [entry] = entries(archive)
    assert entry["state"] == "pending" and "died of SIGSEGV" in entry["error"]
    kept = archive / "entries" / entry["id"] / "core"
    assert kept.read_bytes() == Path(core.core).read_bytes()
    retry = subprocess.run(hydra_command() + ["coresnap", "retry", entry["id"], "--dir", str(archive)],
                           capture_output=True, text=True, timeout=300)
    assert retry.returncode == 0 and entries(archive)[0]["state"] == "done"


def test_routes_keep_core_and_defaults_command(core, tmp_path):
    archive = tmp_path / "archive"
    defaults = tmp_path / "defaults.sh"
    defaults.write_text("#!/bin/sh\necho team=pricing\necho program=$(basename \"$1\")\n")
    defaults.chmod(0o755)
    config = tmp_path / "config.toml"
    config.write_text(f'[coresnap]\nkeep_core = true\ndefaults_command = "{defaults}"\n'
                      'route = ["pricing null_.*", "other nothing"]\n')
    assert handle(archive, core.core, 4646, core.exe, config=config).returncode == 0
    [entry] = entries(archive)
    assert entry["route"] == "pricing" and "/snapshots/pricing/" in entry["snapshot"]
    assert (archive / "entries" / entry["id"] / "core").exists()
    from hydra.snapshot import read_snapshot

    attributes = read_snapshot(entry["snapshot"]).attributes
    assert attributes["team"] == "pricing" and attributes["program"] == os.path.basename(core.exe)


def test_proc_facts_of_a_process_still_there(tmp_path, crashed):
    """While the kernel dumps, /proc/PID still shows the process: a live process stands in."""
    from conftest import PROGRAMS, compile_program
    from hydra.live.corewriter import read_maps, write_core
    from hydra.live.proc import process_figures
    from hydra.live.ptrace import Stopped

    exe = compile_program(PROGRAMS / "counter.c", tmp_path / "counter", ["-O0"])
    process = subprocess.Popen([str(exe), "/dev/null"])
    try:
        for _ in range(200):
            if len(os.listdir(f"/proc/{process.pid}/task")) == 4:
                break
            time.sleep(0.01)
        with Stopped(process.pid) as stopped:
            threads = [(t, *stopped.registers(t)) for t in sorted(stopped.tids, key=lambda t: (t != process.pid, t))]
            write_core(str(tmp_path / "core"), process.pid, threads, read_maps(process.pid),
                       process_figures(process.pid))
        archive = tmp_path / "archive"
        assert handle(archive, str(tmp_path / "core"), process.pid, str(exe)).returncode == 0
    finally:
        process.kill()
        process.wait()
    [entry] = entries(archive)
    from hydra.snapshot import read_snapshot

    crash = read_snapshot(entry["snapshot"])
    assert {t.name for t in crash.threads} >= {"sleeper", "waiter", "spinner"}
    assert any(t.kernel_frames for t in crash.threads)
    assert crash.system["process"]["threads"] == "4" and crash.system["machine"]["memory_total"]


def test_purge(core, tmp_path):
    archive = tmp_path / "archive"
    assert handle(archive, core.core, 4747, core.exe, when=1000).returncode == 0
    assert handle(archive, core.core, 4748, core.exe).returncode == 0
    config = tmp_path / "config.toml"
    config.write_text('[coresnap]\n[coresnap.purge]\nage = "1d"\ndisabled = true\n')
    subprocess.run(hydra_command() + ["coresnap", "purge", "--dir", str(archive), "--config", str(config)],
                   check=True, capture_output=True, timeout=60)
    assert len(entries(archive)) == 2
    config.write_text('[coresnap]\n[coresnap.purge]\nage = "1d"\n')
    subprocess.run(hydra_command() + ["coresnap", "purge", "--dir", str(archive), "--config", str(config)],
                   check=True, capture_output=True, timeout=60)
    assert [e["pid"] for e in entries(archive)] == [4748]


@pytest.mark.skipif(os.environ.get("HYDRA_TEST_CORE_PATTERN") != "1",
                    reason="changes the machine's core_pattern: set HYDRA_TEST_CORE_PATTERN=1 where that is allowed")
def test_installed_in_the_kernel(tmp_path, crashed):
    from conftest import PROGRAMS, compile_program

    import tempfile

    archive = Path(tempfile.mkdtemp(prefix="hy", dir="/tmp"))     # core_pattern holds 127 characters
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    subprocess.run(hydra_command() + ["coresnap", "install", "--dir", str(archive)], check=True, timeout=60)
    try:
        exe = compile_program(PROGRAMS / "null_deref.c", tmp_path / "victim", ["-O0"])
        import resource

        subprocess.run([str(exe)], preexec_fn=lambda: resource.setrlimit(
            resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)), timeout=60)
        for _ in range(300):
            if entries(archive) and entries(archive)[0]["state"] == "done":
                break
            time.sleep(0.1)
    finally:
        subprocess.run(hydra_command() + ["coresnap", "uninstall", "--dir", str(archive)], check=True, timeout=60)
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before
    [entry] = entries(archive)
    assert entry["state"] == "done" and entry["executable"] == str(exe)


def test_install_refuses_a_line_the_kernel_would_cut(tmp_path):
    from hydra.coresnap.install import handler_line

    with pytest.raises(ValueError, match="kernel keeps 127"):
        handler_line("/tmp/" + "x" * 120, None)


def test_the_archive_is_for_its_owner_only(core, tmp_path):
    import stat

    archive = tmp_path / "archive"
    config = tmp_path / "config.toml"
    config.write_text("[coresnap]\nkeep_core = true\n")
    assert handle(archive, core.core, 4848, core.exe, config=config).returncode == 0
    [entry] = entries(archive)
    for path in (archive, archive / "entries" / entry["id"], archive / "entries" / entry["id"] / "core",
                 Path(entry["snapshot"])):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_the_snapshot_step_uses_the_configured_fingerprint_rules(core, tmp_path):
    # the same rules give the same frames in coresnap's snapshot and in `hydra bt --rules`
    archive = tmp_path / "archive"
    rules = tmp_path / "crash.rules"
    rules.write_text("skip lookup_price\n")
    config = tmp_path / "config.toml"
    config.write_text(f'fingerprint_rules = "{rules}"\n')
    done = handle(archive, core.core, 4747, core.exe, config=config)
    assert done.returncode == 0, done.stderr
    [entry] = entries(archive)
    assert entry["state"] == "done", entry
    from hydra.snapshot import read_snapshot

    stored = read_snapshot(entry["snapshot"]).attributes["fingerprint.frames"]
    printed = subprocess.run(hydra_command() + ["bt", core.core, "--json", "--rules", str(rules)],
                             capture_output=True, text=True, timeout=120)
    assert json.loads(printed.stdout)["fingerprint"]["frames"] == stored.split(" | ")
    assert not stored.startswith("lookup_price")


def test_each_new_snapshot_goes_into_the_configured_store(core, tmp_path):
    archive = tmp_path / "archive"
    store = tmp_path / "store" / "crashes.db"
    store.parent.mkdir(mode=0o700)
    config = tmp_path / "config.toml"
    config.write_text(f'[coresnap]\nstore = "{store}"\n')
    for pid in (5151, 5152):
        assert handle(archive, core.core, pid, core.exe, config=config).returncode == 0
    rows = json.loads(subprocess.run(hydra_command() + ["query", "--db", str(store), "--json", "--select",
                                                        "program,path,fingerprint,origin"],
                                     capture_output=True, text=True, timeout=60).stdout)
    snapshots = sorted(entry["snapshot"] for entry in entries(archive))
    assert sorted(row["path"] for row in rows) == snapshots
    assert {row["program"] for row in rows} == {os.path.basename(core.exe)}
    assert "added to the crash store" in (archive / "coresnap.log").read_text()
    # a store that cannot be written costs a log line, never the snapshot
    config.write_text('[coresnap]\nstore = "/proc/nonexistent/crashes.db"\n')
    assert handle(archive, core.core, 5153, core.exe, config=config).returncode == 0
    assert all(entry["state"] == "done" for entry in entries(archive))
    assert "not added to the crash store" in (archive / "coresnap.log").read_text()
    # a link planted where the store is, in a folder others can write: refused, not followed
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (shared / "crashes.db").symlink_to(victim)
    config.write_text(f'[coresnap]\nstore = "{shared / "crashes.db"}"\n')
    assert handle(archive, core.core, 5154, core.exe, config=config).returncode == 0
    assert victim.read_text() == "precious"
    assert "is not this user's alone" in (archive / "coresnap.log").read_text()


def test_a_team_store_on_postgresql_takes_each_new_snapshot(core, tmp_path, postgresql_server):
    """`store = "postgresql://..."`: the snapshot goes into a shared store; its password is
    never logged."""
    archive = tmp_path / "archive"
    url = postgresql_server.new_database()
    config = tmp_path / "config.toml"
    config.write_text(f'[coresnap]\nstore = "{url}"\n')
    assert handle(archive, core.core, 6161, core.exe, config=config).returncode == 0
    rows = json.loads(subprocess.run(hydra_command() + ["query", "--db", url, "--json", "--select", "program,path"],
                                     capture_output=True, text=True, timeout=60).stdout)
    assert [row["path"] for row in rows] == [entry["snapshot"] for entry in entries(archive)]
    assert "added to the crash store postgresql://" in (archive / "coresnap.log").read_text()
    # a server that cannot be reached: one log line, with the password left out, and the snapshot kept
    unreachable = "postgresql://nobody:secret-word@/crashes?password=other-secret&host=/nonexistent"
    config.write_text(f'[coresnap]\nstore = "{unreachable}"\n')
    assert handle(archive, core.core, 6162, core.exe, config=config).returncode == 0
    assert all(entry["state"] == "done" for entry in entries(archive))
    log = (archive / "coresnap.log").read_text()
    assert "not added to the crash store postgresql://nobody:…@" in log
    assert "secret-word" not in log and "other-secret" not in log
