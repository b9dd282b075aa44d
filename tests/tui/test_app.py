"""Pilot tests of the UI at 80x24 and 120x40: panes, tabs, keys, positions, themes."""

from __future__ import annotations

import pytest

from hydra.model.position import parse_position
from hydra.tui.tabs import TABS
from hydra.tui.lineview import LineView

from .conftest import make_app

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES)
async def test_opens_on_the_faulting_frame_with_source(sample_crash, size):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.thread.tid == sample_crash.crashed_tid
        assert app.frame.function == "price_of"
        assert app.focused is app.frames_pane
        source = app.side_view
        assert app._active_tab() == "source"
        assert source.cursor == app.frame.line - 1
        assert "product->unit_price" in source.plain(source.cursor)
        assert source.cursor in range(source.scroll_offset.y, source.scroll_offset.y + source.size.height)
        # the signal block sits right under the faulting frame
        assert "SIGSEGV SEGV_MAPERR at 0x10" in app.frames_pane._line(1).plain



async def test_the_first_lines_the_source_view_draws_hold_the_crash_line(sample_crash, monkeypatch):
    """The crash line is on the first screen, not on one after a deferred scroll: what the
    view draws first, at 80x24, already includes it."""
    drawn: list[int] = []
    render_line = LineView.render_line

    def record(view, y):
        if view.id == "side" and not drawn:
            drawn.append(view.scroll_offset.y)
        return render_line(view, y)

    monkeypatch.setattr(LineView, "render_line", record)
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        source = app.side_view
        assert drawn and drawn[0] <= source.cursor < drawn[0] + source.size.height


@pytest.mark.parametrize("size", SIZES)
async def test_moving_in_frames_updates_variables_and_source(sample_crash, size):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("j", "j")   # past the signal block to frame 1
        await pilot.pause()
        assert app.frame.function == "restock_value"
        names = [node.data[1].name for node in app.variables_pane.root.children if node.data[0] == "var"]
        assert "shelf" in names and "total" in names
        source = app.side_view
        assert "price_of(shelf, slot, 10)" in source.plain(source.cursor)
        await pilot.press("d")
        assert app.frame.function == "price_of"
        await pilot.press("u", "u")
        assert app.frame.function == "pricing_worker"
        await pilot.press("g")
        assert app.frame.index == 0
        await pilot.press("G")
        assert app.frame.index == app.thread.frames[-1].index


@pytest.mark.parametrize("size", SIZES)
async def test_pane_keys_and_maximize(sample_crash, size):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("1")
        assert app.focused is app.threads_pane
        await pilot.press("3")
        assert app.focused is app.variables_pane
        await pilot.press("4")
        assert app.focused.id == "side"
        await pilot.press("2")
        assert app.focused is app.frames_pane
        await pilot.press("tab")
        assert app.focused is not app.frames_pane
        await pilot.press("2", "M")
        await pilot.pause()
        assert app.screen.maximized is app.frames_pane
        # the whole screen but the three information rules, and no wider than it
        assert app.frames_pane.outer_size == (size[0], size[1] - 3)
        assert all(rule.region.height == 1 for rule in app.query(".rule"))
        await pilot.press("M")
        assert app.screen.maximized is None
        # pane 4 (tabs and view) maximizes as one
        await pilot.press("4", "M")
        await pilot.pause()
        assert app.screen.maximized is app.query_one("#side")
        assert app.query_one("#side").outer_size == (size[0], size[1] - 3)
        await pilot.press("M")
        assert app.screen.maximized is None


@pytest.mark.parametrize("size", SIZES)
async def test_threads_group_and_switch(sample_crash, size):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        pane = app.threads_pane
        assert pane._line(0).plain.strip().startswith("F")
        groups = [row for row in pane.rows if row[1] is None]
        assert groups and len(groups[0][0].threads) == 4      # four identical order workers
        await pilot.press("1", "G", "enter")
        await pilot.pause()
        assert pane.count == 3 + 4
        await pilot.press("j")
        await pilot.pause()
        assert app.thread in groups[0][0].threads
        assert app.frame is app.thread.frames[0]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", [t for t, _ in TABS])
async def test_every_tab_shows_its_content(sample_crash, tab, size):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.set_tab(tab)
        await pilot.pause()
        view = app.side_view
        assert view.count >= 1
        text = "\n".join(view.text_lines()[:400])
        expected = {
            "source": "double price = product->unit_price",
            "disassembly": "<- faulting instruction",
            "registers": "rip",
            "memory": "stack",
            "map": "r-xp",
            "modules": "libc.so.6",
            "classifiers": "segv",
            "annotations": "faulting instruction: movsd",
            "attributes": "application",
            "system": "pid",
            "kernel": "no kernel frames",
            "watch": "nothing watched yet",
        }[tab]
        assert expected in text
        if tab == "map":
            assert "[heap]" in text and "[vdso]" in text and f"[stack {sample_crash.crashed_tid}]" in text


async def test_tab_keys_and_annotations_key(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("]")
        assert app._active_tab() == "disassembly"
        await pilot.press("[", "[")
        assert app._active_tab() == "kernel"
        await pilot.press("w")
        assert app._active_tab() == "annotations"
        assert app.focused.id == "side"


@pytest.mark.parametrize("size", [(80, 24), (60, 15), (30, 12), (26, 14), (200, 50)])
async def test_the_tab_titles_keep_the_active_tab_in_view_and_a_click_chooses_one(sample_crash, size):
    """The side pane's border holds the twelve titles, more than fit at 80 columns: the
    active one is always on it, whole, `‹` and `›` say where titles go on, and clicking a
    title on the border shows its tab."""
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        view = app.side_view

        def border() -> str:
            return _border_row(app, view, top=True)

        for tab_id, title in TABS:
            app.set_tab(tab_id)
            await pilot.pause()
            top = border()
            assert top.startswith("╭─ 4 ") or top.startswith("┏━ 4 "), top
            assert title in top and "…" not in top, (tab_id, top)        # whole, and not cut by Textual
            hidden = [t for _i, t in TABS if t not in top]
            room = view.outer_size.width - 8      # corners, lines, spaces and "4 "
            if hidden and len(title) + 2 <= room:  # where ‹ or › fit beside the active title
                assert "‹" in top or "›" in top, top
        app.set_tab("source")
        await pilot.pause()
        top = border()
        other = next(((n, t) for n, t in enumerate(TABS) if n and f" {t[1]}" in top), None)
        if other is None:
            assert size[0] < 40          # a pane room for one title only
            return
        number, (tab_id, title) = other
        await pilot.click("#side", offset=(top.index(f" {title}") + 2, 0))
        await pilot.pause()
        assert app._active_tab() == tab_id
        assert f"{title} {number + 1}/{len(TABS)}" in _border_row(app, view, top=False)
        if tab_id == "disassembly":
            assert any("price_of" in line for line in app.side_view.text_lines())


def _border_row(app, view, top: bool) -> str:
    """The side pane's top or bottom border as on screen, corner to corner."""
    import io

    from rich.console import Console

    console = Console(width=app.size.width, height=app.size.height, color_system=None, record=True,
                      file=io.StringIO())
    console.print(app.screen._compositor.render_update(full=True))
    region = view.region
    row = console.export_text().splitlines()[region.y if top else region.bottom - 1]
    return row[region.x:region.right]


@pytest.mark.parametrize("size", SIZES)
async def test_search_and_jump(sample_crash, size):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("4", "slash", *"restock_value", "enter")
        await pilot.pause()
        source = app.side_view
        assert "restock_value" in source.plain(source.cursor)
        first = source.cursor
        await pilot.press("n")
        assert source.cursor != first and "restock_value" in source.plain(source.cursor)
        await pilot.press("N")
        assert source.cursor == first
        await pilot.press("colon", "5", "enter")
        await pilot.pause()
        assert source.cursor == 4          # source lines count from 1
        await pilot.press("2", "colon", "3", "enter")
        await pilot.pause()
        assert app.frame.index == 3


@pytest.mark.parametrize("size", SIZES)
async def test_memory_follows_a_variable(sample_crash, size):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("3", "f")
        await pilot.pause()
        assert app._active_tab() == "memory"
        memory = app.side_view
        shelf = app.frame.args[0]
        row_start = int(memory.plain(memory.cursor).split()[0], 16)
        assert row_start <= shelf.address < row_start + 16


async def test_position_token_round_trip(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("j", "j", "3", "y")
        token = app.position().token()
    assert token.startswith(f"{sample_crash.crashed_tid}/1/")
    again = make_app(sample_crash, goto=parse_position(token))
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.frame.index == 1
        selected = again.variables_pane.selected_variable()
        assert selected is not None and "/".join(selected[1]) == "/".join(token.split("/")[2:])


async def test_goto_into_a_struct_member(sample_crash):
    tid = sample_crash.crashed_tid
    app = make_app(sample_crash, goto=parse_position(f"{tid}/0/args/shelf/*shelf/aisle"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        var, path = app.variables_pane.selected_variable()
        assert var.name == "aisle" and '"B4"' in var.value


@pytest.mark.parametrize("size", SIZES)
async def test_help_lists_every_key(sample_crash, size):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        help_view = app.screen.query_one("#help", LineView)
        text = "\n".join(help_view.text_lines())
        # keys as they are typed, not as Textual names them (question_mark, slash)
        lines = {line.split("  ")[0].strip() for line in text.splitlines()}
        for key in ("M", "u", "d", "w", "y", "/", ":", "?", "q", "]", "[", "ctrl+p", "j / ↓"):
            assert key in lines, key
        assert "question_mark" not in text and "slash" not in text
        await pilot.press("escape")
        assert not app.screen.query("#help")


async def test_keymap_from_config_rebinds(sample_crash):
    app = make_app(sample_crash, keymap={"app.up": "U"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("U")
        assert app.frame.function == "restock_value"


@pytest.mark.parametrize("theme", ["hydra-light", "hydra-contrast"])
async def test_themes_switch(sample_crash, theme):
    app = make_app(sample_crash, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == theme
        source = app.side_view
        styled = source._line_fn(source.cursor)
        assert any(span.style for span in styled.spans)


async def test_resize_keeps_everything_reachable(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        for pane in (app.threads_pane, app.frames_pane, app.variables_pane):
            assert pane.size.height >= 3 and pane.size.width >= 20
        await pilot.press("q")
    assert app.return_code in (0, None)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("query,function,other_thread", [
    ("frame #2 pricing", "pricing_worker", False),    # a frame of the current thread
    ("symbol order_worker", "order_worker", True),   # a function in another thread
])
async def test_command_palette_goes_to_a_frame(sample_crash, size, query, function, other_thread):
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*query)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.frame.function == function
        assert (app.thread.tid != sample_crash.crashed_tid) == other_thread


async def test_annotation_enter_jumps_to_its_owner(sample_crash):
    import copy

    from hydra.model.crash import Annotation

    crash = copy.copy(sample_crash)
    crash.annotations = [Annotation("quantity is suspicious", "warning", tid=sample_crash.crashed_tid,
                                    frame=0, variable="args/quantity")]
    app = make_app(crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("j", "j")         # somewhere else first
        await pilot.press("w")
        await pilot.pause()
        assert "quantity is suspicious" in app.side_view.plain(0)
        await pilot.press("enter")
        await pilot.pause()
        assert app.frame.index == 0
        var, path = app.variables_pane.selected_variable()
        assert var.name == "quantity"
        rows = app.variables_pane.text_lines()
        at = app.variables_pane.cursor_line
        assert "quantity is suspicious" in rows[at + 1]       # the annotation, under its variable


async def test_a_long_annotation_wraps_under_its_variable(sample_crash):
    """An annotation longer than the Variables pane is wide shows whole, in rows under its
    variable, wrapped again when the pane's width changes."""
    import copy

    from hydra.model.crash import Annotation

    crash = copy.copy(sample_crash)
    words = " ".join(f"word{n}" for n in range(40))
    crash.annotations = [Annotation(f"quantity: {words} end", "warning", tid=sample_crash.crashed_tid,
                                    frame=0, variable="args/quantity")]
    app = make_app(crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.variables_pane
        notes = [n.label.plain for n in pane.root.children if n.data and n.data[0] == "note"]
        assert len(notes) > 2 and all(len(row) <= pane.scrollable_content_region.width for row in notes), \
            (pane.scrollable_content_region.width, pane.size, notes)
        assert " ".join(" ".join(notes).split()).endswith(f"{words} end")
        names = [n.data[1].name for n in pane.root.children if n.data and n.data[0] == "var"]
        assert names == [v.name for v in app.frame.args + app.frame.locals]
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        wider = [n.label.plain for n in pane.root.children if n.data and n.data[0] == "note"]
        assert len(wider) < len(notes) and " ".join(" ".join(wider).split()).endswith(f"{words} end")


def test_user_config_and_theme(tmp_path, monkeypatch):
    from hydra.config import load_config
    from hydra.tui.themes import load_themes

    folder = tmp_path / "hydra"
    (folder / "themes").mkdir(parents=True)
    (folder / "config.toml").write_text('theme = "mine"\n[keys]\n"app.quit" = "x"\n')
    (folder / "themes" / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n[syntax]\nkeyword = "#00ff00"\n')
    (folder / "themes" / "broken.toml").write_text("primary = [\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = load_config()
    assert config.theme == "mine" and config.keys == {"app.quit": "x"}
    themes, syntax, problems = load_themes()
    assert "mine" in themes and syntax["mine"]["keyword"] == "#00ff00"
    assert {"hydra-dark", "hydra-light", "hydra-contrast"} <= set(themes)
    assert any("broken.toml" in problem for problem in problems)


def test_a_core_opens_in_the_ui(crashed, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    program = crashed("null_deref.c", "-O0")
    marker = tmp_path / "painted"
    result = subprocess.run([str(Path(sys.executable).with_name("hydra")), program.core],
                            env={**os.environ, "HYDRA_EXIT_ON_READY": str(marker)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert marker.exists()


async def test_long_strings_page(sample_crash):
    import copy

    from hydra.model.crash import Variable

    crash = copy.deepcopy(sample_crash)
    frame = crash.crashed_thread.frames[0]
    text = '"' + "x" * 1000 + '"'
    frame.locals = frame.locals + [Variable("message", "const char *", "0x1000 " + text)]
    app = make_app(crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        node = next(n for n in app.variables_pane.root.children if n.data[0] == "var" and n.data[1].name == "message")
        assert "1009 characters" in node.label.plain
        node.expand()
        await pilot.pause()
        pages = [child.label.plain for child in node.children]
        assert len(pages) == 4 and pages[1].startswith("[256:512]")


async def test_map_follows_the_selected_register(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.set_tab("registers")
        await pilot.press("4")
        await pilot.pause()
        names = app.tabs["registers"].names
        await pilot.press(*["j"] * names.index("rsp"))
        await pilot.pause()
        rsp = app.frame.registers["rsp"]
        assert app.register_address == rsp
        await pilot.press("]", "]")          # Memory, then Map
        await pilot.pause()
        assert app._active_tab() == "map"
        start, end = [int(part, 16) for part in app.side_view.plain(app.side_view.cursor).split()[0].split("-")]
        assert start <= rsp < end


@pytest.mark.parametrize("content, problem", [
    ('name = 5\nprimary = "#ff0000"', "`name` must be text"),
    ('name = "evil"\nprimary = "notacolour"', "`primary` is not a colour"),
    ('name = "evil"\nprimary = "#ff0000"\nsyntax = "x"', "`syntax` must be a table"),
    ('name = "evil"\nprimary = "#ff0000"\n[variables]\nblock-cursor-background = "[b]"',
     "variable `block-cursor-background` is not a colour"),
    ('name = "evil"\nprimary = "#ff0000"\n[variables]\nblock-cursor-text-style = "blink; x"',
     "variable `block-cursor-text-style` is not a text style"),
])
def test_a_bad_theme_file_is_skipped_with_a_warning(tmp_path, monkeypatch, content, problem):
    from hydra.tui.themes import load_themes

    folder = tmp_path / "hydra" / "themes"
    folder.mkdir(parents=True)
    (folder / "evil.toml").write_text(content)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    themes, _syntax, problems = load_themes()
    assert "evil" not in themes and "hydra-dark" in themes
    assert any(problem in line and "evil.toml" in line for line in problems)


async def test_h_and_l_close_and_open_variables(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3")
        pane = app.variables_pane
        node = pane.cursor_node
        assert node.allow_expand and not node.is_expanded
        await pilot.press("l")
        await pilot.pause()
        assert node.is_expanded and node.children
        await pilot.press("l")           # open already: into it
        assert pane.cursor_node is node.children[0]
        await pilot.press("h")           # a closed child: back to its parent
        assert pane.cursor_node is node
        await pilot.press("h")
        assert not node.is_expanded


async def test_the_cursor_row_has_its_own_background(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.frames_pane
        assert pane.cursor == 0 and app.focused is pane

        def backgrounds(y):
            return {segment.style.bgcolor for segment in pane.render_line(y) if segment.style}

        assert backgrounds(0) and backgrounds(0).isdisjoint(backgrounds(2))


def test_windows_module_paths_are_shortened_too():
    from hydra.tui.lines import short_path

    assert short_path("C:\\WINDOWS\\system32\\kernel32.dll") == "kernel32.dll"
    assert short_path("/lib/x86_64-linux-gnu/libc.so.6") == "libc.so.6"


async def test_search_looks_into_closed_variables_and_thread_groups(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # a member of a struct behind a pointer nobody has opened yet
        await pilot.press("3", "slash", *"aisle", "enter")
        await pilot.pause()
        await pilot.pause()
        assert "aisle = " in app.variables_pane.cursor_node.label.plain
        # a thread inside a closed "+ 4 threads" group
        hidden = next(t for g in app.threads_pane.groups if len(g.threads) > 1 for t in g.threads[1:])
        await pilot.press("1", "slash", *str(hidden.tid), "enter")
        await pilot.pause()
        assert app.threads_pane.thread_at(app.threads_pane.cursor) is hidden


async def test_jumping_to_an_elided_frame_says_so():
    from pathlib import Path

    from hydra.loader import open_crash

    crash = open_crash(str(Path(__file__).parents[2] / "sample_snapshots" / "parser_recursion.hsnap"))
    thread = crash.crashed_thread
    assert thread.elided_frames
    hidden = thread.elided_after + 1
    app = make_app(crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("2", "colon", *str(hidden), "enter")
        await pilot.pause()
        await pilot.pause()
        assert app.frame.index == thread.elided_after
        assert any(f"frame #{hidden} is not shown" in n.message for n in app._notifications)


async def test_textual_light_themes_colour_code_for_a_light_background(sample_crash):
    app = make_app(sample_crash, theme="textual-light")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.current_theme.dark
        assert app.syntax_styles() == app.syntax["hydra-light"]


async def test_jump_takes_registers_in_memory_and_addresses_in_disassembly(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        frame = app.frame
        app.set_tab("memory")
        await pilot.press("4", "colon", *"$rsp", "enter")
        await pilot.pause()
        assert app.memory_address == frame.registers["rsp"]
        app.set_tab("disassembly")
        await pilot.pause()
        await pilot.press("g")
        await pilot.press("colon", *f"0x{frame.pc:x}", "enter")
        await pilot.pause()
        assert app.side_view.plain(app.side_view.cursor).startswith("=>")


async def test_the_cursor_row_stays_above_the_horizontal_scrollbar():
    from pathlib import Path

    from hydra.loader import open_crash

    crash = open_crash(str(Path(__file__).parents[2] / "sample_snapshots" / "parser_recursion.hsnap"))
    app = make_app(crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.frames_pane
        assert pane.virtual_size.width > pane.size.width       # there is a horizontal scrollbar
        for _ in range(25):
            await pilot.press("j")
            await pilot.pause()
            top, rows = pane.scroll_offset.y, pane.scrollable_content_region.height
            assert top <= pane.cursor < top + rows


async def test_the_prompt_keeps_a_maximized_pane_and_moves_no_pane(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        regions = {pane: app.query_one(f"#{pane}").region for pane in ("threads", "frames", "variables", "side")}
        await pilot.press("slash")
        await pilot.pause()
        assert {pane: app.query_one(f"#{pane}").region for pane in regions} == regions
        await pilot.press("escape")
        await pilot.press("4", "M")
        await pilot.pause()
        app.set_tab("memory")
        await pilot.press("colon", *"$rsp", "enter")
        await pilot.pause()
        assert app.screen.maximized is app.query_one("#side")
        assert app.memory_address == app.frame.registers["rsp"]


async def test_closing_a_thread_group_keeps_the_cursor_on_it(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.threads_pane
        await pilot.press("1", "G", "enter")         # open the last group
        await pilot.pause()
        header = next(index for index, (group, thread) in enumerate(pane.rows) if thread is None)
        await pilot.press("G", "enter")              # close it from its last member
        await pilot.pause()
        assert pane.rows[pane.cursor][1] is None and pane.cursor == header


@pytest.mark.parametrize("size", SIZES)
async def test_vim_keys_move_within_the_view(sample_crash, size):
    """H and L: the top and bottom rows shown; Ctrl-D/U half a page, Ctrl-F/B a page."""
    app = make_app(sample_crash)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("4")                         # the source: longer than any view
        source = app.side_view
        await pilot.press("L")
        top, rows = source.scroll_offset.y, source.scrollable_content_region.height
        assert source.cursor == top + rows - 1
        await pilot.press("H")
        assert source.cursor == top
        await pilot.press("ctrl+d")
        assert source.cursor == top + rows // 2
        await pilot.press("ctrl+u")
        assert source.cursor == top
        await pilot.press("ctrl+f")
        assert source.cursor == top + rows - 1
        await pilot.press("ctrl+b")
        assert source.cursor == top
        await pilot.press("3")
        tree = app.variables_pane
        await pilot.press("L")
        expected = min(tree.last_line, tree.scroll_offset.y + tree.scrollable_content_region.height - 1)
        assert tree.cursor_line == expected > 0
        await pilot.press("H")
        assert tree.cursor_line == tree.scroll_offset.y


async def test_goto_a_frame_of_another_thread(capture, crashed):
    crash = capture(crashed("threads_many.c", "-O0"))
    other = next(t for t in crash.threads if t.tid != crash.crashed_tid and len(t.frames) > 3)
    app = make_app(crash, goto=parse_position(f"{other.tid}/3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app.thread is other and app.frame.index == 3
        assert app.frames_pane.frame_at(app.frames_pane.cursor).index == 3


@pytest.mark.parametrize("source, opt, function, said", [
    ("assert_fail.c", "-O0", "withdraw", "assertion failed: remaining >= 0"),
    ("exception.cpp", "-O2", None, "uncaught "),
])
async def test_an_abort_opens_on_the_programs_frame_and_says_why(capture, crashed, source, opt, function, said):
    # glibc's and libstdc++'s frames have no source in the snapshot: the first frame that
    # does is where the program asked to die; what it said sits in the signal block
    crash = capture(crashed(source, opt))
    app = make_app(crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.frame.file in crash.sources
        assert app.frame.index > 0
        if function:
            assert app.frame.function == function
        assert app._active_tab() == "source"
        block = [app.frames_pane._line(i).plain for i in range(len(app.frames_pane.rows))]
        assert any(said in line for line in block), block


async def test_saving_the_variables_pane_keeps_the_open_nodes(sample_crash, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3", "l", "j", "l")       # open (shelf), then *shelf
        await pilot.pause()
        app.action_save_pane()
        await pilot.pause()
    saved = next(tmp_path.glob("hydra-variables-*.txt")).read_text().splitlines()
    assert saved[0].startswith("- (shelf) = 0x")
    assert saved[1].lstrip().startswith("- *shelf = {")
    members = [line for line in saved[2:] if line.startswith("    ")]
    assert any(" = " in line for line in members), saved
    assert any(line.startswith("  (slot) = ") for line in saved), saved


async def test_a_message_goes_when_the_next_command_is_typed(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("colon", "q", "enter")
        await pilot.pause()
        context = app.query_one("#rule-context")
        assert "not an index" in str(context.render())
        await pilot.press("colon", "1", "enter")
        await pilot.pause()
        assert "not an index" not in str(context.render())
        assert app.frame.index == 1


async def test_right_arrow_opens_a_variable_without_scrolling(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3", "right")
        await pilot.pause()
        pane = app.variables_pane
        assert pane.cursor_node.is_expanded and pane.scroll_offset.x == 0
        await pilot.press("left")
        assert not pane.cursor_node.is_expanded


async def test_a_maximized_pane_keeps_the_title_above_it(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3", "M")
        await pilot.pause()
        title = app.query_one("#rule-title")
        assert app.screen.maximized is app.variables_pane
        assert title.region.y == 0 and app.variables_pane.region.y == 1


async def test_panes_take_the_width_their_content_needs(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        await pilot.pause()
        variables = app.variables_pane
        # at 200 columns the variables and their annotation fit
        assert variables.size.width >= variables.virtual_size.width
    async with make_app(sample_crash).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        await pilot.pause()
        await pilot.pause()
        before = app.threads_pane.size.width
        await pilot.press("1")            # where not all fits, the pane in use gets more
        await pilot.pause()
        await pilot.pause()
        assert app.threads_pane.size.width > before


async def test_less_and_greater_move_the_split(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        before = app.threads_pane.size.width, app.variables_pane.size.width
        await pilot.press("less_than_sign", "less_than_sign")
        await pilot.pause()
        await pilot.pause()
        assert (app.threads_pane.size.width, app.variables_pane.size.width) == (before[0] - 8, before[1] - 8)
        await pilot.press("greater_than_sign")
        await pilot.pause()
        await pilot.pause()
        assert app.threads_pane.size.width == before[0] - 4


async def test_sideways_scrolling_moves_a_quarter_of_the_view(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("1", "l")
        await pilot.pause()
        pane = app.threads_pane
        assert pane.scroll_offset.x == min(max(8, pane.size.width // 4), pane.max_scroll_x)
        assert pane.scroll_offset.x >= 8 or pane.max_scroll_x < 8


async def test_the_side_pane_title_says_where_the_tabs_go_on(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        side = app.query_one("#side")
        assert f"Source 1/{len(TABS)}" in str(side.border_subtitle)
        await pilot.press("4", "right_square_bracket")
        await pilot.pause()
        assert f"Disasm 2/{len(TABS)}" in str(side.border_subtitle)


async def test_a_long_message_under_the_signal_wraps_to_the_pane():
    from hydra.model.signals import signal_message
    from hydra.resources import sample
    from hydra.snapshot import read_snapshot

    crash = read_snapshot(sample("ledger_assert.hsnap"))
    said = signal_message(crash)
    app = make_app(crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.frames_pane
        pane.show(crash.crashed_thread, 0)
        width = pane.scrollable_content_region.width - 2
        texts = [row for row in pane.rows if not hasattr(row, "pc")]
        assert len(texts) > 2 and all(row.cell_len <= width for row in texts)
        # nothing is lost (a word longer than the pane is folded)
        joined = "".join("".join(row.plain.split()) for row in texts)
        assert "".join(said.split()) in joined


async def test_the_first_screen_resumes_the_collector(sample_crash):
    """Held while the TUI starts (hydra.collector), on again once its first screen is drawn."""
    import gc

    from hydra import collector

    was = gc.isenabled()
    gc.enable()
    try:
        with collector.held():
            app = make_app(sample_crash)
            assert not gc.isenabled()
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                assert gc.isenabled()
    finally:
        if not was:
            gc.disable()
