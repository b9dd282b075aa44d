"""A short seeded run of the fuzz harness: every kind of input, mutated, through the commands,
each case in a child with memory and time limits. No case may end in an internal error, over
time or over memory, and no input may change. (`python tests/fuzz/harness.py` is the long run.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HARNESS = Path(__file__).with_name("harness.py")


def test_a_short_seeded_run_ends_clean(tmp_path):
    done = subprocess.run([sys.executable, str(HARNESS), "--cases", "80", "--seed", "20261204", "--json",
                           "--work", str(tmp_path / "work"), "--keep", str(tmp_path / "kept")],
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failures"] == []
    assert set(report["counts"]) >= {"snapshot", "core", "minidump", "rules"}
    for kind, counts in report["counts"].items():
        assert set(counts) == {"clean"}, (kind, counts)
        assert counts["clean"] >= (8 if kind == "core" else 80)
