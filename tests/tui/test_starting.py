"""The cycle collector is held while a TUI starts and resumes with its first screen."""

from __future__ import annotations

import gc

import pytest

from hydra.tui.starting import collector_held, resume_collector

from .conftest import make_app


@pytest.fixture
def collecting():
    """The collector on (a one-shot command run by an earlier test turns it off), and as it
    was afterwards."""
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_held_until_resumed_or_the_end(collecting):
    with collector_held():
        assert not gc.isenabled()
        resume_collector()
        assert gc.isenabled()
    assert gc.isenabled()
    with collector_held():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_caller_holds_stays_held(collecting):
    gc.disable()
    with collector_held():
        resume_collector()
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_failing_start_resumes_it(collecting):
    with pytest.raises(RuntimeError), collector_held():
        raise RuntimeError("no screen")
    assert gc.isenabled()


async def test_the_first_screen_resumes_it(collecting, sample_crash):
    with collector_held():
        app = make_app(sample_crash)
        assert not gc.isenabled()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
