"""The triage view on a real store: buckets, a bucket's crashes, the filter line, and a
crash handed to the debugger with the place kept."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import hydra_command

SAMPLES = Path(__file__).resolve().parents[2] / "sample_snapshots"


@pytest.fixture
def store(tmp_path, store_location):
    folder = tmp_path / "incoming"
    shutil.copytree(SAMPLES, folder, ignore=shutil.ignore_patterns("*.c", "*.cpp", "*.py"))
    done = subprocess.run(hydra_command() + ["index", "--db", store_location, str(folder)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from hydra.store.db import open_store

    return open_store(store_location)


def make(store, place=None):
    from hydra.tui.themes import load_themes
    from hydra.tui.triage import TriageApp

    themes, _syntax, _ = load_themes()
    return TriageApp(store, place, theme="hydra-dark", themes=themes)


async def test_buckets_then_a_crash_then_back(store):
    app = make(store)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert len(app.buckets) == 5 and app.view.count == 5
        text = "\n".join(app.view.text_lines())
        assert "inventory" in text and "price_of | restock_value" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.crashes is not None and len(app.crashes) == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.crashes is None and app.view.count == 5
        await pilot.press("j", "enter", "enter")
        await pilot.pause()
    chosen = app.return_value
    assert chosen and chosen.endswith(".hsnap") and app.place.bucket == 1 and app.place.crash == 0


async def test_the_filter_line_takes_the_query_language(store):
    app = make(store)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"program=ledger_assert", "enter")
        await pilot.pause()
        assert [row.program for row in app.buckets] == ["ledger_assert"]
        await pilot.press("slash")
        await pilot.pause()
        app.query_one("#filter").value = ""
        await pilot.press(*"bogus", "enter")
        await pilot.pause()
        assert app.buckets == [] and "a condition reads FIELD OP VALUE" in str(app.query_one("#status").render())


async def test_it_comes_back_where_it_was(store):
    from hydra.tui.triage import TriagePlace

    app = make(store, TriagePlace(bucket=2, crash=0))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert app.crashes is not None and app.place.bucket == 2
        await pilot.press("escape")
        await pilot.pause()
        assert app.view.cursor == 2


async def test_a_bucket_shows_how_its_crashes_spread(tmp_path, store_location):
    """Versions, hosts and systems as histograms over the bucket's crashes; each crash with
    its attributes; a hostile value shown literally."""
    from hydra.snapshot import read_snapshot, write_snapshot
    from hydra.store.db import open_store

    folder = tmp_path / "incoming"
    folder.mkdir()
    spread = [("2.9", "web-1"), ("2.9", "web-2"), ("2.10", "web-1"), ("2.9", "evil\x1b[31m\thost")]
    for number, (version, host) in enumerate(spread):
        crash = read_snapshot(str(SAMPLES / "default.hsnap"))
        crash.attributes.update(version=version, hostname=host, os="Linux", region=f"r{number}")
        write_snapshot(crash, str(folder / f"c{number}.hsnap"))
    done = subprocess.run(hydra_command() + ["index", "--db", store_location, str(folder)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    app = make(open_store(store_location))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert len(app.buckets) == 1 and app.buckets[0].count == 4
        await pilot.press("enter")
        await pilot.pause()
        detail = str(app.query_one("#detail").render()).splitlines()
        assert detail[0].split() == ["versions", "2.9", "█" * 8, "3", "2.10", "███", "1"]
        assert detail[1].startswith("hosts") and "web-1 ████████ 2" in detail[1]
        assert "evil\\x1b[31m\\x09host" in detail[1] and "\x1b" not in detail[1]
        assert detail[2].split() == ["oss", "Linux", "█" * 8, "4"]
        lines = app.view.text_lines()
        assert len(lines) == 4 and all("region=r" in line for line in lines)
        await pilot.press("escape")
        await pilot.pause()
        assert not app.query_one("#detail").has_class("visible")


def test_a_buckets_severity_and_classifier_are_its_crashes_worst(store, store_location):
    """Each bucket row's severity is the highest of its crashes' (as `hydra query` lists
    them), and its classifier one of theirs."""
    import json

    from hydra.store.facts import SEVERITIES
    from hydra.store.triage import bucket_rows

    listed = json.loads(subprocess.run(
        hydra_command() + ["query", "--db", store_location, "--json", "--select", "fingerprint,severity,classifiers"],
        capture_output=True, text=True, timeout=300).stdout)
    rows = bucket_rows(store, [])
    assert rows
    for row in rows:
        mine = [crash for crash in listed if crash["fingerprint"] == row.fingerprint]
        worst = max((SEVERITIES.index(crash["severity"]) for crash in mine if crash["severity"]), default=None)
        assert row.severity == (SEVERITIES[worst] if worst is not None else None), row.fingerprint
        assert row.classifier is None or any(row.classifier in (crash["classifiers"] or "").split() for crash in mine)
