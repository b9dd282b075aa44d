"""Pane 4: one view that each side tab fills with its lines, the tabs' titles on its border.

A row of tabs of its own, in a container with the view, cost the first screen 3 ms (two
widgets to mount, style and draw) and a row of the pane. The titles are on the top border
instead: the active one bold and underlined (which shows without colour too), moved along so
that it stays in view when the pane is narrower than the row, with `‹` and `›` where titles
go on past the border. The bottom border says which tab of how many, and the keys for more.
"""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.message import Message

from hydra.tui.lineview import LineView

GAP = 2             # columns between two titles
LABEL = "4 "        # the pane's number, before the titles
TITLE_START = 3     # the title's first column on the border: after the corner, a line and a space
BORDER_ROOM = 6     # the border's columns that are not the title's: corners, lines and spaces


class SideView(LineView):
    ALLOW_MAXIMIZE = True

    class TabChanged(Message):
        """Another tab became the active one."""

        def __init__(self, view: SideView, tab: str) -> None:
            super().__init__()
            self.view = view
            self.tab = tab

        @property
        def control(self) -> SideView:
            return self.view

    def __init__(self, tabs: list[tuple[str, str]], **kwargs) -> None:
        """tabs: (id, title) of each tab, in order; the first is active."""
        super().__init__(**kwargs)
        self.tabs = list(tabs)
        self.active = self.tabs[0][0]
        self._shown: list[tuple[int, int, str]] = []     # (first column, past the end, id) on the border

    def activate(self, tab: str) -> None:
        if tab != self.active and any(tab == tab_id for tab_id, _ in self.tabs):
            self.active = tab
            self._draw_titles()
            self.post_message(self.TabChanged(self, tab))

    def on_mount(self) -> None:
        self._draw_titles()

    def on_resize(self, event: events.Resize) -> None:
        self._draw_titles()

    def _draw_titles(self) -> None:
        """The border's title and subtitle for the active tab and the pane's width."""
        spans, column = [], 0          # (first column, past the end, id, title) on the whole row
        for tab_id, title in self.tabs:
            spans.append((column, column + len(title), tab_id, title))
            column += len(title) + GAP
        total = spans[-1][1]
        # what Textual leaves a border's title: the width less the corners, lines and spaces
        room = max(0, (self.outer_size.width or 200) - BORDER_ROOM - len(LABEL))
        active = next(span for span in spans if span[2] == self.active)
        shift, left, right = 0, False, False
        if total > room and active[1] - active[0] > room - 2:
            shift = active[0]           # the active title alone, whole if it fits, without ‹ and ›
        elif total > room:
            room = max(0, room - 2)     # for ‹ and ›
            # from the first whole title that leaves the active one whole in view
            shift = next((start for start, *_rest in spans if start <= active[0] and active[1] - start <= room),
                         active[0])
            left, right = room > 0 and shift > 0, room > 0 and shift + room < total
        parts: list[str | tuple[str, str]] = [LABEL, "‹" if left else ""]
        self._shown = []
        at = len(LABEL) + left          # the column of the next character in the title
        position = shift                 # the column of the whole row it shows
        for start, end, tab_id, title in spans:
            if end <= shift or start >= shift + room:
                continue
            visible = title[max(0, shift - start):min(len(title), shift + room - start)]
            if start > shift and position < start:
                gap = min(start, shift + room) - position
                parts.append(" " * gap)
                at += gap
            parts.append((visible, "bold underline") if tab_id == self.active else visible)
            self._shown.append((at, at + len(visible), tab_id))
            at += len(visible)
            position = min(end, shift + room)
        parts.append("›" if right else "")
        self.border_title = Content.assemble(*parts)
        number = next(index for index, (tab_id, _title) in enumerate(self.tabs) if tab_id == self.active)
        self.border_subtitle = f"{self.tabs[number][1]} {number + 1}/{len(self.tabs)} · [ ] for more"

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """A press on a title shows its tab, read where the border is as the button goes
        down: the focus the press gives the pane moves its edges (fit_columns) before a
        click would arrive, and the release may land outside it. From the screen's
        coordinates: a scrolled view's own count from what it scrolled to."""
        if event.screen_y == self.region.y:
            column = event.screen_x - self.region.x - TITLE_START
            found = next((tab_id for start, end, tab_id in self._shown if start <= column < end), None)
            if found is not None:
                self.activate(found)
