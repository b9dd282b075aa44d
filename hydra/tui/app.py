"""Hydra's terminal UI: threads, frames, variables and a side pane of tabs over one crash."""

from __future__ import annotations

import bisect
import os
import re
import time
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal
from textual.keys import format_key
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from hydra.model import arch
from hydra.model.crash import Crash, Frame, Thread
from hydra.model.position import Position
from hydra.model.text import printable
from hydra.tui import code, lines
from hydra.tui.lineview import LineView
from hydra.tui.panes import FramesPane, ThreadsPane, VariablesPane
from hydra.tui.safe import assemble
from hydra.tui.themed import ThemedApp
from hydra.tui.sideview import SideView
from hydra.tui.tabs import TABS, side_tabs

PANES = ["threads", "frames", "variables", "side"]
GDB_COMMANDS = ("print", "p", "ptype", "whatis", "x", "output")


def _tmux_buffer(text: str) -> bool:
    """Put text in tmux's paste buffer (prefix ] pastes it): there whatever set-clipboard says."""
    import shutil
    import subprocess

    tmux = shutil.which("tmux")
    if tmux is None:
        return False
    try:
        return subprocess.run([tmux, "set-buffer", "--", text], capture_output=True, timeout=2).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _expression_of(path: tuple[str, ...]) -> str:
    """A variable's path in the Variables pane as an expression: (locals, head, *head,
    next) -> `head->next`; (args, acct, history, [2]) -> `acct.history[2]`."""
    expression = ""
    for name in path[1:]:
        if name.startswith("["):
            expression += name
        elif name.startswith("*"):
            expression = f"(*{expression})"
        elif name.startswith("<") and name.endswith(">"):
            continue             # a base class: its members are the object's
        elif not expression:
            expression = name
        elif expression.startswith("(*") and expression.endswith(")"):
            expression = f"{expression[2:-1]}->{name}"
        else:
            expression += f".{name}"
    return expression


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > LineView { width: 90%; height: 90%; border: round $primary; }
    """

    def __init__(self, rows: list[tuple[str, str]]):
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        view = LineView(marker=False, id="help")
        view.border_title = "Keys (q or Esc closes)"
        yield view

    def on_mount(self) -> None:
        texts = [assemble((f"{keys:<22}", "bold"), (description, "")) for keys, description in self.rows]
        view = self.query_one(LineView)
        view.set_lines(len(texts), texts.__getitem__, 80)
        view.focus()


class HydraCommands(Provider):
    """Ctrl+P: go to a thread, frame, symbol or address; switch theme; save the pane as text."""

    async def search(self, query: str) -> Hits:
        app: HydraApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        candidates = []
        for thread in app.crash.threads:
            candidates.append((f"thread {thread.tid} {thread.name or ''}".strip(),
                               lambda t=thread: app.select_thread(t)))
        if app.thread is not None:
            for frame in app.thread.frames:
                candidates.append((f"frame #{frame.index} {frame.display_name}",
                                   lambda f=frame: app.frames_pane.goto_frame(f.index)))
        seen = set()
        for thread in app.crash.threads:
            for frame in thread.frames:
                if frame.function and frame.function not in seen:
                    seen.add(frame.function)
                    candidates.append((f"symbol {frame.function}",
                                       lambda t=thread, f=frame: app.select_thread(t, f.index)))
        for name in sorted(app.available_themes):
            candidates.append((f"theme {name}", lambda n=name: app.set_theme(n)))
        candidates.append(("save current pane as text", app.action_save_pane))
        if query.lower().startswith(("0x", "address ")):
            text = query.split()[-1]
            candidates.append((f"address {text}", lambda t=text: app.goto_address_text(t)))
        for label, callback in candidates:
            # the matcher tries every way the query's letters fit the text: a name of
            # thousands of characters would take it seconds or minutes
            label = label[:PALETTE_LABEL]
            score = matcher.match(label)
            if score > 0:
                # Matcher.highlight parses its text as markup: dump names are shown plain
                shown = printable(label)
                yield Hit(score, Content(shown), callback, text=shown)


PALETTE_LABEL = 120


class HydraApp(ThemedApp):
    TITLE = "hydra"
    # the pane it opens in: focusing the first pane and then this one restyles both twice
    AUTO_FOCUS = "#frames"
    COMMANDS = App.COMMANDS | {HydraCommands}
    # a maximized pane keeps the information rules, the prompt and the footer
    ALLOW_IN_MAXIMIZED_VIEW = ".rule, #prompt, Footer"
    CSS = """
    Screen { layout: vertical; }
    .rule { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    /* docked: a maximized pane comes first in the layout, and the title stays above it */
    #rule-title { dock: top; }
    #top, #bottom { height: 1fr; }
    #top { height: 2fr; }
    #bottom { height: 3fr; }
    #threads, #variables { width: 2fr; }
    #frames, #side { width: 3fr; }
    ThreadsPane, FramesPane, VariablesPane, #side {
        border: round $foreground 60%;
        border-title-color: $foreground;
        border-subtitle-color: $foreground;
    }
    /* focus shows without colour too: a heavy border and a bold title */
    ThreadsPane:focus, FramesPane:focus, VariablesPane:focus, #side:focus {
        border: heavy $accent;
        border-title-color: $accent;
        border-title-style: bold;
    }
    /* with no colour the cursor row is reverse video in the focused pane, underlined elsewhere */
    HydraApp:ansi LineView > .lineview--cursor { text-style: bold underline; }
    HydraApp:ansi LineView:focus > .lineview--cursor { text-style: bold reverse; }
    #threads.-maximized, #frames.-maximized, #variables.-maximized, #side.-maximized {
        width: 100%; height: 1fr;
    }
    /* one row in the context rule's place, like a command line: the panes do not move */
    #prompt { dock: bottom; display: none; height: 1; border: none; padding: 0 1; }
    Screen.prompting #rule-context { display: none; }
    #prompt.visible { display: block; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("1", "focus_pane('threads')", "Threads", show=False, id="app.pane1"),
        Binding("2", "focus_pane('frames')", "Frames", show=False, id="app.pane2"),
        Binding("3", "focus_pane('variables')", "Variables", show=False, id="app.pane3"),
        Binding("4", "focus_pane('side')", "Side pane", show=False, id="app.pane4"),
        Binding("M", "maximize_pane", "Maximize/restore", id="app.maximize"),
        Binding("less_than_sign", "widen_left(-4)", "Narrower left panes", show=False, id="app.narrower"),
        Binding("greater_than_sign", "widen_left(4)", "Wider left panes", show=False, id="app.wider"),
        Binding("u", "frame_up", "Up the stack (caller)", show=False, id="app.up"),
        Binding("d", "frame_down", "Down the stack (callee)", show=False, id="app.down"),
        Binding("w", "annotations", "Annotations", show=False, id="app.annotations"),
        Binding("y", "copy_position", "Copy position", show=False, id="app.copy"),
        Binding("slash", "prompt('search')", "Search", show=False, id="app.search"),
        Binding("n", "search_next(True)", "Next match", show=False, id="app.next"),
        Binding("N", "search_next(False)", "Previous match", show=False, id="app.previous"),
        Binding("colon", "prompt('jump')", "Jump to index, address or symbol; :print :ptype :whatis :x",
                show=False, id="app.jump"),
        Binding("equals_sign", "prompt('expression')", "Ask an expression (print) into the Watch tab", show=False,
                id="app.expression"),
        Binding("x", "watch_key('hex')", "Watch: hex for the value and its children", show=False, id="app.hex"),
        Binding("m", "watch_key('memory')", "Show the value's address in Memory", show=False, id="app.memory"),
        Binding("p", "watch_key('pin')", "Watch: pin (evaluate again in every frame)", show=False, id="app.pin"),
        Binding("D", "watch_key('delete')", "Watch: remove the expression", show=False, id="app.unwatch"),
        Binding("z", "memory_mode('unit')", "Memory: bytes, words or giants", show=False, id="app.memory_unit"),
        Binding("t", "memory_mode('telescope')", "Memory: telescope from the stack pointer", show=False,
                id="app.telescope"),
        Binding("right_square_bracket", "next_tab(1)", "Next tab", show=False, id="app.next_tab"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", show=False, id="app.previous_tab"),
        Binding("f", "follow_variable", "Memory of the variable", show=False, id="app.follow"),
    ]

    def __init__(self, crash: Crash, *, source_name: str = "", theme: str | None = None,
                 goto: Position | None = None, keymap: dict[str, str] | None = None,
                 syntax: dict[str, dict[str, str]] | None = None, themes=None):
        super().__init__(theme=theme, themes=themes, keymap=keymap)
        self.crash = crash
        self.source_name = source_name
        self.thread: Thread | None = None
        self.frame: Frame | None = None
        self.goto = goto
        self.search_pattern: re.Pattern | None = None
        self.last_pane: str = "frames"
        self.memory_address: int | None = None   # where the Memory tab was sent
        self.register_address: int | None = None  # the value of the register selected last
        self.hexdump = lines.HexDump(crash)
        self._watch = None           # made when first asked (it loads the evaluator)
        self.tabs = {tab.id: tab for tab in side_tabs()}
        self.source_cache: dict = {}
        self.syntax = syntax or {}
        self._left_shift = 0          # columns added to the left panes by < and >
        self._prompt: Input | None = None

    # ---- layout
    def compose(self) -> ComposeResult:
        yield Static(id="rule-title", classes="rule", markup=False)
        with Horizontal(id="top"):
            yield ThreadsPane(self.crash, id="threads")
            yield FramesPane(self.crash, id="frames")
        yield Static(id="rule-frame", classes="rule", markup=False)
        with Horizontal(id="bottom"):
            yield VariablesPane(self.crash, id="variables")
            # one view, the tabs' titles on its border: each tab fills it with its lines when shown
            yield SideView(TABS, id="side")
        yield Static(id="rule-context", classes="rule", markup=False)
        # the prompt (#prompt) is mounted when first opened: the first screen does without it

    @property
    def threads_pane(self) -> ThreadsPane:
        return self.query_one(ThreadsPane)

    @property
    def frames_pane(self) -> FramesPane:
        return self.query_one(FramesPane)

    @property
    def variables_pane(self) -> VariablesPane:
        return self.query_one(VariablesPane)

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        self.threads_pane.border_title = "1 Threads"
        self.frames_pane.border_title = "2 Frames"
        self.variables_pane.border_title = "3 Variables"
        # the columns, under each pane (F: the thread that faulted; T: suspended, in a minidump)
        self.threads_pane.border_subtitle = "F=faulted · tid · name · module · top frame"
        self.frames_pane.border_subtitle = "# · function · file:line · module"
        self.variables_pane.border_subtitle = "(argument) · local = value"
        process = self.crash.process
        captured = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(process.capture_time)) \
            if process.capture_time else "unknown time"
        application = self.crash.attributes.get("application") or lines.short_path(process.executable)
        self.query_one("#rule-title", Static).update(assemble(
            ("hydra", "bold"), " · ", (application, "bold"), " · pid ", (str(process.pid), ""),
            f" · captured {captured} · ",
            (self.source_name, "dim"), ("   ? keys  q quit", "dim")))
        crashed = self.crash.crashed_thread
        if crashed is not None:
            self.select_thread(crashed, self._opening_frame(crashed))
        self.frames_pane.focus()
        if self.goto is not None:
            self.apply_position(self.goto)
        # widths before the first layout (not a second layout after it), and again once the
        # Variables tree has measured its lines (a width that does not change costs nothing)
        self.fit_columns()
        self.call_after_refresh(self.fit_columns)

    # ---- pane widths
    def fit_columns(self) -> None:
        """Each row's split follows what its panes hold: the left pane takes the share of the
        width its content asks for next to its neighbour's (between a quarter and two
        thirds), moved by `<` and `>`."""
        total = self.size.width
        if total < 40 or self.screen.maximized is not None:
            return

        def split(left: tuple[int, float], right: tuple[int, float]) -> int:
            (left_need, left_weight), (right_need, right_weight) = left, right
            if left_need + right_need <= total:
                # both fit: each gets what it needs and a share of what is left
                share = left_need + (total - left_need - right_need) * left_need // (left_need + right_need)
            else:
                # they do not: the pane in use counts twice, and the source of the crash,
                # what one opens Hydra to read, half again
                weighted = left_need * left_weight, right_need * right_weight
                share = int(total * weighted[0] / sum(weighted))
            return max(total // 4, min(total * 2 // 3, share + self._left_shift))

        def need(pane, least: int = 0, weight: float = 1.0) -> tuple[int, float]:
            in_use = self.last_pane == pane.id
            content = pane.wanted_width() if pane is self.variables_pane else pane.virtual_size.width
            return max(least, content + 4), weight * (2 if in_use else 1)

        threads, frames = need(self.threads_pane), need(self.frames_pane)
        variables, side = need(self.variables_pane), need(self.side_view, 60, 1.5)
        self.threads_pane.styles.width = split(threads, frames)
        self.variables_pane.styles.width = split(variables, side)
        self.frames_pane.styles.width = "1fr"
        self.query_one("#side").styles.width = "1fr"

    def action_widen_left(self, columns: int) -> None:
        self._left_shift = max(-self.size.width // 2, min(self.size.width // 2, self._left_shift + columns))
        self.fit_columns()

    def on_resize(self, event) -> None:
        self.call_after_refresh(self.fit_columns)

    def on_ready(self) -> None:
        # the start-up benchmark: the time of the first painted screen goes to this file
        marker = os.environ.get("HYDRA_EXIT_ON_READY")
        if marker:
            Path(marker).write_text(repr(time.time()))
            self.exit()

    # ---- selection
    def _opening_frame(self, thread: Thread) -> int | None:
        """The frame to open on: the faulting one, or when its source is not in the snapshot
        (an abort, an assertion, a throw: glibc's and libstdc++'s frames) the first one
        whose source is, the program's own."""
        frames = thread.frames
        if not frames or frames[0].file in self.crash.sources:
            return None
        found = next((f for f in frames if f.file and f.file in self.crash.sources), None)
        return found.index if found is not None else None

    def select_thread(self, thread: Thread, frame_index: int | None = None) -> None:
        self.thread = thread
        if self.threads_pane.thread_at(self.threads_pane.cursor) is not thread:
            self.threads_pane.select_thread(thread)
        if frame_index is None:
            frame_index = thread.frames[0].index if thread.frames else 0
        self.frames_pane.show(thread, frame_index)
        self.select_frame(self.frames_pane.frame_at(self.frames_pane.cursor))

    def select_frame(self, frame: Frame | None) -> None:
        self.frame = frame
        self.memory_address = None
        self.register_address = None
        self.variables_pane.show(frame, self.thread)
        if self._watch is not None:
            self._watch.select(self.thread, frame)
        self._update_rules()
        self._show_tab(self._active_tab())

    def _update_rules(self, context: Text | str | None = None) -> None:
        frame = self.frame
        if context is None:
            self.query_one("#rule-frame", Static).update(self._frame_rule(instruction=None))
            # decoding the instruction loads capstone: after the first paint, not before it
            self.after_paint(self._show_instruction, frame)
        self.query_one("#rule-context", Static).update(context or "")

    def _frame_rule(self, instruction: str | None) -> Text:
        frame, thread = self.frame, self.thread
        if frame is None or thread is None:
            return Text("no frame")
        return assemble(f"thread {thread.tid} · #{frame.index} ", (lines.short_path(frame.module) or "?", "bold"),
                        f" pc 0x{frame.pc:x}" + (f" sp 0x{frame.sp:x}" if frame.sp else ""),
                        " => ", (instruction or "…", "bold"), (f"  {frame.trust}", "dim"))

    def _show_instruction(self, frame: Frame | None) -> None:
        if frame is None or frame is not self.frame:
            return
        instruction = code.instruction_at(self.crash, frame.pc, code.is_thumb(self.crash, frame)) or "(no code at pc)"
        self.query_one("#rule-frame", Static).update(self._frame_rule(instruction))

    @property
    def side_view(self) -> SideView:
        return self.query_one("#side", SideView)

    def _active_tab(self) -> str:
        return self.side_view.active

    def set_tab(self, tab: str) -> None:
        view = self.side_view
        if view.active != tab:
            view.activate(tab)       # SideView.TabChanged shows it
        else:
            self._show_tab(tab)

    def _show_tab(self, tab: str) -> None:
        content = self.tabs[tab].content(self)
        view = self.side_view
        view.set_lines(content.count, content.line, content.width, plain=content.plain)
        view.center_on(content.cursor)

    def at_faulting_frame(self) -> bool:
        """Whether the selected frame is the one that faulted (Disasm marks its instruction)."""
        thread, frame = self.thread, self.frame
        return bool(thread and thread.crashed and frame is not None and thread.frames
                    and frame.index == thread.frames[0].index)

    def after_paint(self, callback, *args) -> None:
        """Run callback once the screen shows what it is being given now: a view is centred
        on its cursor after the next refresh (center_on), and its lines are drawn at the one
        after; slow work (capstone, a lexer) before then would hold the first screen back."""
        self.call_after_refresh(self.call_after_refresh, callback, *args)

    def colour_source(self, source: code.SourceLines) -> None:
        """Syntax colours, after the first screen is drawn (see SourceLines)."""
        source.load_lexer()
        self.side_view.refresh()

    @property
    def watch(self):
        if self._watch is None:
            from hydra.tui.watch import Watch, snapshot_key

            self._watch = Watch(self.crash, snapshot_key(self.crash))
            self._watch.select(self.thread, self.frame)
        return self._watch

    def ask(self, command: str) -> None:
        """An expression or a gdb command (print, ptype, whatis, x) into the Watch tab."""
        entry = self.watch.add(command)
        self.tabs["watch"].cursor = next(index for index, row in enumerate(self.watch.rows()) if row.entry is entry)
        if self._active_tab() != "watch":
            self.set_tab("watch")          # the tab's activation shows it
        else:
            self._show_tab("watch")
        self.side_view.focus()

    def action_memory_mode(self, what: str) -> None:
        if self._active_tab() != "memory":
            return
        memory = self.tabs["memory"]
        if what == "unit":
            memory.view = "dump"
            shown = self.hexdump.cycle_unit()
            self._update_rules(assemble("memory as ", (shown, "bold"), ("   z: bytes, words, giants", "dim")))
        else:
            memory.view = "dump" if memory.view == "telescope" else "telescope"
        self._show_tab("memory")

    def search_memory(self, query: str) -> bool:
        """/ in Memory: a string, a pointer value or bytes, in all the captured memory."""
        needle, kind = lines.search_memory(self.crash, query)
        if needle is None:
            return False
        memory = self.tabs["memory"]
        memory.matches = lines.memory_matches(self.crash, needle)
        memory.view = "matches"
        self._show_tab("memory")
        self._update_rules(assemble("memory holding ", (query, "bold"), f" ({kind})   Esc or t: back"))
        return True

    def action_watch_key(self, what: str) -> None:
        in_watch = self._active_tab() == "watch" and self.last_pane == "side"
        if what == "memory":
            if in_watch:
                address = self.watch.address(self.side_view.cursor)
                if address is not None:
                    self.goto_address(address)
            else:
                self.action_follow_variable()
            return
        if what == "hex" and not in_watch and self.last_pane == "variables":
            self._variable_in_hex()
            return
        if not in_watch:
            return
        index = self.side_view.cursor
        if what == "hex":
            self.watch.toggle_hex(index)
        elif what == "pin":
            entry = self.watch.entry_at(index)
            if entry is not None:
                self.watch.toggle_pin(entry)
        elif what == "delete":
            entry = self.watch.entry_at(index)
            if entry is not None:
                self.watch.remove(entry)
        self.tabs["watch"].cursor = index
        self._show_tab("watch")

    def _variable_in_hex(self) -> None:
        """x on a variable: its value printed /x, on the context line."""
        selected = self.variables_pane.selected_variable()
        if selected is None:
            return
        expression = _expression_of(selected[1])
        from hydra.evaluate import EvalError

        try:
            text = self.watch.session.format_value(self.watch.session.evaluate(expression), "x")
        except EvalError as error:
            text = error.message
        self._update_rules(assemble(("/x ", "dim"), (expression, "bold"), " = ", (text, "")))

    def focus_address(self) -> int | None:
        """The address the Memory and Map tabs follow: the selected variable, else the
        register last selected in the Registers tab, else the frame's stack pointer."""
        selected = self.variables_pane.selected_variable() if self.last_pane == "variables" else None
        if selected and selected[0].address is not None:
            return selected[0].address
        if self.register_address is not None:
            return self.register_address
        return self.frame.sp if self.frame is not None else None

    def syntax_styles(self) -> dict[str, str]:
        """The theme's syntax colours; for a theme without them (Textual's own), those of
        Hydra's theme of the same brightness, so code stays readable on a light background."""
        if self.theme in self.syntax:
            return self.syntax[self.theme]
        light = not self.current_theme.dark
        return self.syntax.get("hydra-light" if light else "hydra-dark", {})

    # ---- messages from panes
    @on(LineView.Moved, "#threads")
    def _thread_moved(self, event: LineView.Moved) -> None:
        # where the cursor is now: rows may have been rebuilt since the message was sent
        # (a group opened to select one of its threads), and the index then names another
        thread = self.threads_pane.thread_at(self.threads_pane.cursor)
        if thread is not None and thread is not self.thread:
            self.select_thread(thread)

    @on(LineView.Moved, "#frames")
    def _frame_moved(self, event: LineView.Moved) -> None:
        frame = self.frames_pane.frame_at(self.frames_pane.cursor)
        if frame is not self.frame:
            self.select_frame(frame)

    @on(LineView.Moved, "#variables")
    def _variable_moved(self, event: LineView.Moved) -> None:
        selected = self.variables_pane.selected_variable()
        if selected is not None:
            var, path = selected
            where = f" at 0x{var.address:x}" if var.address is not None else ""
            self._update_rules(assemble((var.type, "dim"), " ", ("/".join(path), "bold"), where))
            if self.tabs[self._active_tab()].follows_address:
                self._show_tab(self._active_tab())

    @on(LineView.Moved, "#side")
    def _side_moved(self, event: LineView.Moved) -> None:
        if self._active_tab() == "registers" and self.frame is not None and self.side_view.has_focus:
            names = self.tabs["registers"].names
            if event.index < len(names):
                self.register_address = (self.frame.registers or {}).get(names[event.index]) or \
                    (self.thread.registers.get(names[event.index]) if self.thread else None)
                label = lines.region_label(self.crash, self.register_address or 0)
                self._update_rules(assemble((names[event.index], "bold"), f" = 0x{self.register_address or 0:x} ",
                                            (label or "(not an address in the map)", "dim"),
                                            ("   the Map and Memory tabs follow it", "dim")))

    @on(SideView.TabChanged, "#side")
    def _tab_activated(self, event: SideView.TabChanged) -> None:
        self._show_tab(event.tab)

    @on(LineView.Activated, "#side")
    def _annotation_chosen(self, event: LineView.Activated) -> None:
        if self._active_tab() == "watch":
            self.watch.activate(event.index)
            self.tabs["watch"].cursor = event.index
            self._show_tab("watch")
            return
        if self._active_tab() == "memory":
            address = self.tabs["memory"].address_at(event.index)
            if address is not None:
                self.goto_address(address)
            return
        if self._active_tab() != "annotations" or not self.crash.annotations or event.index >= len(self.crash.annotations):
            return
        annotation = self.crash.annotations[event.index]
        path = annotation.variable.split("/") if annotation.variable else []
        self.apply_position(Position(annotation.tid, annotation.frame, path))

    def on_descendant_focus(self, event) -> None:
        for pane in PANES:
            node = event.widget
            while node is not None:
                if node.id == pane:
                    if self.last_pane != pane:
                        self.last_pane = pane
                        self.call_after_refresh(self.fit_columns)
                    return
                node = node.parent

    # ---- positions
    def position(self) -> Position:
        selected = self.variables_pane.selected_variable() if self.last_pane == "variables" else None
        return Position(self.thread.tid if self.thread else None,
                        self.frame.index if self.frame else None,
                        list(selected[1]) if selected else [])

    def apply_position(self, position: Position) -> None:
        thread = self.crash.thread(position.tid) if position.tid is not None else self.thread
        if thread is None:
            self.notify(f"no thread {position.tid} in this crash", severity="warning", markup=False)
            return
        self.select_thread(thread, position.frame)
        if position.variable:
            if self.variables_pane.select_path(position.variable):
                self.variables_pane.focus()

    # ---- actions
    def action_focus_pane(self, pane: str) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        self._focus(pane)

    def _focus(self, pane: str) -> None:
        if pane == "side":
            self.side_view.focus()
        else:
            self.query_one(f"#{pane}").focus()

    def _close_prompt(self) -> None:
        """Back to the pane the prompt was opened from, maximized if it was."""
        if self._prompt is not None:
            self._prompt.remove_class("visible")
        self.screen.remove_class("prompting")
        self._focus(self.last_pane)

    def action_maximize_pane(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
            self.call_after_refresh(self.fit_columns)
            return
        target = self.query_one("#side") if self.last_pane == "side" else self.query_one(f"#{self.last_pane}")
        target.styles.width = None        # the widths fit_columns set would beat the stylesheet's 100%
        self.screen.maximize(target, container=False)

    def action_frame_up(self) -> None:
        self.frames_pane.move_frame(+1)

    def action_frame_down(self) -> None:
        self.frames_pane.move_frame(-1)

    def action_annotations(self) -> None:
        self.set_tab("annotations")
        self.action_focus_pane("side")

    def action_next_tab(self, step: int) -> None:
        ids = [tab for tab, _ in TABS]
        self.set_tab(ids[(ids.index(self._active_tab()) + step) % len(ids)])

    def action_copy_position(self) -> None:
        token = self.position().token()
        # OSC 52 asks the terminal to take it; whether it did, a program cannot know (tmux
        # drops it without `set-clipboard on`): say where it went, and keep it on screen
        self.copy_to_clipboard(token)
        places = "OSC 52 clipboard"
        if os.environ.get("TMUX") and _tmux_buffer(token):
            places += " + tmux buffer"
        self._update_rules(assemble("position ", (token, "bold"), f" → {places}; reopen: --goto ", (token, "")))

    def action_help(self) -> None:
        rows = []
        seen = set()
        widgets = [self, self.threads_pane, self.frames_pane, self.variables_pane,
                   self.side_view]
        keymap = self._keymap
        for widget in widgets:
            for binding in widget.BINDINGS:
                if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                    seen.add(binding.id)
                    keys = keymap.get(binding.id, binding.key)
                    shown = " / ".join(format_key(key.strip()) for key in keys.split(","))
                    rows.append((shown, f"{binding.description}  [{binding.id}]"))
        rows += [("tab / shift+tab", "Next / previous pane"), ("ctrl+p", "Command palette"),
                 ("enter / space", "Expand a group or a variable")]
        self.push_screen(HelpScreen(rows))

    def action_prompt(self, kind: str) -> None:
        if self._prompt is None:
            self._prompt = Input(id="prompt")
            self.mount(self._prompt)
        prompt = self._prompt
        prompt.placeholder = {
            "search": "search (regular expression)",
            "expression": "expression, as gdb's print takes it (p/x, ptype, whatis and x too)",
        }.get(kind) or ("address, register or symbol for Memory and Disasm, else a line; or print/ptype/x ..."
                        if self.last_pane == "side" else "index, or a symbol; or print/ptype/whatis/x ...")
        prompt.value = ""
        if kind == "expression" and self.last_pane == "variables":
            selected = self.variables_pane.selected_variable()
            if selected is not None:
                prompt.value = _expression_of(selected[1])
                prompt.cursor_position = len(prompt.value)
        prompt.data_kind = kind  # type: ignore[attr-defined]
        prompt.add_class("visible")
        self.screen.add_class("prompting")
        prompt.focus()

    @on(Input.Submitted, "#prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        prompt = event.input
        kind = getattr(prompt, "data_kind", "search")
        text = event.value.strip()
        self._close_prompt()
        # a new command: the message of the one before it goes
        self.query_one("#rule-context", Static).update("")
        if not text:
            return
        if kind == "search" and self.last_pane == "side" and self._active_tab() == "memory" and \
                self.search_memory(text):
            return
        if kind == "search":
            try:
                self.search_pattern = re.compile(text, re.IGNORECASE)
            except re.error as error:
                self._update_rules(assemble("bad pattern: ", (str(error), "bold")))
                return
            self.action_search_next(True)
        elif kind == "expression" or text.split(" ", 1)[0].split("/", 1)[0] in GDB_COMMANDS:
            self.ask(text)
        else:
            self.jump(text)

    def on_key(self, event) -> None:
        if event.key == "escape" and self._prompt is not None and self._prompt.has_class("visible"):
            self._close_prompt()
            event.stop()

    def _current_view(self):
        if self.last_pane == "side":
            return self.side_view
        return self.query_one(f"#{self.last_pane}")

    def action_search_next(self, forward: bool) -> None:
        if self.search_pattern is None:
            return
        view = self._current_view()
        if isinstance(view, FramesPane):
            found = self._search_frames(forward)          # the frames of every thread
        else:
            found = view.search(self.search_pattern, forward)
        if not found:
            self._update_rules(assemble("no match for ", (self.search_pattern.pattern, "bold")))

    def _search_frames(self, forward: bool) -> bool:
        """/ in Frames: the next matching frame of this thread, then of the following threads,
        then this thread's again from its start."""
        threads = self.crash.threads
        if self.thread is None or not threads:
            return False
        current = self.frame
        frames = self.thread.frames
        here = next((i for i, f in enumerate(frames) if f is current), -1)
        direction = 1 if forward else -1
        start = threads.index(self.thread) if self.thread in threads else 0
        candidates = [(self.thread, f) for f in (frames[here + 1:] if forward else frames[:max(here, 0)][::-1])]
        for step in range(1, len(threads)):
            thread = threads[(start + direction * step) % len(threads)]
            candidates += [(thread, f) for f in (thread.frames if forward else thread.frames[::-1])]
        candidates += [(self.thread, f) for f in (frames[:here + 1] if forward else frames[here:][::-1])]
        for thread, frame in candidates:
            if self._frame_matches(frame):
                self.select_thread(thread, frame.index)
                self._update_rules(assemble("match in thread ", (str(thread.tid), "bold"), f", frame #{frame.index}"))
                return True
        return False

    def _frame_matches(self, frame: Frame) -> bool:
        text = f"#{frame.index} {frame.display_name} {frame.file or ''}:{frame.line or ''} {frame.module or ''}"
        return bool(self.search_pattern.search(text))

    def jump(self, text: str) -> None:
        view = self._current_view()
        if self.last_pane == "side" and self._active_tab() == "memory":
            self.goto_address_text(text)
            return
        addresses = self.tabs["disassembly"].addresses
        if self.last_pane == "side" and self._active_tab() == "disassembly" and addresses \
                and not text.isdigit():
            address = self.address_of(text)
            if address is not None:
                if not addresses[0] <= address <= addresses[-1] + 15:
                    self._update_rules(assemble(f"0x{address:x} ", ("is not in the decoded code", "bold"),
                                                f" (0x{addresses[0]:x}-0x{addresses[-1]:x})"))
                    return
                # the instruction that holds the address
                view.center_on(max(0, bisect.bisect_right(addresses, address) - 1))
                return
        try:
            index = int(text, 0)
        except ValueError:
            symbol = self.crash.symbols.named(text.strip())
            if symbol is not None and symbol.constant is None:
                self.goto_address(symbol.address)       # a function's code or a global's bytes
                return
            self._update_rules(assemble("not an index, an address or a symbol: ", (text, "bold")))
            return
        if isinstance(view, FramesPane):
            if not view.goto_frame(index):
                frames = [row for row in view.rows if isinstance(row, Frame)]
                if not frames:
                    return
                # the frame is in an elided recursion, or past the last: the nearest one shown
                nearest = min(frames, key=lambda frame: abs(frame.index - index))
                view.goto_frame(nearest.index)
                # a notice: the rules are rewritten for the frame just selected
                self.notify(f"frame #{index} is not shown (elided, or past the end): at #{nearest.index}",
                            severity="warning", markup=False)
        elif isinstance(view, LineView):
            # the Source tab counts lines from 1, like an editor
            view.center_on(index - 1 if self._active_tab() == "source" and self.last_pane == "side" else index)

    def address_of(self, text: str) -> int | None:
        """An address typed at `:`: hex (0x optional), or a register of the current frame
        (`rsp`, `$sp`)."""
        text = text.strip()
        registers = self.frame.registers if self.frame is not None and self.frame.registers else {}
        name = text.lstrip("$")
        if name in registers:
            return registers[name]
        alias = arch.REGISTER_ROLES.get(self.crash.process.architecture, {}).get(name)
        if alias in registers:
            return registers[alias]
        symbol = self.crash.symbols.named(text) if text else None
        if symbol is not None and symbol.constant is None:
            return symbol.address
        try:
            return int(text, 16)
        except ValueError:
            return None

    def goto_address_text(self, text: str) -> None:
        address = self.address_of(text)
        if address is None:
            self._update_rules(assemble("not an address or a register: ", (text, "bold")))
            return
        self.goto_address(address)

    def goto_address(self, address: int) -> None:
        self.tabs["memory"].view = "dump"
        if self.hexdump.row_of(address) is None:
            self._update_rules(assemble(f"0x{address:x} ", ("was not captured", "bold")))
            return
        self.memory_address = address
        self.set_tab("memory")
        self._show_tab("memory")
        self.side_view.focus()

    def action_follow_variable(self) -> None:
        selected = self.variables_pane.selected_variable()
        if selected and selected[0].address is not None:
            self.goto_address(selected[0].address)

    def action_save_pane(self) -> None:
        text = "\n".join(self._current_view().text_lines())
        name = f"hydra-{self.last_pane}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        try:
            Path(name).write_text(text + "\n")
        except OSError as error:
            self._update_rules(assemble("cannot save ", (name, "bold"), ": ", (error.strerror or str(error), "")))
            return
        self._update_rules(assemble("saved ", (name, "bold")))

    def watch_theme(self, name: str) -> None:
        super().watch_theme(name)
        if self.is_mounted and self._active_tab() == "source":
            self._show_tab("source")
