#!/usr/bin/env python3
"""Live snapshot benchmark: how long the target is stopped, and the whole time, for
`hydra snap --pid` against `gcore` followed by `hydra snap` on the core it writes.

The stop is measured from outside: a thread polls /proc/PID/task/*/stat every 0.2 ms and
records the first and last moment any thread is in tracing stop (`t`). Workloads, kept alive:
  small       tests/programs/counter.c (4 threads)
  threads300  ../shared/bench/threads300 built with its crashing thread disabled

usage: live_bench.py [--runs N] [--work DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests"))

from capture_bench import SHARED_BENCH, prepare_bytecode  # noqa: E402


class StopWatch:
    """First and last time any thread of pid was seen stopped by a tracer."""

    def __init__(self, pid: int):
        self.pid = pid
        self.first = self.last = None
        self.running = True
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        task = f"/proc/{self.pid}/task"
        while self.running:
            try:
                tids = os.listdir(task)
            except OSError:
                return
            for tid in tids[:8]:     # a stop takes all threads; a few tell
                try:
                    with open(f"{task}/{tid}/stat") as handle:
                        state = handle.read().rsplit(")", 1)[1].split()[0]
                except (OSError, IndexError):
                    continue
                if state in ("t", "T"):
                    now = time.perf_counter()
                    self.first = self.first or now
                    self.last = now
                    break
            time.sleep(0.0002)

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        return (self.last - self.first) if self.first else 0.0


def timed(command: list[str], pid: int) -> tuple[float, float, str]:
    watch = StopWatch(pid)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    stopped = watch.stop()
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()}")
    return wall, stopped, done.stderr


@contextlib.contextmanager
def running(command: list[str]):
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)          # every thread parked
        yield process.pid
    finally:
        process.kill()
        process.wait()


def workloads(work: Path) -> list[tuple[str, list[str]]]:
    from conftest import PROGRAMS, compile_program

    small = compile_program(PROGRAMS / "counter.c", work / "counter", ["-O0"])
    source = (SHARED_BENCH / "threads300" / "threads.c").read_text()
    alive = work / "threads_alive.c"
    alive.write_text(source.replace("#define CRASHER  137", "#define CRASHER  -1"))
    threads = compile_program(alive, work / "threads_alive", ["-O0"])
    return [("small", [str(small), "/dev/null"]), ("threads300", [str(threads)])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hydra-live-bench")
    args = parser.parse_args()
    prepare_bytecode()
    args.work.mkdir(parents=True, exist_ok=True)
    hydra = str(Path(sys.executable).with_name("hydra"))
    print(f"{'workload':<12} {'hydra stopped':>14} {'hydra total':>12} {'gcore stopped':>14} {'gcore+snap':>11}")
    for name, command in workloads(args.work):
        ours, theirs = [], []
        for _run in range(args.runs):
            # a fresh target for each tool: gdb's detach can leave threads settling for a while
            with running(command) as pid:
                output = args.work / f"{name}.hsnap"
                wall, stopped, _ = timed([hydra, "snap", "--pid", str(pid), "-o", str(output)], pid)
                ours.append((stopped, wall))
            with running(command) as pid:
                core = args.work / f"{name}.gcore"
                gwall, gstopped, _ = timed(["gcore", "-o", str(core), str(pid)], pid)
                written = Path(f"{core}.{pid}")
                swall, _, _ = timed([hydra, "snap", str(written), "-o", str(output) + ".2"], pid)
                written.unlink()
                theirs.append((gstopped, gwall + swall))
        ms = lambda values: statistics.median(values) * 1000    # noqa: E731
        print(f"{name:<12} {ms([o[0] for o in ours]):11.1f} ms {ms([o[1] for o in ours]) / 1000:10.2f} s "
              f"{ms([t[0] for t in theirs]):11.1f} ms {ms([t[1] for t in theirs]) / 1000:9.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
