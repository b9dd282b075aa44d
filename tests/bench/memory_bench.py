#!/usr/bin/env python3
"""Snapshot sizes for `--memory default|heap|all`, next to the core's data.

The bundled samples' programs are built and crashed as sample_snapshots/regenerate.py does;
with --large-dir, the large C++ workload's core (../shared/bench/large_cpp) too. Reports
figures; fails only when a capture fails.
usage: python tests/bench/memory_bench.py [--large-dir DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sample_snapshots"))

from regenerate import SAMPLES, build_and_crash  # noqa: E402

from hydra.model.files import data_bytes  # noqa: E402

CHOICES = ("default", "heap", "all")


def sizes(core: Path, work: Path, exe: str | None = None) -> dict[str, int]:
    found = {}
    for choice in CHOICES:
        output = work / f"{core.name}.{choice}.hsnap"
        command = [sys.executable, "-m", "hydra", "snap", str(core), "-o", str(output), "--memory", choice]
        if exe:
            command += ["--exe", exe]
        subprocess.run(command, check=True, capture_output=True)
        found[choice] = output.stat().st_size
        output.unlink()
    return found


def report(name: str, core: Path, found: dict[str, int]) -> None:
    with open(core, "rb") as handle:
        data = data_bytes(handle.fileno())
    cells = "  ".join(f"{choice} {found[choice] / 1024:9.1f} KiB ({100 * found[choice] / data:5.1f}%)"
                      for choice in CHOICES)
    print(f"{name:24} core data {data / 1024:10.1f} KiB  {cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-dir", help="a folder holding the large workload's `large` and `large.core`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for source, _output, flags, stack in SAMPLES:
            crash_dir = work / Path(source).stem
            crash_dir.mkdir()
            core = build_and_crash(source, flags, stack, crash_dir)
            report(source, core, sizes(core, work))
        if args.large_dir:
            large = Path(args.large_dir)
            core = large / "large.core"
            report("large_cpp", core, sizes(core, work, str(large / "large")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
