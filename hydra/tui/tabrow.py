"""The side pane's tabs as one line of titles.

Textual's Tabs mounts a widget for every tab and a bar beneath them: for twelve tabs that is
about 17 ms of the first screen, and a row of the pane. Here the titles are one line, the
active one bold and underlined (which shows without colour too), moved along so that it
stays in view when the pane is narrower than the row.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

GAP = 2         # columns between two titles


class TabRow(Widget):
    DEFAULT_CSS = """
    TabRow { height: 1; padding: 0 1; }
    TabRow > .tabrow--active { text-style: bold underline; }
    """
    COMPONENT_CLASSES = {"tabrow--active"}

    class Changed(Message):
        """Another tab became the active one."""

        def __init__(self, row: TabRow, tab: str) -> None:
            super().__init__()
            self.row = row
            self.tab = tab

        @property
        def control(self) -> TabRow:
            return self.row

    def __init__(self, tabs: list[tuple[str, str]], **kwargs) -> None:
        """tabs: (id, title) of each tab, in order; the first is active."""
        super().__init__(**kwargs)
        self.tabs = list(tabs)
        self.active = self.tabs[0][0]

    def activate(self, tab: str) -> None:
        if tab != self.active and any(tab == tab_id for tab_id, _ in self.tabs):
            self.active = tab
            self.refresh()
            self.post_message(self.Changed(self, tab))

    def _spans(self) -> list[tuple[int, int, str, str]]:
        """(first column, column past the end, id, title) of each title on the whole row."""
        spans, column = [], 0
        for tab_id, title in self.tabs:
            spans.append((column, column + len(title), tab_id, title))
            column += len(title) + GAP
        return spans

    def _shift(self) -> int:
        """Columns of the row left out on the left: none while the active title fits."""
        end = next(end for _start, end, tab_id, _title in self._spans() if tab_id == self.active)
        return max(0, end - self.content_size.width)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop", end="")
        active = self.get_component_rich_style("tabrow--active", partial=True)
        for start, _end, tab_id, title in self._spans():
            if start:
                text.append(" " * GAP)
            text.append(title, active if tab_id == self.active else "")
        return text[self._shift():]

    def on_click(self, event: events.Click) -> None:
        column = event.x - self.styles.padding.left + self._shift()
        found = next((tab_id for start, end, tab_id, _title in self._spans() if start <= column < end), None)
        if found is not None:
            self.activate(found)
