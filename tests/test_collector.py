"""The cycle collector is held while a command starts: from the `hydra` command's first line,
until a TUI's first screen, a store command's arguments, or a one-shot command's end."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from hydra import collector


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
    with collector.held():
        assert not gc.isenabled()
        collector.resume()
        assert gc.isenabled()
    assert gc.isenabled()
    with collector.held():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_caller_holds_stays_held(collecting):
    gc.disable()
    with collector.held():
        collector.resume()
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_failing_start_resumes_it(collecting):
    with pytest.raises(RuntimeError), collector.held():
        raise RuntimeError("no screen")
    assert gc.isenabled()


def test_the_hold_of_the_command_s_start_is_the_one_a_view_resumes(collecting):
    collector.hold()                     # the `hydra` command's first line
    with collector.held():               # the view's start
        assert not gc.isenabled()
    assert gc.isenabled()


PROBE = """
import atexit, gc, sys


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "hydra.cli":
            print("importing the command line, collecting:", gc.isenabled(), file=sys.stderr)


sys.meta_path.insert(0, Watch())
atexit.register(lambda: print("at the end, collecting:", gc.isenabled(), file=sys.stderr))
from hydra.__main__ import main
main()
"""


@pytest.mark.parametrize("argv, resumed", [(["query", "--db", "DB", "--limit", "1"], True),
                                           (["fingerprint", "MISSING"], True),
                                           (["x"], None)])
def test_the_command_holds_it_from_its_first_line(tmp_path, argv, resumed):
    """Held while Hydra is imported; a store command resumes it (a one-shot one ends the
    process with it held, without the interpreter's teardown)."""
    argv = [str(tmp_path / "c.db") if word == "DB" else str(tmp_path / "missing") if word == "MISSING" else word
            for word in argv]
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120,
                          env={"HYDRA_NO_USER_FILES": "1", "PATH": "/usr/bin:/bin"})
    assert "importing the command line, collecting: False" in done.stderr, done.stderr
    if resumed is not None:
        assert f"at the end, collecting: {resumed}" in done.stderr, done.stderr
