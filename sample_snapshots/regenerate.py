#!/usr/bin/env python3
"""Rebuild the bundled sample snapshots: compile each sample, crash it, `hydra snap` its core.

Sources are compiled with their folder mapped to /src/samples, so the snapshots name the
same paths on every machine; the capture reads them back through --source-map.
usage: python sample_snapshots/regenerate.py   (or `make samples`)
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = [
    # (source, output, compiler flags, stack limit)
    ("inventory.c", "default.hsnap", ["-O0"], None),
    ("ledger_assert.c", "ledger_assert.hsnap", ["-O0"], None),
    ("scheduler_throw.cpp", "scheduler_throw.hsnap", ["-O2"], None),
    ("parser_recursion.c", "parser_recursion.hsnap", ["-O0"], 1 << 20),
    ("hostile_strings.c", "hostile_strings.hsnap", ["-O0"], None),
]


def build_and_crash(source: str, flags: list[str], stack: int | None, work: Path) -> Path:
    compiler = "g++" if source.endswith(".cpp") else "gcc"
    exe = work / Path(source).stem
    subprocess.run([compiler, "-g", *flags, "-pthread", f"-fdebug-prefix-map={HERE}=/src/samples",
                    "-o", str(exe), str(HERE / source)], check=True)

    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        if stack:
            resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))

    for old in work.glob("core*"):
        old.unlink()
    result = subprocess.run([str(exe)], cwd=work, preexec_fn=limits, capture_output=True)
    cores = list(work.glob("core*"))
    if result.returncode >= 0 or not cores:
        raise SystemExit(f"{source}: expected a crash with a core in {work}")
    return cores[0]


def main() -> int:
    hydra = [sys.executable, "-m", "hydra"]
    for source, output, flags, stack in SAMPLES:
        with tempfile.TemporaryDirectory() as folder:
            core = build_and_crash(source, flags, stack, Path(folder))
            subprocess.run([*hydra, "snap", str(core), "-o", str(HERE / output),
                            "--source-map", f"/src/samples={HERE}", "--kv", f"sample={source}"],
                           check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
