#!/usr/bin/env python3
"""Deduplication quality on the labelled set of tests/analysis/dedup.py (twenty-four bugs,
three call paths each, gcc and clang at -O0 and -O2, N runs): B-cubed precision and recall, and the number of
buckets, of Hydra's fingerprint, the first application frame and the whole call stack.
Reports, never fails. usage: dedup_bench.py [--runs 2]"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "analysis"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from dedup import BUGS, evaluate, labelled_crashes  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        crashes = labelled_crashes(Path(work), args.runs)
    print(f"{len(crashes)} crashes of {BUGS} bugs")
    print(f"{'method':<26} {'precision':>9} {'recall':>7} {'buckets':>8}")
    for name, (precision, recall, buckets) in evaluate(crashes).items():
        print(f"{name:<26} {precision:9.3f} {recall:7.3f} {buckets:8d}")
    print("targets for Hydra's fingerprint: precision 0.95, recall 0.90")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
