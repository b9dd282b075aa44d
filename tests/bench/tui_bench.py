#!/usr/bin/env python3
"""UI benchmark: process start to first painted screen, and scrolling large views.

  start-up   `hydra FILE` until the first screen is drawn (headless, HYDRA_EXIT_ON_READY),
             median of N runs, for the bundled sample and a 300-thread snapshot
  scrolling  a 20,000-line source file and a 100 MB memory region: first paint of the tab,
             then 200 page-downs and 200 cursor steps, time per key (render only what shows)

usage: tui_bench.py [--runs N] [--threads-core CORE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
SAMPLE = ROOT / "sample_snapshots" / "default.hsnap"


def startup(path: Path, runs: int) -> tuple[float, float]:
    """(process start to first painted screen, whole process) in seconds, medians."""
    painted, whole = [], []
    hydra = str(Path(sys.executable).with_name("hydra"))
    with tempfile.TemporaryDirectory() as folder:
        marker = Path(folder) / "painted"
        env = {**os.environ, "HYDRA_EXIT_ON_READY": str(marker)}
        for _ in range(runs):
            started = time.time()
            subprocess.run([hydra, str(path)], env=env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            whole.append(time.time() - started)
            painted.append(float(marker.read_text()) - started)
    return statistics.median(painted), statistics.median(whole)


def big_crash():
    from hydra.model import Crash, Frame, MemoryRegion, SourceFile, Thread
    from hydra.model.crash import Process

    lines = [f"int function_{i}(int x) {{ return x * {i} + /* comment */ {i % 7}; }}" for i in range(20000)]
    source = "\n".join(lines) + "\n"
    frame = Frame(index=0, pc=0x401000, function="function_15000", file="/src/big.c", line=15001,
                  module="/bin/big", module_offset=0x1000, trust="context", sp=0x7f0000000000)
    crash = Crash(process=Process(pid=1, executable="/bin/big", capture_time=0.0))
    crash.threads = [Thread(tid=1, crashed=True, state="F", frames=[frame])]
    crash.crashed_tid = 1
    crash.sources["/src/big.c"] = SourceFile("/src/big.c", _text=source)
    block = bytes(range(256)) * 4096
    crash.memory.add(MemoryRegion(0x7f0000000000, 100 << 20, "data", _loader=lambda: block * 100))
    return crash


async def scrolling() -> dict[str, float]:
    from hydra.snapshot import read_snapshot, write_snapshot
    from hydra.tui.app import HydraApp

    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "big.hsnap")
        write_snapshot(big_crash(), path)
        crash = read_snapshot(path)
        app = HydraApp(crash)
        started = time.perf_counter()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            figures["first screen with a 20k-line source (s)"] = time.perf_counter() - started
            await pilot.press("4")
            view = app.side_view
            for tab, label, jumps in (("source", "20k-line source", (19990, 10000, 5)),
                                      ("memory", "100 MB memory", (6_000_000, 3_000_000, 100))):
                begin = time.perf_counter()
                app.set_tab(tab)
                await pilot.pause()
                figures[f"{label}: show the tab (s)"] = time.perf_counter() - begin
                # a jump anywhere, then every visible line drawn: what a page down costs
                samples = []
                for _ in range(20):
                    for target in jumps:
                        view.center_on(min(target, view.count - 1))
                        begin = time.perf_counter()
                        for y in range(view.size.height):
                            view.render_line(y)
                        samples.append(time.perf_counter() - begin)
                figures[f"{label}: draw a screen after a jump (ms)"] = statistics.median(samples) * 1000
                figures[f"{label}: lines in the view"] = view.count
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads-core", type=Path, help="the threads300 core, for a 300-thread snapshot")
    from capture_bench import prepare_bytecode

    prepare_bytecode()
    args = parser.parse_args()
    painted, whole = startup(SAMPLE, args.runs)
    print(f"start-up, sample snapshot:     {painted:.3f} s to the first screen, {whole:.3f} s whole process (target 0.5 s)")
    if args.threads_core:
        with tempfile.TemporaryDirectory() as folder:
            snapshot = Path(folder) / "threads300.hsnap"
            subprocess.run([str(Path(sys.executable).with_name("hydra")), "snap", str(args.threads_core),
                            "-o", str(snapshot)], check=True, stderr=subprocess.DEVNULL)
            painted, whole = startup(snapshot, args.runs)
            print(f"start-up, 300-thread snapshot: {painted:.3f} s to the first screen, {whole:.3f} s whole process (target 1 s)")
    for name, value in asyncio.run(scrolling()).items():
        print(f"{name:<48} {value:.3f}" if isinstance(value, float) else f"{name:<48} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
