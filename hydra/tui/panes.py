"""The three left-hand panes: threads, frames and variables."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size

from hydra.model.crash import Crash, Frame, Thread, Trust, Variable
from hydra.model.grouping import ThreadGroup, group_threads, telling_frames
from hydra.model.signals import fault_facts, signal_message
from hydra.model.text import printable
from hydra.tui.lineview import LineView
from hydra.tui.lines import short_path
from hydra.tui.safe import assemble

PAGE = 100          # children shown at a time under a large array or struct
TEXT_PAGE = 256     # characters a long string shows per page
LABEL_VALUE = 160   # characters of a value shown in its label
MAX_FRAME_VARIABLES = 5000


class ThreadsPane(LineView):
    """Threads grouped by identical call stacks; the faulted thread first, marked F."""

    BINDINGS = [Binding("space,enter", "toggle", "Expand group", show=False, id="threads.toggle")]

    def __init__(self, crash: Crash, **kwargs):
        super().__init__(**kwargs)
        self.crash = crash
        self.groups = group_threads(crash)
        self._telling = telling_frames(self.groups)
        # every thread row in one column layout: under the "+ N threads" rows when there are some
        self._indent = "    " if any(len(group.threads) > 1 for group in self.groups) else "  "
        self.expanded: set[int] = set()
        self.rows: list[tuple[ThreadGroup, Thread | None]] = []

    def on_mount(self) -> None:
        self.rebuild()

    def rebuild(self, keep: Thread | None = None) -> None:
        self.rows = []
        for position, group in enumerate(self.groups):
            if len(group.threads) == 1:
                self.rows.append((group, group.leader))
            else:
                self.rows.append((group, None))
                if position in self.expanded:
                    self.rows.extend((group, thread) for thread in group.threads)
        cursor = 0
        if keep is not None:
            for index, (group, thread) in enumerate(self.rows):
                # the thread's own row, or its group's when the group is closed
                if thread is keep or (thread is None and keep in group.threads):
                    cursor = index
                    if thread is keep:
                        break
        self.set_lines(len(self.rows), self._line, self.widest(self._line, len(self.rows)), cursor=cursor)

    def _top(self, thread: Thread) -> tuple[str, str]:
        frame = thread.frames[0] if thread.frames else None
        if frame is None:
            return "", ""
        return short_path(frame.module), frame.display_name

    def _line(self, index: int) -> Text:
        return self._row(*self.rows[index])

    def _row(self, group: ThreadGroup, thread: Thread | None) -> Text:
        if thread is None:
            module, function = self._top(group.leader)
            position = self.groups.index(group)
            sign = "-" if position in self.expanded else "+"
            telling = self._telling.get(position)
            # groups with the same top frame: where each one's stack parts from the others
            parts = [(" … ", "dim"), (f"#{telling.index} {telling.display_name}", "")] if telling else []
            return assemble(f"{sign} ", (f"{len(group.threads)} threads", "bold"), "  ",
                            (module, "dim"), "  ", (function, ""), *parts)
        module, function = self._top(thread)
        # a core does not say what a thread was doing: its state is unknown, shown as nothing
        state = "F" if thread is group.leader and group.faulted else \
            (" " if thread.state in ("?", None, "") else thread.state)
        indent = self._indent
        style = "bold red" if state == "F" else ""
        return assemble(indent, (state, style), f" {thread.tid:<8} ", (thread.name or "", "italic"), "  ",
                        (module, "dim"), "  ", (function, ""))

    def search(self, pattern: re.Pattern, forward: bool = True, start: int | None = None) -> bool:
        """Rows first; then the threads of closed groups, whose group opens on a match."""
        if super().search(pattern, forward, start):
            return True
        for position, group in enumerate(self.groups):
            if position in self.expanded or len(group.threads) < 2:
                continue
            for thread in group.threads:
                if pattern.search(self._row(group, thread).plain):
                    self.select_thread(thread)
                    return True
        return False

    def thread_at(self, index: int) -> Thread | None:
        if not 0 <= index < len(self.rows):
            return None
        group, thread = self.rows[index]
        return thread or group.leader

    def select_thread(self, thread: Thread) -> None:
        for position, group in enumerate(self.groups):
            if thread in group.threads and len(group.threads) > 1:
                self.expanded.add(position)
        self.rebuild(keep=thread)

    def action_toggle(self) -> None:
        if not self.rows:
            return
        group, thread = self.rows[self.cursor]
        position = self.groups.index(group)
        if len(group.threads) > 1:
            self.expanded.symmetric_difference_update({position})
            self.rebuild(keep=thread or group.leader)


class FramesPane(LineView):
    """Frames of the selected thread; the signal block sits right under the faulting frame."""

    def __init__(self, crash: Crash, **kwargs):
        super().__init__(**kwargs)
        self.crash = crash
        self.thread: Thread | None = None
        self.rows: list[Frame | Text] = []

    def show(self, thread: Thread, frame_index: int = 0) -> None:
        self.thread = thread
        self.rows = []
        cursor = 0
        for position, frame in enumerate(thread.frames):
            if frame.index == frame_index:
                cursor = len(self.rows)
            self.rows.append(frame)
            if position == 0 and thread.crashed and self.crash.signal is not None:
                self.rows += self._wrapped(self._signal_block(), "        ")
                # what the program said as it died: the assertion, glibc's message, the exception
                said = signal_message(self.crash)
                if said:
                    self.rows += self._wrapped(Text(f"        {printable(said)}", style="italic"), "        ")
            if thread.elided_after is not None and frame.index == thread.elided_after:
                self.rows.append(Text(f"      … {thread.elided_frames} frames of the same recursion elided …",
                                      style="italic dim"))
        if thread.unwind_note:
            self.rows.append(assemble("      (", (thread.unwind_note, "italic"), ")"))
        if not thread.frames:
            self.rows.append(Text("      no frames", style="italic"))
        self.set_lines(len(self.rows), self._line, self.widest(self._line, len(self.rows)), cursor=cursor)

    def _wrapped(self, text: Text, indent: str) -> list[Text]:
        """A long row in lines as wide as the pane, the later ones indented (rows are made
        again when the pane is resized)."""
        width = self.scrollable_content_region.width - 3      # the cursor mark takes 2
        if width < 20 or text.cell_len <= width:
            return [text]
        rows = list(text.wrap(self.app.console, width - len(indent), overflow="fold", no_wrap=False))
        return [rows[0]] + [Text(indent, end="") + row for row in rows[1:]]

    def on_resize(self, event) -> None:
        if self.thread is not None:
            current = self.frame_at(self.cursor)
            self.show(self.thread, current.index if current is not None else 0)

    def _signal_block(self) -> Text:
        signal = self.crash.signal
        parts = [f"      ⚡ {printable(signal.name)}"]
        if signal.code_name:
            parts.append(f" {printable(signal.code_name)}")
        parts += [f" {printable(fact)}" for fact in fault_facts(self.crash)]
        return Text("".join(parts), style="bold")

    def _line(self, index: int) -> Text:
        row = self.rows[index]
        if isinstance(row, Text):
            return row
        frame = row
        location = ""
        if frame.file:
            location = f"{short_path(frame.file)}:{frame.line or '?'}"
        mark = "i " if frame.inline else "t " if frame.trust == Trust.TAILCALL else "  "     # inline, tail call
        return assemble((f"#{frame.index:<3}", "bold"), (mark, "italic"),
                        (frame.display_name, "bold" if frame.file else ""), "  ", (location, ""), "  ",
                        (short_path(frame.module), "dim"))

    def frame_at(self, index: int) -> Frame | None:
        if not 0 <= index < len(self.rows):
            return None
        row = self.rows[index]
        if isinstance(row, Frame):
            return row
        for back in range(index - 1, -1, -1):
            if isinstance(self.rows[back], Frame):
                return self.rows[back]
        return None

    def move_frame(self, step: int) -> None:
        frames = [i for i, row in enumerate(self.rows) if isinstance(row, Frame)]
        if not frames:
            return
        current = self.frame_at(self.cursor)
        position = next((p for p, i in enumerate(frames) if self.rows[i] is current), 0)
        self.cursor = frames[max(0, min(len(frames) - 1, position + step))]

    def goto_frame(self, number: int) -> bool:
        for index, row in enumerate(self.rows):
            if isinstance(row, Frame) and row.index == number:
                self.cursor = index
                return True
        return False


MAX_SEARCHED_VARIABLES = 100_000


NOTE_LEAST_WIDTH = 16      # annotation rows wrap at the pane's width, never narrower than this


class VariableNode:
    """A row of the Variables pane, and the rows under it (made when it is first opened)."""

    __slots__ = ("parent", "label", "data", "children", "allow_expand", "is_expanded", "_pane")

    def __init__(self, pane: "VariablesPane", parent: "VariableNode | None", label: Text,
                 data: tuple | None = None, allow_expand: bool = False):
        self._pane = pane
        self.parent = parent
        self.label = label
        self.data = data
        self.children: list[VariableNode] = []
        self.allow_expand = allow_expand
        self.is_expanded = False

    def add(self, label: Text, data: tuple | None = None, allow_expand: bool = True) -> "VariableNode":
        node = VariableNode(self._pane, self, label, data, allow_expand)
        self.children.append(node)
        return node

    def add_leaf(self, label: Text, data: tuple | None = None) -> "VariableNode":
        return self.add(label, data, allow_expand=False)

    def expand(self) -> None:
        self._pane.expand(self)

    def collapse(self) -> None:
        self._pane.collapse(self)


class VariablesPane(LineView):
    """Arguments (in parentheses) and locals, as a tree drawn on the line API like the other
    panes: only the rows on screen are rendered, and children are made when a node opens."""

    # + and -, as the thread groups
    ICON_NODE = "+ "
    ICON_NODE_EXPANDED = "- "

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="variables.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="variables.up"),
        Binding("g,home", "first", "First", show=False, id="variables.first"),
        Binding("G,end", "last", "Last", show=False, id="variables.last"),
        Binding("H", "view_top", "Top of the view", show=False, id="variables.view_top"),
        Binding("L", "view_bottom", "Bottom of the view", show=False, id="variables.view_bottom"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="variables.page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="variables.page_up"),
        Binding("ctrl+d", "half_page(1)", "Half a page down", show=False, id="variables.half_down"),
        Binding("ctrl+u", "half_page(-1)", "Half a page up", show=False, id="variables.half_up"),
        # the arrows open and close too: scrolling sideways would hide the +/- column
        Binding("l,right", "expand", "Expand", show=False, id="variables.expand"),
        Binding("h,left", "collapse", "Collapse", show=False, id="variables.collapse"),
        Binding("enter,space", "activate", "Open, close, or show more", show=False, id="variables.toggle"),
    ]

    def __init__(self, crash: Crash, **kwargs):
        super().__init__(**kwargs)
        self.crash = crash
        self.root = VariableNode(self, None, Text("variables"), allow_expand=True)
        self.root.is_expanded = True
        self._shown: list[tuple[VariableNode, str]] = []        # the open rows, with their guides
        self.frame: Frame | None = None
        self._notes: dict[str, list[str]] = {}      # member name -> annotations on it here
        self._noted: list[tuple[VariableNode, list[str]]] = []   # variables with annotation rows
        self._wrapped_at = -1                                  # the width they were wrapped to
        self.thread: Thread | None = None

    # ---- the rows
    def _open_rows(self) -> list[tuple[VariableNode, str]]:
        """The open nodes in order, each with the guides drawn before it (none at the top)."""
        rows: list[tuple[VariableNode, str]] = []

        def walk(node: VariableNode, prefix: str, nested: bool) -> None:
            last = len(node.children) - 1
            for position, child in enumerate(node.children):
                guide = prefix + ("└ " if position == last else "├ ") if nested else ""
                rows.append((child, guide))
                if child.is_expanded:
                    walk(child, prefix + ("  " if position == last else "│ ") if nested else "", True)

        walk(self.root, "", False)
        return rows

    def _icon(self, node: VariableNode) -> str:
        return (self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE) if node.allow_expand else ""

    def _row_text(self, index: int) -> Text:
        node, guide = self._shown[index]
        return Text.assemble((guide, "dim"), self._icon(node), node.label, end="")

    def _row_of(self, node: VariableNode | None) -> int | None:
        return next((index for index, (shown, _) in enumerate(self._shown) if shown is node), None)

    def _rows_changed(self, cursor: VariableNode | None = None, moved: bool = False) -> None:
        """Show the tree as it is now, the cursor on `cursor` (or where it was). With moved,
        the cursor is set as a move (watchers told); otherwise quietly, as the rows under it
        change."""
        current = cursor if cursor is not None else self.cursor_node
        self._shown = self._open_rows()
        index = self._row_of(current)
        if index is None:
            index = min(self.cursor, len(self._shown) - 1)
        if moved:
            self.set_lines(len(self._shown), self._row_text, self._widest(), cursor=max(0, index))
            return
        self.count = len(self._shown)
        self.virtual_size = Size(self._widest() + 2, self.count)     # as set_lines makes it
        if index != self.cursor:
            self.set_reactive(LineView.cursor, max(0, index))
            self.scroll_to_cursor()
        self.refresh()

    def _widest(self) -> int:
        """The columns of the widest open row after the cursor's marker (annotation rows
        wrap to the pane's width, and do not count)."""
        return max([cell_len(guide) + (2 if node.allow_expand else 0) + node.label.cell_len
                    for node, guide in self._shown if not (node.data and node.data[0] == "note")], default=0)

    @property
    def cursor_node(self) -> VariableNode | None:
        return self._shown[self.cursor][0] if 0 <= self.cursor < len(self._shown) else None

    @property
    def cursor_line(self) -> int:
        return self.cursor

    @cursor_line.setter
    def cursor_line(self, index: int) -> None:
        self.move_to(index)

    @property
    def last_line(self) -> int:
        return len(self._shown) - 1

    def move_cursor(self, node: VariableNode) -> None:
        index = self._row_of(node)
        if index is not None:
            self.cursor = index

    def text_lines(self) -> list[str]:
        """What the pane shows, as text: every open row, indented two spaces a level where
        the screen draws its guides (leaves' labels carry their own indent, under the +/- of
        their siblings)."""
        return ["  " * (len(guide) // 2) + self._icon(node) + node.label.plain for node, guide in self._shown]

    def wanted_width(self) -> int:
        """The columns the open variables take (annotation rows wrap to what they get)."""
        widest = 2 + self._widest()
        # an annotation asks for room as a row beside its variable would: the split gives
        # what it can, and the annotation wraps to that
        for node, texts in self._noted:
            widest = max([widest] + [2 + node.label.cell_len + 4 + cell_len(text) for text in texts])
        return widest

    # ---- what is shown
    def show(self, frame: Frame | None, thread: Thread | None = None) -> None:
        self.frame = frame
        self.thread = thread
        self.root.children = []
        self._noted = []
        if frame is None:
            self._rows_changed(moved=True)
            return
        if not frame.args and not frame.locals and not self.crash.globals:
            self.root.add_leaf(Text("no variables (no debug info here, or none in scope)", style="italic"))
            self._rows_changed(moved=True)
            return
        self._notes = {}
        top_notes: dict[tuple[str, str], list[str]] = {}     # (kind, name) -> its annotations here
        for annotation in self.crash.annotations:
            if annotation.frame == frame.index and annotation.variable and \
                    (annotation.tid is None or thread is None or annotation.tid == thread.tid):
                path = annotation.variable.split("/")
                if len(path) == 2:
                    top_notes.setdefault((path[0], path[1]), []).append(annotation.text)
                else:
                    self._notes.setdefault(path[-1], []).append(annotation.text)
        shown = [("args", var) for var in frame.args] + [("locals", var) for var in frame.locals] + \
            [("globals", var) for var in self.crash.globals]     # asked for with --global
        self._wrapped_at = self.scrollable_content_region.width
        for kind, var in shown[:MAX_FRAME_VARIABLES]:
            node = self._add(self.root, var, (kind, var.name))
            if (kind, var.name) in top_notes:
                # a variable's annotations in rows under it, as wide as the pane: a note such
                # as "rdi is NULL: the faulting operand is ..." is longer than 80 columns
                self._noted.append((node, top_notes[(kind, var.name)]))
                self._add_notes(self.root, top_notes[(kind, var.name)])
        if len(shown) > MAX_FRAME_VARIABLES:
            self.root.add_leaf(Text(f"… {len(shown) - MAX_FRAME_VARIABLES} more variables not shown",
                                    style="italic dim"))
        self._rows_changed(self.root.children[0], moved=True)

    def _note_rows(self, text: str) -> list[Text]:
        """An annotation as rows under its variable, wrapped to the pane's width (the rows
        are made again when the pane is resized)."""
        body = assemble((text, "bold"))
        # the cursor's column and the marker before each row take eight columns; two are spare
        width = max(NOTE_LEAST_WIDTH, self.scrollable_content_region.width - 4) - 6
        rows = list(body.wrap(self.app.console, width, overflow="fold", no_wrap=False)) \
            if body.cell_len > width else [body]
        return [Text(marker, end="") + row for marker, row in zip(["    ◀ "] + ["      "] * len(rows), rows)]

    def _add_notes(self, parent: VariableNode, texts: list[str]) -> None:
        """Annotation rows, appended to parent's children (after the variable just added)."""
        for text in texts:
            for row in self._note_rows(text):
                parent.add_leaf(row, data=("note", text))

    def on_resize(self, event) -> None:
        if self._noted:
            self.call_after_refresh(self._wrap_notes_again)      # after cursor moves under way

    def _wrap_notes_again(self) -> None:
        """The annotations' rows wrapped again to the pane's width; opened variables stay
        open and the cursor stays on its variable."""
        if not self._noted or self._wrapped_at == self.scrollable_content_region.width:
            return
        self._wrapped_at = self.scrollable_content_region.width
        current = self.cursor_node
        if current is not None and current.data and current.data[0] == "note":
            current = None
        notes = {id(node): texts for node, texts in self._noted}
        children, self.root.children = self.root.children, []
        for child in children:
            if child.data and child.data[0] == "note":
                continue
            self.root.children.append(child)
            if id(child) in notes:
                self._add_notes(self.root, notes[id(child)])
        self._rows_changed(current)

    def label(self, var: Variable) -> Text:
        name = f"({var.name})" if var.kind == "arg" else var.name
        value_style = "italic dim" if var.note else ""
        value = var.value
        if len(value) > LABEL_VALUE:
            value = value[:LABEL_VALUE] + f"… ({len(var.value)} characters; expand for pages)"
        # gdb's `name = value`: the value is what fits at 80 columns; the type is on the
        # context line for the selected variable
        parts = [(name, "bold"), " = ", (value, value_style)]
        for text in self._notes.get(var.name, ()):
            parts += ["  ◀ ", (text, "bold")]
        return assemble(*parts)

    # ---- opening and closing
    def expand(self, node: VariableNode) -> None:
        if not node.allow_expand or node.is_expanded:
            return
        node.is_expanded = True
        if not node.children and node.data and node.data[0] == "var":
            self._load_page(node, 0)
        self._rows_changed()

    def collapse(self, node: VariableNode) -> None:
        if node.allow_expand and node.is_expanded:
            node.is_expanded = False
            self._rows_changed()

    def action_expand(self) -> None:
        """l: open the node under the cursor, or step into it when it is open."""
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if node.is_expanded:
            self.action_cursor_down()
        else:
            self.expand(node)

    def action_collapse(self) -> None:
        """h: close the node under the cursor, or go to its parent when it is closed."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            self.collapse(node)
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_activate(self) -> None:
        """Enter: open or close the node under the cursor; on `… more`, the next page."""
        node = self.cursor_node
        if node is None:
            return
        if node.data and node.data[0] == "more":
            # the next page in its place, the cursor on the first of it
            parent = node.parent
            parent.children.remove(node)
            first = len(parent.children)
            self._load_page(parent, node.data[3])
            self._rows_changed(parent.children[first] if first < len(parent.children) else parent, moved=True)
        elif node.allow_expand:
            (self.collapse if node.is_expanded else self.expand)(node)

    def on_click(self, event) -> None:
        """A click puts the cursor on a row; a double click opens or closes it (or shows the
        next page on `… more`)."""
        event.prevent_default()          # LineView's own click would move the cursor again
        index = self.line_at(event)
        if index is None:
            return
        if index != self.cursor:
            self.cursor = index
        elif event.chain >= 2:
            self.action_activate()

    def _add(self, parent: VariableNode, var: Variable, path: tuple[str, ...]) -> VariableNode:
        expandable = bool(var.children) or var.omitted > 0 or len(var.value) > LABEL_VALUE
        if expandable:
            return parent.add(self.label(var), data=("var", var, path, 0))
        # under the icon column of the nodes that open, so names line up
        return parent.add_leaf(Text("  ") + self.label(var), data=("var", var, path, 0))

    def _load_page(self, node: VariableNode, start: int) -> None:
        _kind, var, path, _ = node.data
        if not var.children and len(var.value) > LABEL_VALUE:
            # a long string: its text in pages, each saying where it starts
            for offset in range(0, len(var.value), TEXT_PAGE):
                piece = var.value[offset : offset + TEXT_PAGE]
                node.add_leaf(assemble((f"[{offset}:{offset + len(piece)}] ", "dim"), (piece, "")))
            return
        children = var.children[start : start + PAGE]
        for child in children:
            self._add(node, child, path + (child.name,))
        shown = start + len(children)
        if shown < len(var.children):
            node.add_leaf(Text(f"… {len(var.children) - shown} more ({shown} of {len(var.children)} shown)",
                               style="italic"), data=("more", var, path, shown))
        elif var.omitted:
            node.add_leaf(Text(f"… {var.omitted} more not captured", style="italic dim"))

    def selected_variable(self) -> tuple[Variable, tuple[str, ...]] | None:
        node = self.cursor_node
        if node is None or not node.data or node.data[0] != "var":
            return None
        return node.data[1], node.data[2]

    def search(self, pattern: re.Pattern, forward: bool = True) -> bool:
        """Move to the next variable whose `name = value` matches, closed nodes included:
        the nodes on the way are opened."""
        if self.frame is None:
            return False
        found: list[tuple[tuple[str, ...], str]] = []

        def walk(var: Variable, path: tuple[str, ...], label: str) -> None:
            found.append((path, label))
            for child in var.children[:PAGE]:
                if len(found) >= MAX_SEARCHED_VARIABLES:
                    return
                if child.kind != "target" or len(path) < 8:
                    walk(child, path + (child.name,), f"{child.name} = {child.value}")

        for kind, var in [("args", v) for v in self.frame.args] + [("locals", v) for v in self.frame.locals]:
            if len(found) >= MAX_SEARCHED_VARIABLES:
                break
            walk(var, (kind, var.name), f"({var.name}) = {var.value}" if kind == "args" else f"{var.name} = {var.value}")
        if not found:
            return False
        selected = self.selected_variable()
        current = selected[1] if selected is not None else None
        start = next((index for index, (path, _) in enumerate(found) if path == current), -1)
        for step in range(1, len(found) + 1):
            path, label = found[(start + step) % len(found)] if forward else found[(start - step) % len(found)]
            if pattern.search(label) and self.select_path(list(path)):
                return True
        return False

    def select_path(self, path: list[str]) -> bool:
        """Expand down a variable path (as in a position token) and put the cursor there;
        pages past the first are loaded as far as the path asks. A path that leads nowhere
        leaves open what it opened on the way, as shown."""
        node = self.root
        for depth, name in enumerate(path[1:]):
            match = self._child_named(node, name)
            if match is None:
                self._rows_changed()
                return False
            node = match
            if depth < len(path) - 2:
                node.is_expanded = True
                if not node.children and node.data and node.data[0] == "var":
                    self._load_page(node, 0)
        self._rows_changed(node)
        self.move_cursor(node)
        return True

    def _child_named(self, node: VariableNode, name: str) -> VariableNode | None:
        """The variable `name` under node, loading the pages after the shown ones (each
        `… more` row in turn) until it is found or none is left."""
        start = 0
        while True:
            for child in node.children[start:]:
                if child.data and child.data[0] == "var" and child.data[1].name == name:
                    return child
            last = node.children[-1] if node.children else None
            if last is None or not last.data or last.data[0] != "more":
                return None
            node.children.pop()
            start = len(node.children)
            self._load_page(node, last.data[3])
