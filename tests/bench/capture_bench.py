#!/usr/bin/env python3
"""Capture benchmark: `hydra snap` against gdb's `thread apply all bt full` on the same cores.

Whole processes, median of N runs taken in turns, wall seconds and peak RSS (from wait4);
Hydra with its caches as a machine that captured before has them, with empty caches (a
first capture), and with them turned off. Workloads:
  small      a C null dereference in a 4-thread program (tests/programs/null_deref.c)
  threads201 201 threads blocked at recursion depths 0 to 6, locals in every frame
             (tests/programs/threads201.c)
  threads300 ../shared/bench/threads300 (built into the work folder when missing)
  large_cpp  ../shared/bench/large_cpp (about 25 minutes to build; pass a built folder
             with --large-dir, or it is skipped)

usage: capture_bench.py [--runs N] [--work DIR] [--large-dir DIR] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_BENCH = ROOT.parent / "shared" / "bench"
sys.path.insert(0, str(ROOT / "tests"))


def prepare_bytecode() -> None:
    """Measure what users run: Python with its bytecode cache, not compiling every module
    at every start (which PYTHONDONTWRITEBYTECODE would force)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    import compileall
    import sysconfig

    compileall.compile_dir(str(ROOT / "hydra"), quiet=1)
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=1)     # as pip leaves an install


def measure(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process.

    The peak comes from GNU time when it is installed: a child forked from this Python
    process would otherwise report at least this process's own RSS (the kernel keeps the
    pre-exec high-water mark).
    """
    report = None
    if os.path.exists("/usr/bin/time"):
        report = tempfile.NamedTemporaryFile(prefix="hydra-bench-", delete=False)
        report.close()
        command = ["/usr/bin/time", "-f", "%M", "-o", report.name, *command]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    peak = usage.ru_maxrss / 1024
    if report is not None:
        with open(report.name) as handle:
            lines = handle.read().split()
        os.unlink(report.name)
        peak = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else peak
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed with status {status}")
    return wall, peak


def median_of(command: list[str], runs: int, env: dict | None = None) -> tuple[float, float]:
    return interleaved([command], runs, env)[0]


def interleaved(commands: list[list[str]], runs: int, env: dict | None = None) -> list[tuple[float, float]]:
    """Medians of each command, run in turns (a, b, a, b, ...) so that a machine that slows
    down or speeds up during the benchmark weighs on all of them alike."""
    results: list[list[tuple[float, float]]] = [[] for _ in commands]
    for _ in range(runs):
        for command, found in zip(commands, results):
            found.append(measure(command, env))
    return [(statistics.median(r[0] for r in found), statistics.median(r[1] for r in found))
            for found in results]


def program_workload(work: Path, name: str, source: str) -> tuple[Path, Path]:
    """A program of tests/programs, built -O0 and crashed in the work folder."""
    from conftest import PROGRAMS, compile_program, crash_program

    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    exe = compile_program(PROGRAMS / source, folder / Path(source).stem, ["-O0"])
    return exe, crash_program(exe, folder)


def shared_workload(name: str, work: Path, exe_name: str, core_name: str) -> tuple[Path, Path]:
    folder = work / name
    if not (folder / core_name).exists():
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(SHARED_BENCH / name, folder)
        for path in folder.iterdir():
            path.chmod(0o755)
        subprocess.run(["bash", str(folder / "build.sh")], check=True, stdout=subprocess.DEVNULL)
    return folder / exe_name, folder / core_name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hydra-bench")
    parser.add_argument("--large-dir", type=Path, help="a folder holding a built large_cpp (large, large.core)")
    parser.add_argument("--only", nargs="*", default=["small", "threads201", "threads300", "large_cpp"])
    args = parser.parse_args()
    prepare_bytecode()
    args.work.mkdir(parents=True, exist_ok=True)
    hydra = str(Path(sys.executable).with_name("hydra"))
    gdb = shutil.which("gdb")
    if gdb is None:
        print("gdb is needed for the comparison", file=sys.stderr)
        return 2

    workloads = []
    if "small" in args.only:
        workloads.append(("small", *program_workload(args.work, "small", "null_deref.c")))
    if "threads201" in args.only:
        workloads.append(("threads201", *program_workload(args.work, "threads201", "threads201.c")))
    if "threads300" in args.only:
        workloads.append(("threads300", *shared_workload("threads300", args.work, "threads", "threads.core")))
    if "large_cpp" in args.only:
        if args.large_dir and (args.large_dir / "large.core").exists():
            workloads.append(("large_cpp", args.large_dir / "large", args.large_dir / "large.core"))
        else:
            print("large_cpp: skipped (build it with ../shared/bench/large_cpp/build.sh, "
                  "then pass --large-dir)", file=sys.stderr)

    print(f"{'workload':<12} {'gdb bt full':>18} {'hydra snap':>18} {'time ratio':>11} {'memory ratio':>13}")
    for name, exe, core in workloads:
        output = args.work / f"{name}.hsnap"
        (gdb_wall, gdb_rss), (hydra_wall, hydra_rss), (bare_wall, _) = interleaved([
            [gdb, "-batch", "-nx", "-ex", "thread apply all bt full", str(exe), str(core)],
            [hydra, "snap", str(core), "-o", str(output)],
            [hydra, "snap", "--no-analysis", str(core), "-o", str(output) + ".bare"]], args.runs)
        with tempfile.TemporaryDirectory(prefix="hydra-bench-cache-") as empty_cache:
            # the first capture on a machine inflates compressed debug files into the cache
            # and remembers the scopes it found
            cold_wall, cold_rss = measure([hydra, "snap", str(core), "-o", str(output)],
                                          {**os.environ, "XDG_CACHE_HOME": empty_cache})
        uncached_wall, _ = median_of([hydra, "snap", str(core), "-o", str(output)], args.runs,
                                     {**os.environ, "HYDRA_DEBUG_CACHE": "0"})
        from hydra.model.files import data_bytes

        with open(core, "rb") as handle:
            core_size = data_bytes(handle.fileno())
        print(f"{name:<12} {gdb_wall:7.2f} s {gdb_rss:6.0f} MB {hydra_wall:7.2f} s {hydra_rss:6.0f} MB "
              f"{hydra_wall / gdb_wall:10.2f}x {hydra_rss / gdb_rss:12.2f}x"
              f"   snapshot {output.stat().st_size / 1024:.0f} KiB = "
              f"{100 * output.stat().st_size / core_size:.1f}% of the core's {core_size / 1024:.0f} KiB of data;"
              f" analysis adds {100 * (hydra_wall - bare_wall) / bare_wall:+.0f}% ({bare_wall:.2f} s without);"
              f" first capture with empty caches {cold_wall:.2f} s, {cold_rss:.0f} MB;"
              f" caches off {uncached_wall:.2f} s ({uncached_wall / gdb_wall:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
