from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import PROGRAMS, compile_program, crash_program

SAMPLE = Path(__file__).resolve().parents[2] / "sample_snapshots" / "default.hsnap"


@pytest.fixture(autouse=True)
def _deterministic(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent-hydra-config")
    import time
    time.tzset()


@pytest.fixture(scope="session")
def sample_crash():
    from hydra.snapshot import read_snapshot

    return read_snapshot(str(SAMPLE))


@pytest.fixture(scope="session")
def hostile_crash(tmp_path_factory):
    """A real crash whose path, thread name, strings and source look like markup and
    carry terminal control bytes."""
    from hydra.capture.engine import capture_core

    folder = tmp_path_factory.mktemp("hostile") / "[@click=app.quit]src[b]"
    folder.mkdir()
    source = folder / "hostile[bold].c"
    shutil.copy(PROGRAMS / "hostile.c", source)
    exe = compile_program(source, folder / "hostile", ["-O0"])
    core = crash_program(exe, folder)
    return capture_core(str(core))


def make_app(crash, **kwargs):
    from hydra.tui.app import HydraApp
    from hydra.tui.themes import load_themes

    themes, syntax, _ = load_themes()
    return HydraApp(crash, source_name="sample.hsnap", theme=kwargs.pop("theme", "hydra-dark"),
                    syntax=syntax, themes=themes, **kwargs)
