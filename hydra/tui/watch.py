"""The Watch tab: expressions asked of the snapshot (`=`, `:print`, `:ptype`, `:x`), their
answers as trees that open lazily (a struct's members, an array's elements, what a pointer
points to, page by page), pinned ones evaluated again in each frame and remembered per
snapshot in the user's state folder."""

from __future__ import annotations

import json
import os

from rich.text import Text

from hydra.evaluate import EvalError, Session
from hydra.evaluate.commands import run_command
from hydra.evaluate.printer import Printer
from hydra.evaluate.session import parse_format
from hydra.evaluate.typenames import type_name
from hydra.evaluate.values import Value, to_int, unqualified
from hydra.model.digest import sha256_hex
from hydra.model.record import field, record
from hydra.model.types import Kind
from hydra.tui.lines import Lines
from hydra.tui.safe import assemble

PAGE = 20                 # elements shown, and added by each `more` line
SUMMARY = 300             # characters of a value on its line
MAX_PINNED = 64


@record
class Entry:
    command: str                      # `print head->next`, `ptype struct node`, `x/4xw $sp`
    number: int = 0                   # its $N when it printed a value
    pinned: bool = False
    value: Value | None = None
    fmt: str | None = None
    text: list[str] = field(default_factory=list)     # ptype and x: lines of text
    error: str | None = None


@record
class Row:
    entry: Entry
    path: tuple                       # child names from the entry's value down
    label: str
    value: Value | None
    depth: int
    expandable: bool = False
    more: int | None = None           # a `… more` line: where the next page starts
    text: str | None = None           # a line of text (ptype, x, an error)


class Watch:
    def __init__(self, crash, snapshot_key: str | None = None):
        self.crash = crash
        self.session = Session(crash)
        self.entries: list[Entry] = []
        self.expanded: set[tuple] = set()      # (id(entry), path)
        self.hex: set[tuple] = set()
        self.pages: dict[tuple, int] = {}      # how many elements a node shows
        self.state_file = _state_file(snapshot_key) if snapshot_key else None
        self._rows: list[Row] | None = None
        for command in self._load_pinned():
            self.add(command, pinned=True, quiet=True)

    # ------------------------------------------------------------ entries

    def select(self, thread, frame) -> None:
        """A new thread or frame: pinned entries are evaluated again there."""
        self.session.select(thread, frame)
        if frame is not None:
            self.session.select(frame=frame)
        for entry in self.entries:
            if entry.pinned:
                self._evaluate(entry)
        self._rows = None

    def add(self, command: str, pinned: bool = False, quiet: bool = False) -> Entry:
        command = command.strip()
        if not command.split(" ", 1)[0].split("/", 1)[0] in ("print", "p", "ptype", "whatis", "x", "output"):
            command = f"print {command}"
        entry = Entry(command, pinned=pinned)
        self._evaluate(entry)
        self.entries.append(entry)
        self._rows = None
        return entry

    def _evaluate(self, entry: Entry) -> None:
        entry.value, entry.text, entry.error = None, [], None
        word = entry.command.split(" ", 1)[0].split("/", 1)[0]
        try:
            if word in ("print", "p", "output"):
                fmt, expression = parse_format(entry.command.split(" ", 1)[1] if " " in entry.command else "")
                fmt = fmt or (entry.command.split(" ", 1)[0].split("/", 1)[1][-1:] if "/" in
                              entry.command.split(" ", 1)[0] else None)
                value = self.session.evaluate(expression)
                self.session.history.append(value)
                entry.value, entry.fmt, entry.number = value, fmt, len(self.session.history)
            else:
                entry.text = run_command(self.session, entry.command).splitlines()
        except EvalError as error:
            entry.error = error.message

    def remove(self, entry: Entry) -> None:
        if entry in self.entries:
            self.entries.remove(entry)
            self._save_pinned()
            self._rows = None

    def toggle_pin(self, entry: Entry) -> None:
        entry.pinned = not entry.pinned
        self._save_pinned()
        self._rows = None

    # ------------------------------------------------------------ rows

    def rows(self) -> list[Row]:
        if self._rows is None:
            rows: list[Row] = []
            for entry in self.entries:
                self._entry_rows(entry, rows)
            self._rows = rows
        return self._rows

    def _entry_rows(self, entry: Entry, rows: list[Row]) -> None:
        pin = "📌 " if entry.pinned else ""
        if entry.error is not None:
            rows.append(Row(entry, (), f"{pin}{entry.command}", None, 0, text=entry.error))
            return
        if entry.value is None:
            rows.append(Row(entry, (), f"{pin}{entry.command}", None, 0, text=""))
            rows.extend(Row(entry, ("line", n), "", None, 1, text=line) for n, line in enumerate(entry.text))
            return
        self._value_rows(entry, (), f"{pin}${entry.number}", entry.value, 0, rows)

    def _value_rows(self, entry: Entry, path: tuple, label: str, value: Value, depth: int,
                    rows: list[Row]) -> None:
        children = self._children_kind(value)
        row = Row(entry, path, label, value, depth, expandable=children is not None)
        rows.append(row)
        key = (id(entry), path)
        if children is None or key not in self.expanded or depth > 24:
            return
        try:
            for child_label, child in self._children(value, key):
                self._value_rows(entry, path + (child_label,), child_label, child, depth + 1, rows)
        except EvalError as error:
            rows.append(Row(entry, path + ("error",), "", None, depth + 1, text=error.message))
            return
        shown = self.pages.get(key, PAGE)
        total = self._count(value)
        if total is None or shown < total:
            rows.append(Row(entry, path + ("more",), "", None, depth + 1, more=shown))

    def _children_kind(self, value: Value) -> str | None:
        try:
            type_ = unqualified(self.session.table, value.type)
        except EvalError:
            return None
        if value.optimized_out or (value.text is not None and value.data is None and value.address is None):
            return None
        if type_.kind in Kind.COMPOUND and not type_.incomplete:
            return "members"
        if type_.kind == Kind.ARRAY and (type_.length or 0) > 0:
            return "elements"
        if type_.kind in (Kind.POINTER,) + Kind.REFERENCES:
            target = self.session.table.get(self.session.table.strip_typedefs(type_.target)) \
                if type_.target is not None else None
            if target is None or target.kind in (Kind.VOID, Kind.FUNCTION):
                return None
            return "pointee"
        return None

    def _count(self, value: Value) -> int | None:
        type_ = unqualified(self.session.table, value.type)
        if type_.kind == Kind.ARRAY:
            return type_.length or 0
        if type_.kind == Kind.POINTER:
            return None                          # a pointer to elements pages on for ever
        return 0

    def _children(self, value: Value, key: tuple):
        session = self.session
        type_ = unqualified(session.table, value.type)
        if type_.kind in Kind.COMPOUND:
            for member in type_.members:
                if member.static:
                    continue
                label = f"<{type_name(session.table, member.type)}>" if member.base else (member.name or "<anonymous>")
                yield label, session.member_value(value, type_, member)
            return
        shown = self.pages.get(key, PAGE)
        if type_.kind == Kind.ARRAY:
            for index in range(min(shown, type_.length or 0)):
                yield f"[{index}]", session.element(value, index)
            return
        if type_.kind in Kind.REFERENCES:
            yield "*", session.dereference(value)
            return
        # a pointer: what it points to, and the elements after it, page by page
        address = to_int(value, session.table, session.memory)
        if not address:
            raise EvalError("Cannot access memory at address 0x0")
        target = session.dereference(value)
        size = unqualified(session.table, target.type).size or 1
        for index in range(shown):
            yield f"[{index}]", Value(target.type, address + index * size)

    # ------------------------------------------------------------ keys

    def activate(self, index: int) -> None:
        """Enter: open or close a node; on `… more`, the next page."""
        rows = self.rows()
        if not 0 <= index < len(rows):
            return
        row = rows[index]
        parent = (id(row.entry), row.path[:-1])
        if row.more is not None:
            self.pages[parent] = row.more + PAGE
        elif row.expandable:
            key = (id(row.entry), row.path)
            self.expanded.symmetric_difference_update({key})
        self._rows = None

    def toggle_hex(self, index: int) -> None:
        rows = self.rows()
        if 0 <= index < len(rows) and rows[index].value is not None:
            self.hex.symmetric_difference_update({(id(rows[index].entry), rows[index].path)})

    def address(self, index: int) -> int | None:
        """What `m` shows in Memory: where the value is, or where a pointer points."""
        rows = self.rows()
        if not 0 <= index < len(rows) or rows[index].value is None:
            return None
        value = rows[index].value
        if value.address is not None:
            return value.address
        try:
            type_ = unqualified(self.session.table, value.type)
            if type_.kind == Kind.POINTER:
                return to_int(value, self.session.table, self.session.memory)
        except EvalError:
            return None
        return None

    def entry_at(self, index: int) -> Entry | None:
        rows = self.rows()
        return rows[index].entry if 0 <= index < len(rows) else None

    # ------------------------------------------------------------ drawing

    def lines(self, cursor: int = 0) -> Lines:
        rows = self.rows()
        if not rows:
            from hydra.tui.lines import message

            return message("nothing watched yet: = asks an expression (print, ptype, whatis and x after :)")
        return Lines(len(rows), lambda index: self.line(rows[index]), 200, min(cursor, len(rows) - 1),
                     plain=lambda index: self.line(rows[index]).plain)

    def line(self, row: Row) -> Text:
        indent = "  " * row.depth
        if row.more is not None:
            return assemble(indent, (f"… more (Enter shows {PAGE} more)", "italic dim"))
        if row.value is None:
            if row.depth == 0:
                return assemble((row.label, "bold"), "  ", (row.text or "", "italic" if row.entry.error else ""))
            return assemble(indent, (row.text or "", ""))
        key = (id(row.entry), row.path)
        marker = ("▾ " if key in self.expanded else "▸ ") if row.expandable else "  "
        hex_here = any((id(row.entry), row.path[:n]) in self.hex for n in range(len(row.path) + 1))
        fmt = "x" if hex_here else row.entry.fmt
        try:
            printer = Printer(self.session)
            shown = printer.top(row.value, fmt) if row.depth == 0 else printer.value(row.value, fmt)
        except EvalError as error:
            shown = f"<error: {error.message}>"
        if len(shown) > SUMMARY:
            shown = shown[:SUMMARY] + "…"
        head = row.entry.command.split(" ", 1)[1] if row.depth == 0 and " " in row.entry.command else ""
        parts = [indent, (marker, "dim"), (row.label, "bold")]
        if head:
            parts.append((f" {head}", "dim"))
        parts += [" = ", (shown, "")]
        return assemble(*parts)

    # ------------------------------------------------------------ remembered

    def _load_pinned(self) -> list[str]:
        if self.state_file is None:
            return []
        try:
            with open(self.state_file, encoding="utf-8") as handle:
                data = json.load(handle)
            return [str(command) for command in data.get("pinned", [])][:MAX_PINNED]
        except (OSError, ValueError, AttributeError):
            return []

    def _save_pinned(self) -> None:
        if self.state_file is None:
            return
        pinned = [entry.command for entry in self.entries if entry.pinned][:MAX_PINNED]
        try:
            os.makedirs(os.path.dirname(self.state_file), exist_ok=True)
            from hydra.model.files import atomic_output

            with atomic_output(self.state_file, ".watch-", 0o600) as handle:
                handle.write(json.dumps({"pinned": pinned}).encode())
        except OSError:
            pass


def snapshot_key(crash) -> str:
    """What names one crash whichever file holds it: its process, signal and capture time."""
    process = crash.process
    identity = [process.executable, process.pid, process.capture_time, crash.crashed_tid,
                crash.signal.number if crash.signal else None]
    return sha256_hex(json.dumps(identity, default=str).encode())[:32]


def _state_file(key: str) -> str | None:
    from hydra.config import user_files

    if not user_files():
        return None
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "hydra", "watch", f"{key}.json")
