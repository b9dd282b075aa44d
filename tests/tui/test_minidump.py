"""A minidump fills the same panes as a snapshot."""

from __future__ import annotations

import pytest

from tests.minidump.conftest import data_root
from tests.tui.conftest import make_app


@pytest.fixture(scope="module")
def minidump_crash():
    root = data_root()
    if root is None:
        pytest.skip("the shared minidump data is not here (set HYDRA_MINIDUMP_DATA to its folder)")
    from hydra.minidump.opener import open_minidump

    return open_minidump(str(root / "breakpad/minidump2.dmp"), [str(root / "breakpad/symbols")])


@pytest.mark.parametrize("tab, expected", [
    ("registers", "eip"),
    ("memory", "stack"),
    ("map", "no memory map"),
    ("modules", "36515FB5D04345E491F672FA2E2878C02"),
    ("attributes", "EXCEPTION_ACCESS_VIOLATION_WRITE"),
    ("classifiers", "segv"),
    ("disassembly", "no code"),
    ("system", "Windows NT"),
])
async def test_minidump_tabs_and_frames(minidump_crash, tab, expected):
    app = make_app(minidump_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.thread.tid == 3060 and app.frame.function == "`anonymous namespace'::CrashFunction"
        app.set_tab(tab)
        await pilot.pause()
        text = "\n".join(app.side_view.text_lines()[:400])
        assert expected in text


async def test_source_tab_says_what_is_missing(minidump_crash):
    app = make_app(minidump_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app._active_tab() == "source"
        text = "\n".join(app.side_view.text_lines()[:40])
        assert "test_app.cc" in text
