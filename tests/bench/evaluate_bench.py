"""How fast a snapshot answers questions, and what the type table costs opening one.

    python tests/bench/evaluate_bench.py SNAPSHOT [EXPRESSION ...] [--runs N]

For each expression (default: the three-deep member chains of tests/programs/ask.c):
the first answer of a fresh session (which loads the type table and symbols) and the
median of later ones. Then opening the snapshot (the index only, as the TUI and `bt` do)
against opening the same crash written without its type table and symbols. Figures only:
nothing here fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

DEFAULT = ["accounts[0].flags.mode", "acct->code.bytes[1]", "root->left->right->key", "box.corner.y"]


def median_seconds(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("snapshot")
    parser.add_argument("expressions", nargs="*")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args(argv)
    from hydra.evaluate import EvalError, Session
    from hydra.model.symbols import SymbolTable
    from hydra.model.types import TypeTable
    from hydra.snapshot.format import read_snapshot, write_snapshot

    for expression in args.expressions or DEFAULT:
        first = []
        for _ in range(5):
            crash = read_snapshot(args.snapshot)
            started = time.perf_counter()
            try:
                Session(crash).print(expression)
            except EvalError as error:
                print(f"{expression}: {error.message}")
                break
            first.append(time.perf_counter() - started)
        if not first:
            continue
        session = Session(read_snapshot(args.snapshot))
        later = median_seconds(lambda: session.print(expression), args.runs)
        print(f"{expression:<32} first answer {1000 * statistics.median(first):7.2f} ms   "
              f"later {1000 * later:6.3f} ms")
    crash = read_snapshot(args.snapshot)
    crash.types, crash.symbols = TypeTable(), SymbolTable()
    with tempfile.TemporaryDirectory() as folder:
        bare = str(Path(folder) / "bare.hsnap")
        write_snapshot(crash, bare)
        with_types = median_seconds(lambda: read_snapshot(args.snapshot), args.runs)
        without = median_seconds(lambda: read_snapshot(bare), args.runs)
    print(f"opening: {1000 * with_types:.2f} ms with the type table, {1000 * without:.2f} ms without "
          f"({with_types / without:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
