"""Buckets against a labelled set (tests/analysis/dedup.py): Hydra's fingerprint keeps one
bug's crashes together across call paths, builds and runs, and different bugs apart."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup import BUGS, BUILDS, PATHS, bcubed, evaluate, labelled_crashes  # noqa: E402


def test_bcubed_is_computed_as_defined():
    # two true groups {a a b} {b}: clusters X={1,2,3} Y={4}
    precision, recall = bcubed(["a", "a", "b", "b"], ["X", "X", "X", "Y"])
    assert round(precision, 4) == round((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4, 4)
    assert round(recall, 4) == round((1 + 1 + 1 / 2 + 1 / 2) / 4, 4)
    assert bcubed(["a", "b"], ["X", "Y"]) == (1.0, 1.0)


def test_hydras_buckets_keep_bugs_apart(tmp_path):
    """Precision: crashes of different bugs never share a bucket. (Recall, how well one bug's
    crashes stay together across call paths and builds, is measured and reported by
    tests/bench/dedup_bench.py next to the two conventional methods.)"""
    crashes = labelled_crashes(tmp_path, runs=1)
    assert len(crashes) == BUGS * PATHS * len(BUILDS)
    results = evaluate(crashes)
    precision, recall, _buckets = results["hydra fingerprint"]
    assert precision >= 0.95, results
    # the whole stack, which every call path splits, keeps fewer of a bug's crashes together
    assert results["whole call stack"][1] < recall
