"""The Variables pane: a tree on the line API (opening, paging, the mouse, what it draws)."""

from __future__ import annotations

import copy

from hydra.model.crash import Variable
from hydra.tui.panes import PAGE

from .conftest import make_app


def _with_array(sample_crash, count: int):
    crash = copy.deepcopy(sample_crash)
    frame = crash.crashed_thread.frames[0]
    members = [Variable(f"[{n}]", "int", str(n)) for n in range(count)]
    frame.locals = frame.locals + [Variable("table", "int [%d]" % count, "{...}", children=members)]
    return crash


async def test_a_large_array_opens_a_page_at_a_time(sample_crash):
    app = make_app(_with_array(sample_crash, PAGE * 2 + 5))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pane = app.variables_pane
        assert pane.select_path(["locals", "table"])
        await pilot.press("3", "l")
        await pilot.pause()
        table = pane.cursor_node
        assert [child.label.plain.strip() for child in table.children[:2]] == ["[0] = 0", "[1] = 1"]
        assert len(table.children) == PAGE + 1
        assert table.children[-1].label.plain == f"… {PAGE + 5} more ({PAGE} of {PAGE * 2 + 5} shown)"
        pane.move_cursor(table.children[-1])
        await pilot.press("enter")
        await pilot.pause()
        assert len(table.children) == 2 * PAGE + 1
        assert table.children[PAGE].label.plain.strip() == f"[{PAGE}] = {PAGE}"
        assert pane.cursor_node is table.children[PAGE]       # where `… more` was
        assert f"locals/table/[{PAGE}]" in str(app.query_one("#rule-context").render())
        pane.move_cursor(table.children[-1])
        await pilot.press("enter")
        await pilot.pause()
        assert [child.label.plain.strip() for child in table.children[-2:]] == \
            [f"[{PAGE * 2 + 3}] = {PAGE * 2 + 3}", f"[{PAGE * 2 + 4}] = {PAGE * 2 + 4}"]
        assert pane.count == len(pane.text_lines())


async def test_rows_show_the_cursor_and_the_tree_without_colour(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("3", "l")
        await pilot.pause()
        pane = app.variables_pane
        rows = ["".join(segment.text for segment in pane.render_line(y)) for y in range(4)]
        assert rows[0].startswith("▶ - (shelf) = 0x")
        # the child under the opened pointer, as the last one: a corner guide, then its +
        assert rows[1].startswith("  └ + *shelf = {")
        assert rows[2].startswith("    (slot) = ")
        await pilot.press("j", "l")
        await pilot.pause()
        rows = ["".join(segment.text for segment in pane.render_line(y)) for y in range(6)]
        assert rows[1].startswith("▶ └ - *shelf = {")
        # members under it: a tee for each but the last, and its own column of guides
        assert rows[2].startswith("    ├   aisle = ") and rows[3].startswith("    ├   slots = ")


async def test_a_click_moves_the_cursor_and_a_double_click_opens(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pane = app.variables_pane
        await pilot.click("#variables", offset=(4, 2))     # the border, then the second row
        await pilot.pause()
        assert pane.cursor == 1 and pane.cursor_node.label.plain.strip().startswith("(slot)")
        await pilot.click("#variables", offset=(4, 1))
        await pilot.pause()
        node = pane.cursor_node
        assert pane.cursor == 0 and node.allow_expand and not node.is_expanded
        await pilot.click("#variables", offset=(4, 1))     # the cursor's row, once: stays shut
        await pilot.pause()
        assert not node.is_expanded
        await pilot.double_click("#variables", offset=(4, 1))
        await pilot.pause()
        assert node.is_expanded and node.children
        await pilot.double_click("#variables", offset=(4, 1))
        await pilot.pause()
        assert not node.is_expanded


async def test_a_path_past_the_first_page_is_found_and_a_wrong_one_changes_nothing_unseen(sample_crash):
    app = make_app(_with_array(sample_crash, PAGE * 2 + 5))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pane = app.variables_pane
        assert not pane.select_path(["locals", "table", "[9999]"])
        await pilot.pause()
        # what it opened on the way is shown: the rows on screen are the tree's
        assert pane.count == len(pane.text_lines())
        assert pane.select_path(["locals", "table", f"[{PAGE + 50}]"])
        await pilot.pause()
        assert pane.cursor_node.label.plain.strip() == f"[{PAGE + 50}] = {PAGE + 50}"
        assert pane.count == len(pane.text_lines())
        assert f"locals/table/[{PAGE + 50}]" in str(app.query_one("#rule-context").render())


async def test_a_click_on_a_bordered_pane_takes_the_row_under_it(sample_crash):
    app = make_app(sample_crash)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        frames = app.frames_pane
        await pilot.click("#frames", offset=(6, 1))       # the first row inside the border
        await pilot.pause()
        assert frames.cursor == 0
        await pilot.click("#frames", offset=(6, 3))
        await pilot.pause()
        assert frames.cursor == 2
        await pilot.click("#frames", offset=(6, 0))       # the border: nothing
        await pilot.pause()
        assert frames.cursor == 2
