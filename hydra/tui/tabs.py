"""The side pane's tabs, in one registry: each tab's id and title, the lines it shows for the
selected thread and frame, and what it keeps between two showings (the Memory tab's mode, the
Registers tab's names, the Disasm tab's addresses, the Watch tab's cursor). The app asks the
active tab for its lines, and keeps only what several tabs follow: the address the Memory and
Map tabs show."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hydra.tui import code, lines

if TYPE_CHECKING:
    from hydra.tui.app import HydraApp


class SideTab:
    # shown again when the address the tab follows moves (the selected variable or register)
    follows_address = False

    def __init__(self, id: str, title: str, build: Callable[[HydraApp], lines.Lines] | None = None):
        self.id = id
        self.title = title
        self._build = build

    def content(self, app: HydraApp) -> lines.Lines:
        assert self._build is not None
        return self._build(app)


class SourceTab(SideTab):
    def content(self, app: HydraApp) -> lines.Lines:
        content = code.source_lines(app.crash, app.frame, app.syntax_styles(), app.source_cache)
        if content.payload and content.payload[0].lexer is None:
            # the lexer loads after the first screen shows the plain lines (see SourceLines)
            app.after_paint(app.colour_source, content.payload[0])
        return content


class DisassemblyTab(SideTab):
    def __init__(self, id: str, title: str):
        super().__init__(id, title)
        self.addresses: list[int] = []        # of the lines shown, for `:ADDRESS`

    def content(self, app: HydraApp) -> lines.Lines:
        content = code.disassembly_lines(app.crash, app.frame, app.at_faulting_frame())
        self.addresses = content.payload
        return content


class WatchTab(SideTab):
    def __init__(self, id: str, title: str):
        super().__init__(id, title)
        self.cursor: int | None = None        # where the next showing puts the cursor

    def content(self, app: HydraApp) -> lines.Lines:
        content = app.watch.lines(self.cursor if self.cursor is not None else app.side_view.cursor)
        self.cursor = None
        return content


class RegistersTab(SideTab):
    def __init__(self, id: str, title: str):
        super().__init__(id, title)
        self.names: list[str] = []            # the register on each line

    def content(self, app: HydraApp) -> lines.Lines:
        content = lines.registers(app.crash, app.frame, app.thread)
        self.names = content.payload
        return content


class MemoryTab(SideTab):
    """A hex dump around the followed address, a telescope of the stack, or where a search
    found its bytes."""

    follows_address = True

    def __init__(self, id: str, title: str):
        super().__init__(id, title)
        self.view = "dump"                    # dump, telescope, matches
        self.matches: lines.Lines | None = None
        self.payload: list = []               # the address each line of a telescope or matches stands for

    def content(self, app: HydraApp) -> lines.Lines:
        frame = app.frame
        if self.view == "telescope":
            content = lines.telescope(app.crash, app.memory_address or (frame.sp if frame else None),
                                      frame.sp if frame else None)
        elif self.view == "matches" and self.matches is not None:
            content = self.matches
        else:
            content = app.hexdump.lines(app.memory_address or app.focus_address())
        self.payload = content.payload
        return content

    def address_at(self, index: int) -> int | None:
        """The address a telescope's or a search's line stands for (Enter goes there); none
        in the dump."""
        if self.view in ("matches", "telescope") and 0 <= index < len(self.payload):
            return self.payload[index]
        return None


class MapTab(SideTab):
    follows_address = True

    def content(self, app: HydraApp) -> lines.Lines:
        return lines.memory_map(app.crash, app.focus_address())


def side_tabs() -> list[SideTab]:
    """A new set of the tabs, in their order on the side pane's border (each app keeps its own)."""
    return [
        SourceTab("source", "Source"),
        DisassemblyTab("disassembly", "Disasm"),
        WatchTab("watch", "Watch"),
        RegistersTab("registers", "Regs"),
        MemoryTab("memory", "Memory"),
        MapTab("map", "Map"),
        SideTab("modules", "Modules", lambda app: lines.modules(app.crash)),
        SideTab("classifiers", "Class", lambda app: lines.classifiers(app.crash)),
        SideTab("annotations", "Annot", lambda app: lines.annotations(app.crash)),
        SideTab("attributes", "Attrs", lambda app: lines.attributes(app.crash)),
        SideTab("system", "System", lambda app: lines.system(app.crash)),
        SideTab("kernel", "Kernel", lambda app: lines.kernel_frames(app.thread)),
    ]


# (id, title) of each tab, in order: the titles on the side pane's border
TABS = [(tab.id, tab.title) for tab in side_tabs()]
