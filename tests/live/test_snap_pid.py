"""`hydra snap --pid`: a running program snapshotted, and running on as before."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PROGRAMS, compile_program
from tests.conftest import hydra_command, snapshot_text

STABLE = ("sleeper", "waiter", "spinner")      # threads whose state does not flicker


@pytest.fixture(scope="module")
def counter(tmp_path_factory):
    folder = tmp_path_factory.mktemp("counter")
    exe = compile_program(PROGRAMS / "counter.c", folder / "counter", ["-O0"])
    count_file = folder / "count.txt"
    process = subprocess.Popen([str(exe), str(count_file)], env={**os.environ, "HYDRA_SECRET": "s3cret"})
    for _ in range(200):
        if count_file.exists() and count_file.read_text().strip() and len(os.listdir(f"/proc/{process.pid}/task")) == 4:
            break
        time.sleep(0.02)
    yield process, count_file
    process.kill()
    process.wait()


def states(pid: int) -> dict[str, str]:
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        out[name] = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return out


def count(path: Path) -> int:
    for _ in range(50):
        text = path.read_text().strip()
        if text:
            return int(text)
        time.sleep(0.01)
    raise AssertionError("the counter stopped writing")


def test_snapshot_of_a_running_process(counter, tmp_path):
    process, count_file = counter
    before_states = states(process.pid)
    before = count(count_file)
    output = tmp_path / "live.hsnap"
    done = subprocess.run(hydra_command() + ["snap", "--pid", str(process.pid), "-o", str(output)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "was stopped for" in done.stderr
    time.sleep(0.1)
    assert count(count_file) > before                      # it kept counting
    after_states = states(process.pid)
    assert {n: after_states[n] for n in STABLE} == {n: before_states[n] for n in STABLE}
    assert process.poll() is None

    from hydra.snapshot import read_snapshot

    crash = read_snapshot(str(output))
    assert crash.attributes["snapshot.kind"] == "live" and crash.signal is None
    names = {t.name: t for t in crash.threads}
    assert set(names) >= {"counter", *STABLE}
    assert {t.state for t in crash.threads if t.name in ("sleeper", "waiter")} == {"S"}
    assert names["spinner"].state == "R"
    assert [f.function for f in names["sleeper"].frames if f.function == "sleeper"]
    assert any(f.function == "waiter" for f in names["waiter"].frames)
    assert any(f.function == "spinner" for f in names["spinner"].frames)
    assert names["sleeper"].kernel_frames, "kernel stacks are read where /proc lets us"
    assert crash.system["process"]["rss"] and crash.system["process"]["open_files"] >= 3
    assert crash.system["machine"]["memory_total"] and crash.system["machine"]["load_average"]
    assert crash.system["stopped_seconds"] > 0
    assert "environment" not in crash.system
    assert "s3cret" not in snapshot_text(crash) and "HYDRA_SECRET" not in snapshot_text(crash)
    waits = [a.text for a in crash.annotations if a.text.startswith("waits for mutex")]
    assert waits and str(process.pid) in waits[0]


def test_environment_only_when_asked(counter, tmp_path):
    process, _ = counter
    output = tmp_path / "env.hsnap"
    done = subprocess.run(hydra_command() + ["snap", "--pid", str(process.pid), "--env", "-o", str(output)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from hydra.snapshot import read_snapshot

    crash = read_snapshot(str(output))
    assert crash.system["environment"]["HYDRA_SECRET"] == "s3cret"
    # kept memory has it too when asked: the test without --env can fail
    assert any(b"HYDRA_SECRET=s3cret" in region.data for region in crash.memory.regions)


def test_an_interrupted_snapshot_leaves_no_file(counter, tmp_path):
    """The temporary core has no name at any time: killing Hydra mid-way leaves nothing."""
    process, _ = counter
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    for delay in (0.05, 0.2, 0.5):
        snap = subprocess.Popen(hydra_command() + ["snap", "--pid", str(process.pid), "-o", str(tmp_path / "x.hsnap")],
                                env={**os.environ, "TMPDIR": str(temporary)}, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        snap.kill()
        snap.wait()
        assert list(temporary.iterdir()) == []
    assert states(process.pid)["sleeper"] in "SR"       # and the process runs on


def test_no_such_process():
    done = subprocess.run(hydra_command() + ["snap", "--pid", "999999999"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "hydra: process 999999999: no such process"


def test_another_tracer_is_refused(counter):
    process, _ = counter
    tracer = subprocess.Popen([sys.executable, "-c", (
        "import ctypes, sys, time\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"assert libc.ptrace(0x4206, {process.pid}, 0, 0) == 0\n"
        "print('attached', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert tracer.stdout.readline().strip() == "attached"
        done = subprocess.run(hydra_command() + ["snap", "--pid", str(process.pid)], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2
        assert "another tracer" in done.stderr and done.stderr.count("\n") == 1
    finally:
        tracer.kill()
        tracer.wait()
    time.sleep(0.05)
    assert states(process.pid)["sleeper"] == "S"          # never left stopped


async def test_system_and_kernel_tabs_show_the_live_facts(counter, tmp_path):
    process, _ = counter
    from hydra.live.snapshot import snap_pid
    from tests.tui.conftest import make_app

    crash = snap_pid(process.pid)
    app = make_app(crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.set_tab("system")
        await pilot.pause()
        text = "\n".join(app.side_view.text_lines()[:200])
        assert "process.rss" in text and "machine.load_average" in text and "stopped_seconds" in text
        sleeper = next(t for t in crash.threads if t.name == "sleeper")
        app.select_thread(sleeper)
        app.set_tab("kernel")
        await pilot.pause()
        shown = app.side_view.text_lines()[:50]
        assert sleeper.kernel_frames and all(frame in "\n".join(shown) for frame in sleeper.kernel_frames[:3])


def test_permission_denied_leaves_it_running(tmp_path):
    """A process that is not dumpable may be traced only with CAP_SYS_PTRACE: without it, one line."""
    import shutil

    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to take CAP_SYS_PTRACE away")
    source = tmp_path / "guarded.c"
    source.write_text("#include <sys/prctl.h>\n#include <unistd.h>\n"
                      "int main(void) { prctl(PR_SET_DUMPABLE, 0); for (;;) sleep(1); }\n")
    exe = compile_program(source, tmp_path / "guarded", ["-O0"])
    process = subprocess.Popen([str(exe)])
    try:
        time.sleep(0.2)
        done = subprocess.run([setpriv, "--bounding-set", "-sys_ptrace", "--inh-caps", "-sys_ptrace",
                               *hydra_command(), "snap", "--pid", str(process.pid), "-o", str(tmp_path / "x.hsnap")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert "permission denied" in done.stderr and done.stderr.count("\n") == 1
        assert Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "S"
    finally:
        process.kill()
        process.wait()
