#!/usr/bin/env python3
"""Crash store at scale: a generated store of many crashes (programs, versions, hosts and
fingerprints skewed as real crash streams are: a few buckets hold most crashes), then the
time of `hydra query` runs against it, whole processes, medians. Reports, never fails.

usage: store_bench.py [--crashes 100000] [--runs 5] [--db PATH|postgresql://...]
(a PostgreSQL database given empty is filled first)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hydra.store.db import is_url, open_store  # noqa: E402
from hydra.store.facts import SEVERITIES  # noqa: E402

_SCRIPT = Path(sys.executable).with_name("hydra")
HYDRA = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hydra"]


def generate(path: str, count: int, seed: int = 7) -> None:
    """`count` crashes: 40 programs, each with a few versions, 3,000 hosts, and fingerprints
    drawn with a Zipf-like skew (bucket k is hit about 1/k as often as the first)."""
    rng = random.Random(seed)
    connection = open_store(path)
    programs = [f"service-{n:02d}" for n in range(40)]
    fingerprints = [f"{rng.getrandbits(256):064x}" for _ in range(5000)]
    weights = [1 / (rank + 1) for rank in range(len(fingerprints))]
    frames = {fp: " | ".join(f"fn_{rng.randrange(10**6)}" for _ in range(3)) for fp in fingerprints}
    now = time.time()
    rows, attributes = [], []
    for number in range(count):
        fingerprint = rng.choices(fingerprints, weights)[0]
        program = programs[int(fingerprint[:4], 16) % len(programs)]
        crash_id = f"{number:064x}"
        severity = SEVERITIES[int(fingerprint[4], 16) % 3]
        rows.append((crash_id, f"/crashes/{number}.dmp", "minidump", program, f"2.{rng.randrange(8)}",
                     f"host-{rng.randrange(3000)}", "Linux", "x86_64", now - rng.random() * 90 * 86400,
                     "SIGSEGV", " segv null-dereference read ", severity, SEVERITIES.index(severity), "SourceAv",
                     fingerprint, frames[fingerprint], frames[fingerprint], now))
        attributes.append((crash_id, "region", rng.choice(("eu", "us", "ap"))))
    with connection.transaction():
        connection.executemany("INSERT INTO crashes (id, path, origin, program, version, host, os, arch, "
                               "captured, signal, classifiers, severity, severity_rank, severity_rule, "
                               "fingerprint, fingerprint_frames, top_frames, indexed) VALUES "
                               "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        connection.executemany("INSERT INTO attributes (crash, key, value) VALUES (?, ?, ?)", attributes)
        connection.executemany("INSERT INTO buckets (fingerprint, program, frames) VALUES (?, ?, ?) "
                               "ON CONFLICT DO NOTHING", list({(row[14], row[3], row[15]) for row in rows}))
    if connection.dialect == "postgresql":
        # what autovacuum does to a live store soon after: the planner's statistics, and the
        # visibility map that lets grouping read the covering index alone
        connection.execute("VACUUM ANALYZE")
    connection.close()


def _empty(location: str) -> bool:
    if not is_url(location) and not os.path.exists(location):
        return True
    connection = open_store(location)
    try:
        return connection.execute("SELECT COUNT(*) FROM crashes").fetchone()[0] == 0
    finally:
        connection.close()


def timed(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(HYDRA + args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crashes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db")
    args = parser.parse_args()
    path = args.db or os.path.join(tempfile.mkdtemp(prefix="hydra-store-bench-"), "crashes.db")
    if _empty(path):
        started = time.perf_counter()
        generate(path, args.crashes)
        print(f"generated {args.crashes} crashes in {time.perf_counter() - started:.1f} s: {path}")
    bare = timed(["query", "--db", path, "--limit", "1"], args.runs)
    for label, query in (("group by fingerprint", ["--group-by", "fingerprint"]),
                         ("group by fingerprint, last 7 days", ["--group-by", "fingerprint", "--since", "7d"]),
                         ("group by version where region=eu", ["--group-by", "version", "--where", "attr.region=eu"]),
                         ("severity>=PROBABLY_EXPLOITABLE, 50 newest",
                          ["--where", "severity>=PROBABLY_EXPLOITABLE", "--limit", "50"])):
        seconds = timed(["query", "--db", path, *query], args.runs)
        print(f"{label:<45} {seconds * 1000:6.0f} ms   (target 200 ms)")
    print(f"{'a one-row query (start-up and open)':<45} {bare * 1000:6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
