"""The TUI's questions: the expression prompt and the Watch tab, symbols in code views,
the memory views (units, telescope, search) and searching every thread's frames."""

from __future__ import annotations

import pytest

from tests.tui.conftest import make_app


@pytest.fixture(scope="module")
def ask_crash(crashed, tmp_path_factory):
    from hydra.capture.engine import capture_core
    from hydra.snapshot.format import read_snapshot, write_snapshot

    path = tmp_path_factory.mktemp("ask") / "ask.hsnap"
    write_snapshot(capture_core(crashed("ask.c", "-O0").core), str(path))
    return read_snapshot(str(path))


@pytest.fixture(autouse=True)
def _own_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def ask(pilot, text: str, key: str = "equals_sign") -> None:
    await pilot.press(key)
    await pilot.press(*text)
    await pilot.press("enter")
    await pilot.pause()


async def test_an_expression_lands_in_watch_and_opens_lazily(ask_crash):
    app = make_app(ask_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await ask(pilot, "*acct")
        assert app._active_tab() == "watch"
        lines = app.side_view.text_lines()
        assert len(lines) == 1 and lines[0].startswith("▸ $1 *acct = {owner = \"bob\"")
        await pilot.press("enter")
        await pilot.pause()
        lines = app.side_view.text_lines()
        assert [line.split(" = ")[0].strip(" ▸▾") for line in lines[1:4]] == ["owner", "balance", "tier"]
        # a pointer opens what it points to, page by page
        await ask(pilot, "head")
        await pilot.press("enter")
        await pilot.pause()
        lines = app.side_view.text_lines()
        assert "[0] = {value = 10, next = " in lines[-21] and lines[-1].strip().startswith("… more")
        # x: the value and its children in hex
        app.side_view.cursor = len(lines) - 21
        await pilot.press("x")
        await pilot.pause()
        assert "value = 0xa" in app.side_view.text_lines()[len(lines) - 21]


async def test_gdb_commands_at_the_colon_prompt(ask_crash):
    app = make_app(ask_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await ask(pilot, "ptype struct point", "colon")
        await ask(pilot, "print/x counter", "colon")
        await ask(pilot, "x/2dw shorts", "colon")
        text = "\n".join(app.side_view.text_lines())
        assert "type = struct point {" in text and "int x;" in text
        assert "$1 counter = 0x2a" in text
        assert "<shorts>:\t1\t-2" in text.replace("    ", "\t") or "<shorts>:" in text
        await ask(pilot, "nosuch", "equals_sign")
        assert 'No symbol "nosuch" in current context.' in app.side_view.text_lines()[-1]


async def test_pinned_expressions_follow_the_frame_and_are_remembered(ask_crash):
    app = make_app(ask_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await ask(pilot, "$pc")
        await pilot.press("p")
        await pilot.pause()
        first = app.side_view.text_lines()[0]
        assert "<inspect+" in first
        app.frames_pane.focus()
        await pilot.press("u")                       # to main
        await pilot.pause()
        app.set_tab("watch")
        await pilot.pause()
        assert "<main+" in app.side_view.text_lines()[0]
    again = make_app(ask_crash)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        again.set_tab("watch")
        await pilot.pause()
        assert "$pc" in again.side_view.text_lines()[0] and "📌" in again.side_view.text_lines()[0]


async def test_code_views_name_what_they_point_at(ask_crash):
    app = make_app(ask_crash)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        app.set_tab("disassembly")
        await pilot.pause()
        text = "\n".join(app.side_view.text_lines())
        assert "<inspect+" in text and "call      0x" in text and "<depth>" in text
        assert "# 0x" in text and "<root>" in text            # a RIP-relative operand, resolved
        app.set_tab("registers")
        await pilot.pause()
        registers = "\n".join(app.side_view.text_lines())
        assert "<inspect+" in registers and "rflags" in registers and "[ " in registers


async def test_memory_units_telescope_and_search(ask_crash):
    app = make_app(ask_crash)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        app.set_tab("memory")
        await pilot.press("4")
        await pilot.press("t")
        await pilot.pause()
        assert "sp+0x0" in app.side_view.text_lines()[0] and '"reason"' in "\n".join(app.side_view.text_lines())
        await pilot.press("t", "z", "z")
        await pilot.pause()
        assert "0x" in app.side_view.text_lines()[0].split("  ")[1]          # giants
        await pilot.press("slash")
        await pilot.press(*'"carol"')
        await pilot.press("enter")
        await pilot.pause()
        results = app.side_view.text_lines()
        assert results[0].startswith("1 matches") and "<accounts+" in results[1]
        await pilot.press("enter")
        await pilot.pause()
        assert "carol" in app.side_view.plain(app.side_view.cursor)
        await ask(pilot, "greeting", "colon")                     # a symbol at `:`
        greeting = ask_crash.symbols.named("greeting").address
        assert app._active_tab() == "memory" and int(app.side_view.plain(app.side_view.cursor)[:16], 16) == \
            greeting & ~0xF


async def test_frames_search_crosses_threads(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        start = app.thread
        other = next(t for t in sample_crash.threads if t is not start and t.frames)
        name = other.frames[-1].function
        if any(f.function == name for f in start.frames):
            pytest.skip("the sample's other threads share their frames with the crashed one")
        await pilot.press("2", "slash")
        await pilot.press(*(r"\b" + name + r"\b"))
        await pilot.press("enter")
        await pilot.pause()
        assert app.thread is not start and app.frame.function == name
