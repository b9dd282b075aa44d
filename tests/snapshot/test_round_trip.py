"""Every field of the model, read back from a snapshot, equals what capture produced: frames
with their sp and cfa, registers of every frame, the map, modules, memory byte for byte,
variables of every thread, attributes, classifiers, annotations, the type and symbol tables.
Compared field by field, so a writer or a reader that swaps, drops or rounds one is caught."""

from __future__ import annotations

import pytest

from hydra.model.record import fields, is_record
from hydra.snapshot.format import read_snapshot, write_snapshot

# what a snapshot is allowed to say differently from the capture it was written from
REWRITTEN = {
    ("Crash", "origin"),            # "core" becomes "snapshot"
}


def flatten(value, path: str = "crash", out: dict | None = None) -> dict:
    """Every leaf of the model, under a path such as crash.threads[2].frames[0].sp."""
    out = {} if out is None else out
    if is_record(value):
        kind = type(value).__name__
        for spec in fields(value):
            name = spec.name.lstrip("_")
            if spec.name.endswith("_loader") or spec.name == "_indexes" or (kind, name) in REWRITTEN:
                continue
            # lazy parts: the public property loads them (frames' variables, crash's tables)
            leaf = getattr(value, name) if spec.name.startswith("_") and hasattr(value, name) \
                else getattr(value, spec.name)
            flatten(leaf, f"{path}.{name}", out)
    elif hasattr(value, "regions") and hasattr(value, "region_at"):          # Memory
        flatten([(r.start, r.size, bytes(r.data), getattr(r, "kind", None)) for r in value.regions],
                f"{path}.regions", out)
    elif isinstance(value, dict):
        out[f"{path}.keys()"] = sorted(map(repr, value))
        for key, item in value.items():
            flatten(item, f"{path}[{key!r}]", out)
    elif isinstance(value, (list, tuple)):
        out[f"{path}.len"] = len(value)
        for index, item in enumerate(value):
            flatten(item, f"{path}[{index}]", out)
    elif hasattr(value, "__dict__") and not callable(value):
        for name, item in sorted(vars(value).items()):
            if not callable(item):
                flatten(item, f"{path}.{name}", out)
    else:
        out[path] = value
    return out


def differences(captured, again) -> list[str]:
    before, after = flatten(captured), flatten(again)
    found = [f"{path}: {before.get(path, '<absent>')!r} -> {after.get(path, '<absent>')!r}"
             for path in sorted(set(before) | set(after)) if before.get(path, ...) != after.get(path, ...)]
    # a snapshot names where it came from: the only addition allowed
    return [line for line in found if not (line.startswith("crash.system") and "captured_from" in line)]


@pytest.mark.parametrize("program, flags, libraries", [
    ("threads_many.c", "-O0", ()),                    # many threads, each with locals
    ("threads201.c", "-O0", ()),                      # past the fork threshold: a copy captures some
    ("member_pointers_threads.cpp", "-O0", ()),       # and values read again in the copy's threads
    ("cxx_containers.cpp", "-O2", ()),                # types, optimized values, inline frames
    ("ask_shared.c", "-O0", ("ask_library.c",)),      # a library with globals
    ("rust_workspace", "-O3", ()),                    # values in registers and pieces, some nowhere
    ("rust_enums.rs", "-O0", ()),                     # enums: variants in the type table
])
def test_every_field_survives_the_round_trip(crashed, capture, tmp_path, program, flags, libraries):
    captured = capture(crashed(program, flags, libraries=libraries))
    path = tmp_path / "round.hsnap"
    write_snapshot(captured, str(path))
    again = read_snapshot(str(path))
    found = differences(captured, again)
    assert not found, "\n".join(found[:40])
    # the comparison sees what matters: frames' sp and cfa, map entries, other threads' locals
    leaves = flatten(captured)
    assert any(p.endswith(".cfa") and v for p, v in leaves.items())
    assert any(".memory_map[" in p and p.endswith(".perms") for p in leaves) or \
        any(".memory_map[" in p for p in leaves)
    assert sum(1 for p in leaves if ".locals[" in p and p.endswith(".value")) > 0


def test_the_comparison_catches_a_swapped_field(crashed, capture, tmp_path):
    captured = capture(crashed("threads_many.c", "-O0"))
    path = tmp_path / "round.hsnap"
    write_snapshot(captured, str(path))
    again = read_snapshot(str(path))
    frame = again.threads[-1].frames[0]
    frame.sp, frame.cfa = frame.cfa, frame.sp
    entry = again.memory_map[0]
    entry.path, entry.perms = entry.perms, entry.path
    found = differences(captured, again)
    assert any(line.endswith(".sp" + line.split(".sp")[-1]) or ".sp:" in line for line in found)
    assert any(".cfa:" in line for line in found) and any(".perms:" in line for line in found)


def test_a_values_optimized_out_pieces_survive_the_round_trip(crashed, capture, tmp_path):
    """A value held in pieces, one of them nowhere: its raw bytes and the missing range are
    written and read back, and the evaluator still says which member is optimized out."""
    from hydra.evaluate.session import Session

    crash = capture(crashed("rust_workspace", "-O3"))
    frame = next(f for t in crash.threads for f in t.frames if any(v.name == "iter" and v.raw for v in f.locals))
    variable = next(v for v in frame.locals if v.name == "iter")
    kept = variable.missing
    try:
        variable.missing = [(0, 8)]          # as if ptr's register were not kept either
        path = tmp_path / "pieces.hsnap"
        write_snapshot(crash, str(path))
        again = read_snapshot(str(path))
    finally:
        variable.missing = kept
    thread = again.thread(next(t.tid for t in crash.threads if frame in t.frames))
    read_back = next(v for v in thread.frames[frame.index].locals if v.name == "iter")
    assert read_back.raw == variable.raw and read_back.missing == [(0, 8)]
    session = Session(again)
    session.select(thread, thread.frames[frame.index])
    from hydra.evaluate.printer import Printer

    text = Printer(session).top(session.evaluate("iter"), None)
    assert "ptr: <optimized out>" in text and "end_or_len: <optimized out>" in text, text
