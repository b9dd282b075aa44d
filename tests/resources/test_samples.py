"""The bundled samples: made by today's capture code, and readable by anyone who opens them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hydra.capture.version import CAPTURE_VERSION
from hydra.resources import sample
from hydra.snapshot import read_snapshot

SAMPLES = sorted(path.name for path in Path(sample()).parent.glob("*.hsnap"))


def test_every_sample_has_its_source_and_a_recipe():
    import importlib.util

    folder = Path(sample()).parent
    spec = importlib.util.spec_from_file_location("regenerate", folder / "regenerate.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    made = {output for _source, output, _flags, _stack in recipe.SAMPLES}
    assert made == set(SAMPLES)
    for source, _output, _flags, _stack in recipe.SAMPLES:
        assert (folder / source).is_file()


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_are_made_by_todays_capture(name):
    crash = read_snapshot(sample(name))
    made_by = crash.process.capture_version
    assert made_by == CAPTURE_VERSION, (
        f"{name} was captured by capture version {made_by}, the code is at {CAPTURE_VERSION}: "
        "run `make samples`")
    # each sample opens on a crash with source to show
    frame = crash.crashed_thread.frames[0] if crash.crashed_thread else None
    assert frame is not None and any(f.file in crash.sources for f in crash.crashed_thread.frames)


def test_the_hostile_sample_carries_what_it_promises():
    crash = read_snapshot(sample("hostile_strings.hsnap"))
    source = next(text.text for path, text in crash.sources.items() if path.endswith("hostile_strings.c"))
    assert "\t" in source and "\u202e" in source and "価格" in source
    thread = crash.crashed_thread
    assert "\x1b" in (thread.name or "") and "[b]" in thread.name
    def texts(variables):
        for variable in variables:
            yield variable.name
            yield variable.value
            yield from texts(variable.children)

    shown = list(texts([v for frame in thread.frames for v in frame.args + frame.locals]))
    assert "価格" in shown and any("]52;c;" in text for text in shown)
