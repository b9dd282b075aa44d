"""SVG snapshots of the main screens over the bundled sample (fixed data, UTC clock).

Regenerating the samples changes these screens: review, then `pytest --snapshot-update`."""

from __future__ import annotations

from .conftest import make_app


def test_main_screen_80x24(snap_compare, sample_crash):
    assert snap_compare(make_app(sample_crash), terminal_size=(80, 24))


def test_main_screen_120x40(snap_compare, sample_crash):
    assert snap_compare(make_app(sample_crash), terminal_size=(120, 40))


def test_disassembly_and_registers(snap_compare, sample_crash):
    assert snap_compare(make_app(sample_crash), terminal_size=(120, 40), press=["]", "2"])


def test_maximized_variables(snap_compare, sample_crash):
    assert snap_compare(make_app(sample_crash, theme="hydra-light"), terminal_size=(80, 24),
                        press=["3", "M"])
