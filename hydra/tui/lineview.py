"""A cursor list that renders only the lines on screen (the line API), for any number of
lines: threads, frames, source, disassembly, memory, and every table in the side pane."""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

LineFunction = Callable[[int], Text]


class LineMessage(Message):
    def __init__(self, view: "LineView", index: int):
        super().__init__()
        self.view = view
        self.index = index

    @property
    def control(self) -> "LineView":
        return self.view


class LineView(ScrollView, can_focus=True):
    """Lines come from a function (index -> Text), asked only for the lines shown."""

    DEFAULT_CSS = """
    LineView { background: $surface; }
    LineView > .lineview--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    LineView:focus > .lineview--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES = {"lineview--cursor"}
    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="line.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="line.up"),
        Binding("g,home", "first", "First", show=False, id="line.first"),
        Binding("G,end", "last", "Last", show=False, id="line.last"),
        Binding("H", "view_top", "Top of the view", show=False, id="line.view_top"),
        Binding("L", "view_bottom", "Bottom of the view", show=False, id="line.view_bottom"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="line.page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="line.page_up"),
        Binding("ctrl+d", "half_page(1)", "Half a page down", show=False, id="line.half_down"),
        Binding("ctrl+u", "half_page(-1)", "Half a page up", show=False, id="line.half_up"),
        Binding("h,left", "scroll_left", "Scroll left", show=False, id="line.left"),
        Binding("l,right", "scroll_right", "Scroll right", show=False, id="line.right"),
        Binding("enter", "activate", "Open", show=False, id="line.activate"),
    ]

    cursor = reactive(0, always_update=True)

    class Moved(LineMessage):
        """The cursor moved to `index`."""

    class Activated(LineMessage):
        """Enter on the line at `index`."""

    def __init__(self, *, marker: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.count = 0
        self._line_fn: LineFunction = lambda index: Text()
        self._plain: Callable[[int], str] | None = None
        self.marker = marker
        self.search_hits: list[int] = []
        # what to bring into view once the view has a size: "centre" (center_on) or "cursor"
        self._reveal: str | None = None

    # ---- content
    def set_lines(self, count: int, line: LineFunction, width: int = 200,
                  plain: Callable[[int], str] | None = None, cursor: int = 0) -> None:
        self.count = count
        self._line_fn = line
        self._plain = plain
        self.virtual_size = Size(width + 2, count)
        self.cursor = max(0, min(cursor, count - 1)) if count else 0
        self.refresh()

    @staticmethod
    def widest(line: LineFunction, count: int, sample: int = 2000, default: int = 200) -> int:
        """The width to scroll across: the longest of the first lines, so a list that fits
        has no horizontal scrollbar (which would take one of few rows at 80x24)."""
        if count > sample:
            return default
        return max((line(index).cell_len for index in range(count)), default=0) + 2

    def plain(self, index: int) -> str:
        return self._plain(index) if self._plain else self._line_fn(index).plain

    # ---- rendering
    def render_lines(self, crop):
        # a cursor placed before the first layout is brought into view here, where the size
        # is known: the first screen shows it, not the one after a deferred scroll
        if self._reveal is not None and self.size.height:
            reveal, self._reveal = self._reveal, None
            if reveal == "centre":
                self._centre()
            else:
                self.scroll_to_cursor()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.size.width
        base = self.rich_style
        if index >= self.count:
            return Strip.blank(width, base)
        text = self._line_fn(index)
        selected = index == self.cursor
        if self.marker:
            text = Text.assemble(("▶ " if selected else "  "), text, end="")
        # a segment's own style wins over the one applied: the cursor's background goes
        # in with the base, under the line's colours, and fills the row to its end
        if selected:
            base = base + self.get_component_rich_style("lineview--cursor")
        segments = list(text.render(self.app.console))
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, base).apply_style(base)

    # ---- sideways: a quarter of the view per press, as less and vim's zL step by half
    def _sideways_step(self) -> int:
        return max(8, self.size.width // 4)

    def action_scroll_left(self) -> None:
        self.scroll_relative(x=-self._sideways_step(), animate=False)

    def action_scroll_right(self) -> None:
        self.scroll_relative(x=self._sideways_step(), animate=False)

    # ---- cursor
    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_cursor()
        self.refresh()
        self.post_message(self.Moved(self, new))

    @property
    def _rows(self) -> int:
        """Rows the lines have: a horizontal scrollbar takes one of the widget's."""
        return max(1, self.scrollable_content_region.height)

    def scroll_to_cursor(self) -> None:
        if not self.size.height:
            self._reveal = self._reveal or "cursor"
            return
        height = self._rows
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def center_on(self, index: int) -> None:
        self.cursor = max(0, min(index, self.count - 1))
        if not self.size.height:
            self._reveal = "centre"
            return
        self._centre()
        # new lines may change the scrollbars, and so how far the view can scroll, after
        # this scroll was clamped: look again once the layout has settled
        self.call_after_refresh(self.call_after_refresh, self.scroll_to_cursor)

    def _centre(self) -> None:
        self.scroll_to(y=max(0, self.cursor - self._rows // 2), animate=False, immediate=True)

    def move_to(self, index: int) -> None:
        if self.count:
            self.cursor = max(0, min(index, self.count - 1))

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.count - 1)

    def action_view_top(self) -> None:
        self.move_to(self.scroll_offset.y)

    def action_view_bottom(self) -> None:
        self.move_to(self.scroll_offset.y + self._rows - 1)

    def action_half_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self._rows // 2))

    def action_page_down(self) -> None:
        self.move_to(self.cursor + max(1, self._rows - 1))

    def action_page_up(self) -> None:
        self.move_to(self.cursor - max(1, self._rows - 1))

    def action_activate(self) -> None:
        self.post_message(self.Activated(self, self.cursor))

    def on_click(self, event) -> None:
        index = self.line_at(event)
        if index is not None:
            self.cursor = index

    def line_at(self, event) -> int | None:
        """The line under the mouse: None on the border, the padding or past the last line
        (the event's own y counts from the border)."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        index = offset.y + self.scroll_offset.y
        return index if 0 <= index < self.count else None

    # ---- search
    def search(self, pattern: re.Pattern, forward: bool = True, start: int | None = None) -> bool:
        """Move to the next line matching pattern; lines are searched as plain text."""
        if not self.count:
            return False
        begin = self.cursor if start is None else start
        limit = min(self.count, 200_000)  # a bound for huge views: search what a person could
        for step in range(1, limit + 1):
            index = (begin + step) % self.count if forward else (begin - step) % self.count
            if pattern.search(self.plain(index)):
                self.center_on(index)
                return True
        return False

    def text_lines(self) -> list[str]:
        return [self.plain(index) for index in range(min(self.count, 1_000_000))]
