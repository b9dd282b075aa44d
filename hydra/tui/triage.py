"""`hydra triage`: the store's buckets in the terminal — counts, a sparkline of the last two
weeks, first and last seen, state, severity, the fingerprint's frames — with a filter line
that takes the query language. Enter opens a bucket's crashes; Enter on a crash leaves this
view for the debugger's (run_triage starts it), which comes back here, where it was."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from hydra.model import BadInput
from hydra.model.record import record
from hydra.store.db import Store
from hydra.store.triage import BucketCrash, BucketRow, bucket_rows, crashes_of, histograms_of, sparkline
from hydra.tui.lineview import LineView
from hydra.tui.safe import assemble
from hydra.tui.themed import ThemedApp


@record
class TriagePlace:
    """Where the view was, kept across a visit to the debugger."""
    where: str = ""
    sort: str = "count"
    bucket: int = 0
    crash: int | None = None       # the crash list's cursor when one was open


def _when(value: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(value)) if value else "?"


class TriageApp(ThemedApp):
    TITLE = "hydra triage"
    CSS = """
    Screen { layout: vertical; }
    .rule { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    #list { height: 1fr; border: heavy $accent; border-title-color: $accent; border-title-style: bold;
            border-subtitle-color: $foreground; }
    #detail { height: auto; max-height: 3; display: none; padding: 0 1; }
    #detail.visible { display: block; }
    #filter { dock: bottom; display: none; height: 1; border: none; padding: 0 1; }
    #filter.visible { display: block; }
    TriageApp:ansi LineView:focus > .lineview--cursor { text-style: bold reverse; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit", id="triage.quit"),
        Binding("slash", "filter", "Filter (the query language: program=x and severity>=EXPLOITABLE)",
                id="triage.filter"),
        Binding("s", "sort", "Sort by count or by last seen", id="triage.sort"),
        Binding("escape,backspace", "back", "Back to the buckets", id="triage.back"),
    ]

    def __init__(self, connection: Store, place: TriagePlace | None = None, **kwargs):
        super().__init__(**kwargs)
        self.connection = connection
        self.place = place or TriagePlace()
        self.buckets: list[BucketRow] = []
        self.crashes: list[BucketCrash] | None = None      # the open bucket's, or None on the list

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="rule", markup=False)
        yield Static(id="detail", markup=False)
        yield LineView(id="list")
        yield Static(id="status", classes="rule", markup=False)
        yield Input(id="filter", placeholder="program=x and severity>=PROBABLY_EXPLOITABLE")

    @property
    def view(self) -> LineView:
        return self.query_one("#list", LineView)

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        self.load()
        if self.place.crash is not None:
            self.open_bucket(self.place.bucket, self.place.crash)
        self.view.focus()

    # ---- the bucket list
    def load(self) -> None:
        conditions = [part.strip() for part in self.place.where.split(" and ") if part.strip()]
        try:
            self.buckets = bucket_rows(self.connection, conditions, self.place.sort)
        except BadInput as error:
            self._say(f"{error.path}: {error.reason}")
            self.buckets = []
        total = sum(row.count for row in self.buckets)
        self.query_one("#title", Static).update(assemble(
            ("hydra triage", "bold"), f" · {len(self.buckets)} buckets · {total} crashes · sorted by ",
            (self.place.sort, "bold"), (f" · where {self.place.where}" if self.place.where else "", "")))
        self.crashes = None
        self.query_one("#detail", Static).remove_class("visible")
        view = self.view
        view.border_title = "buckets"
        view.border_subtitle = "count · last 14 days · first · last · state · severity · program · frames"
        view.set_lines(len(self.buckets), self._bucket_line, 200,
                       cursor=min(self.place.bucket, max(0, len(self.buckets) - 1)))

    def _bucket_line(self, index: int) -> Text:
        row = self.buckets[index]
        return assemble((f"{row.count:>6}", "bold"), "  ", (sparkline(row.daily), ""), "  ",
                        (f"{_when(row.first)} {_when(row.last)}", "dim"), "  ", (f"{row.state:<7}", ""), "  ",
                        (f"{(row.severity or '?'):<20}", ""), "  ", (row.program, "bold"), "  ", (row.frames, ""))

    # ---- a bucket's crashes
    def open_bucket(self, index: int, cursor: int = 0) -> None:
        if not 0 <= index < len(self.buckets):
            return
        self.place.bucket = index
        row = self.buckets[index]
        self.crashes = crashes_of(self.connection, row.fingerprint, row.program)
        detail = self.query_one("#detail", Static)
        detail.update(Text("\n").join(histogram_line(label, values)
                                      for label, values in histograms_of(self.connection, row.fingerprint,
                                                                         row.program).items()))
        detail.add_class("visible")
        view = self.view
        view.border_title = f"{row.program} · {row.frames}"
        view.border_subtitle = "time · version · host · signal · file · attributes (Enter opens it)"
        view.set_lines(len(self.crashes), self._crash_line, 200, cursor=cursor)
        self._say(f"fingerprint {row.fingerprint} · {row.count} crashes on {row.hosts} hosts")

    def _crash_line(self, index: int) -> Text:
        crash = self.crashes[index]
        attributes = " ".join(f"{key}={value}" for key, value in crash.attributes)
        return assemble((time.strftime("%Y-%m-%d %H:%M", time.gmtime(crash.captured)) if crash.captured else "?",
                         "dim"), "  ", (crash.version or "-", ""), "  ", (crash.host or "-", ""), "  ",
                        (crash.signal or "-", "bold"), "  ", (crash.path, ""), "  ", (attributes, "dim"))

    @on(LineView.Activated, "#list")
    def _activated(self, event: LineView.Activated) -> None:
        if self.crashes is None:
            self.open_bucket(event.index)
        elif 0 <= event.index < len(self.crashes):
            self.place.crash = event.index
            self.exit(self.crashes[event.index].path)       # the debugger opens it; run_triage comes back

    def action_back(self) -> None:
        if self.query_one("#filter", Input).has_class("visible"):
            self._close_filter()
        elif self.crashes is not None:
            self.place.crash = None
            self.load()

    def action_sort(self) -> None:
        self.place.sort = "last" if self.place.sort == "count" else "count"
        self.place.bucket = 0
        self.load()

    # ---- the filter line
    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = self.place.where
        field.add_class("visible")
        field.focus()

    def _close_filter(self) -> None:
        self.query_one("#filter", Input).remove_class("visible")
        self.view.focus()

    @on(Input.Submitted, "#filter")
    def _filtered(self, event: Input.Submitted) -> None:
        self.place.where = event.value.strip()
        self.place.bucket = 0
        self._close_filter()
        self._say("")
        self.load()

    def _say(self, text: str) -> None:
        self.query_one("#status", Static).update(text)


HISTOGRAM_BAR = 8          # cells of the most frequent value's bar
HISTOGRAM_VALUES = 6       # values shown in a line; the rest are counted


def histogram_line(label: str, values: list[tuple[str, int]]) -> Text:
    """`versions  2.9 ████ 12  2.10 ██ 5  +3 more`: a field's values, most frequent first,
    with bars scaled to the largest (the line is cut at the pane's edge)."""
    most = max((count for _, count in values), default=0)
    parts: list = [(f"{label + 's':<9}", "bold")]
    for value, count in values[:HISTOGRAM_VALUES]:
        cells = max(1, round(count * HISTOGRAM_BAR / most)) if most else 0
        parts += [" ", (value, ""), " ", ("█" * cells, "bold"), (f" {count}", "dim"), " "]
    if len(values) > HISTOGRAM_VALUES:
        parts.append((f" +{len(values) - HISTOGRAM_VALUES} more", "dim"))
    line = assemble(*parts)
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


def run_triage(connection: Store, open_crash, make_debugger, **app_options) -> int:
    """The triage view; a crash chosen there opens in the debugger, and quitting the debugger
    comes back to the view where it was."""
    place = TriagePlace()
    while True:
        chosen = TriageApp(connection, place, **app_options).run()
        if not chosen:
            return 0
        try:
            crash = open_crash(chosen)
        except BadInput as error:
            place.crash = place.crash or 0
            print(f"hydra: {error.path}: {error.reason}")
            continue
        make_debugger(crash, chosen).run()
