"""Deduplication quality on a labelled set: tests/programs/dedup.c's twenty-four bugs, each
through three call paths, built by gcc and clang at -O0 and -O2 (all as `dedup`, as releases
of one program would be), run `runs` times (ASLR moves every address). B-cubed precision and recall
of the buckets of three methods: Hydra's fingerprint, the first application frame, and the
whole call stack (the two a crash platform's documentation compares against)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

BUGS = 24
PATHS = 3
BUILDS = (("gcc", "-O0"), ("gcc", "-O2"), ("clang", "-O0"), ("clang", "-O2"))


def labelled_crashes(work: Path, runs: int = 1) -> list[tuple[int, object]]:
    """(bug, captured crash) for every bug, path, build and run."""
    from conftest import PROGRAMS, compile_program, crash_program
    from hydra.capture.engine import capture_core

    found = []
    for compiler, level in BUILDS:
        folder = work / f"{compiler}{level}"
        folder.mkdir(parents=True, exist_ok=True)
        exe = compile_program(PROGRAMS / "dedup.c", folder / "dedup", [level, f"CC={compiler}"])
        for bug in range(BUGS):
            for path in range(PATHS):
                for run in range(runs):
                    place = folder / f"{bug}-{path}-{run}"
                    place.mkdir(exist_ok=True)
                    core = crash_program(exe, place, [str(bug), str(path)])
                    found.append((bug, capture_core(str(core))))
    return found


def application_module(crash) -> str:
    return (crash.process.executable or "").rsplit("/", 1)[-1]


def first_application_frame(crash) -> tuple:
    program = application_module(crash)
    thread = crash.crashed_thread
    for frame in thread.frames if thread else []:
        if (frame.module or "").rsplit("/", 1)[-1] == program:
            return program, frame.function or f"+{frame.module_offset:#x}"
    return program, None


def whole_stack(crash) -> tuple:
    thread = crash.crashed_thread
    return (application_module(crash),) + tuple(frame.function or (frame.module or "?").rsplit("/", 1)[-1]
                                                for frame in (thread.frames if thread else []))


def hydra_fingerprint(crash) -> str:
    from hydra.analysis.fingerprint import fingerprint, load_rules

    return fingerprint(crash, load_rules())[0]


def hydra_one_frame(crash) -> str:
    """Hydra's fingerprint with the rule `frames 1`: the crash's class and its first frame
    left after the skips (WinDbg's and Socorro's kind of signature)."""
    from hydra.analysis.fingerprint import fingerprint, load_rules, parse_rules

    return fingerprint(crash, parse_rules("frames 1").extend(load_rules()))[0]


METHODS = {"hydra fingerprint": hydra_fingerprint, "hydra, rule `frames 1`": hydra_one_frame,
           "first application frame": first_application_frame, "whole call stack": whole_stack}


def bcubed(labels: list, clusters: list) -> tuple[float, float]:
    """B-cubed (precision, recall) of a clustering against the true labels."""
    pairs = Counter(zip(clusters, labels))
    cluster_sizes, label_sizes = Counter(clusters), Counter(labels)
    precision = sum(pairs[(c, l)] / cluster_sizes[c] for c, l in zip(clusters, labels)) / len(labels)
    recall = sum(pairs[(c, l)] / label_sizes[l] for c, l in zip(clusters, labels)) / len(labels)
    return precision, recall


def evaluate(crashes: list[tuple[int, object]]) -> dict[str, tuple[float, float, int]]:
    labels = [bug for bug, _ in crashes]
    results = {}
    for name, method in METHODS.items():
        clusters = [method(crash) for _, crash in crashes]
        precision, recall = bcubed(labels, clusters)
        results[name] = (precision, recall, len(set(clusters)))
    return results
