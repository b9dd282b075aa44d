"""Dump text is shown literally: no markup, no links, no terminal control bytes."""

from __future__ import annotations


from hydra.tui.lineview import LineView

from .conftest import make_app

ESC = "\x1b"


def rendered(view: LineView) -> str:
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


async def test_hostile_strings_render_literally(hostile_crash):
    app = make_app(hostile_crash)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert app.is_running
        frames = rendered(app.frames_pane)
        assert "hostile[bold].c" in frames
        threads = rendered(app.threads_pane)
        assert "[b]x\\x1b[31m" in threads
        source = app.side_view
        shown = rendered(source)
        assert "[@click=app.quit]" in shown and "arr[i]" in shown and "[/]" in shown
        assert "\\x1b]0;pwned\\x07" in source._line_fn(1).plain
        # a tab-indented line keeps its columns: eight spaces, never a raw TAB
        assert " " * 8 + "int *nothing = 0;" + " " * 7 + "/* indented" in source._line_fn(9).plain
        assert "\t" not in shown
        assert ESC not in "\n".join(source.text_lines())     # what "save pane as text" writes
        # variables: struct members with markup-like and control strings
        await pilot.press("2", "j", "j")
        await pilot.pause()
        tree = app.variables_pane
        record = next(n for n in tree.root.children if n.data[1].name == "r")
        record.expand()
        await pilot.pause()
        labels = [child.label.plain for child in record.children]
        assert any('[red]alarm[/red]\\033]0;t\\a' in label for label in labels), labels
        assert any("[@click=app.quit]quit[/] [$accent]x[/]" in label for label in labels), labels
        # the whole screen, every tab: not one raw ESC or BEL reaches the terminal
        for tab in ("source", "attributes", "system", "map", "modules"):
            app.set_tab(tab)
            await pilot.pause()
            screen = app.export_screenshot()
            assert ESC not in screen and "\x07" not in screen
        # clicking the fake link does nothing
        await pilot.click("#side", offset=(4, 1))
        await pilot.pause()
        assert app.is_running


async def test_command_palette_shows_names_literally(hostile_crash):
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    app = make_app(hostile_crash)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"thread")
        await pilot.pause(0.6)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        options = palette.query_one(OptionList)
        shown = "\n".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
        assert "[b]x\\x1b[31m" in shown
        assert ESC not in app.export_screenshot()


async def test_every_field_from_the_dump_is_shown_without_control_or_invisible_characters(hostile_crash):
    import copy

    from hydra.model.crash import Annotation, MapEntry
    from hydra.model.memory import Memory, MemoryRegion
    from hydra.report.backtrace import format_text

    evil = "\x1b]0;pwned\x07\x1b[2J\u202eexe.txt\u200b"
    crash = copy.deepcopy(hostile_crash)
    crash.signal.name = "SIGSEGV" + evil
    crash.signal.code_name = "SEGV_MAPERR" + evil
    crash.annotations.append(Annotation("x" + evil, severity="error" + evil))
    crash.memory_map.append(MapEntry(0x1000, 0x2000, "r-x" + evil, 0, "/lib/" + evil))
    crash.modules[0].path = "/usr/bin/" + evil
    crash.warnings.append("warning " + evil)
    for frame in crash.crashed_thread.frames:
        frame.function = (frame.function or "f") + evil
    crash.memory = Memory([MemoryRegion(r.start, r.size, r.kind + evil, r.data) for r in crash.memory.regions])

    def clean(text: str) -> bool:
        return not any(c in text for c in (ESC, "\x07", "\u202e", "\u200b"))

    assert clean(format_text(crash, full=True))
    app = make_app(crash)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        for tab in ("source", "disassembly", "registers", "memory", "map", "modules", "classifiers",
                    "annotations", "attributes", "system"):
            app.set_tab(tab)
            await pilot.pause()
            assert clean(app.export_screenshot()), tab


async def test_snapshot_fields_of_the_wrong_type_open_and_show_safely(hostile_crash, tmp_path):
    import copy
    import json

    from hydra.report.backtrace import format_json, format_text
    from hydra.snapshot.format import read_snapshot, write_snapshot

    evil = "\x1b]0;pwned\x07\u202e"
    crash = copy.deepcopy(hostile_crash)
    crash.threads[0].elided_frames = evil
    crash.threads[0].elided_after = "x"
    crash.threads[0].kernel_frames = [5, b"\x1b[2J", evil]
    crash.system = {1: "int key", "nested": {"a": [b"bytes", {2: 3.5}]}, "bad": evil}
    crash.process.pid = evil
    crash.process.capture_time = 1e300
    crash.signal.address = "zz"
    path = tmp_path / "wrong-types.hsnap"
    write_snapshot(crash, str(path))
    again = read_snapshot(str(path))
    assert again.threads[0].elided_frames == 0 and again.process.pid is None
    assert again.system["1"] == "int key" and again.system["nested"] == {"a": ["b'bytes'", {"2": 3.5}]}
    text = format_text(again, full=True) + json.dumps(format_json(again, full=True))
    assert ESC not in text and "\u202e" not in text
    app = make_app(again)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for tab in ("system", "kernel", "attributes", "source"):
            app.set_tab(tab)
            await pilot.pause()
            screen = app.export_screenshot()
            assert ESC not in screen and "\u202e" not in screen, tab
        assert app.is_running


async def test_huge_names_and_variable_counts_keep_the_screen_responsive(hostile_crash, monkeypatch):
    import copy
    from pathlib import Path

    from hydra.model.crash import Annotation, Variable

    crash = copy.deepcopy(hostile_crash)
    frame = crash.crashed_thread.frames[0]
    frame.function = "f" * 2280                          # the palette's matcher is exponential in it
    frame.locals = [Variable(f"v{n}", "int", str(n)) for n in range(20_000)]
    crash.annotations += [Annotation(f"note {n}", tid=crash.crashed_tid, frame=frame.index, variable=f"v{n}")
                          for n in range(20_000)]
    app = make_app(crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()            # 20,000 labels each scanning 20,000 notes would take minutes
        assert any("note 3" in node.label.plain for node in app.variables_pane.root.children[:10])
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"frame 0")
        await pilot.pause(0.5)
        await pilot.press("escape")

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(Path, "write_text", refuse)
        app.action_save_pane()                                # in a folder it cannot write to
        await pilot.pause()
        assert app.is_running
