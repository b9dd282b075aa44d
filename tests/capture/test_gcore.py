"""A core written by gdb's gcore, which leaves the binaries' code and read-only data out:
capture reads them from the files, so every thread unwinds as gdb unwinds it and every
frame keeps its code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capture.compare import missing_frames  # noqa: E402
from conftest import PROGRAMS, compile_program  # noqa: E402
from oracle.gdb import gdb_view  # noqa: E402


@pytest.fixture(scope="module")
def gcore_core(tmp_path_factory):
    gcore = shutil.which("gcore")
    if gcore is None:
        pytest.skip("gcore is not installed (.ci/run installs gdb)")
    folder = tmp_path_factory.mktemp("gcore")
    exe = compile_program(PROGRAMS / "blocked.c", folder / "blocked", ["-O0"])
    process = subprocess.Popen([str(exe)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "waiting"
        subprocess.run([gcore, "-o", str(folder / "core"), str(process.pid)], check=True, capture_output=True,
                       timeout=120)
    finally:
        process.kill()
        process.wait()
    return str(exe), str(folder / f"core.{process.pid}")


def test_a_gcore_core_unwinds_as_gdb_and_keeps_code(gcore_core):
    from hydra.capture.engine import capture_core

    exe, core = gcore_core
    crash = capture_core(core)
    oracle = gdb_view(exe, core)
    thread = crash.threads[0]
    gdb_thread = next(t for t in oracle["threads"] if t["tid"] == thread.tid)
    # the program's code is not in the core itself
    from hydra.capture.corefile import read_core

    waiting = next(f["pc"] for f in gdb_thread["frames"] if f["name"] == "wait_for_signal")
    assert not any(s.vaddr <= waiting < s.vaddr + s.memsz for s in read_core(core).segments)
    assert not missing_frames(thread, gdb_thread)
    assert [f.function for f in thread.frames if f.module == exe][:5] == \
        ["wait_for_signal", "nest", "nest", "nest", "nest"]
    for frame in thread.frames:
        before = frame.pc - (0 if frame.trust == "context" else 1)
        assert crash.memory.read(before, 1) is not None, (frame.index, frame.function)
