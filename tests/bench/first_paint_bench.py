#!/usr/bin/env python3
"""First paint in a real terminal: from spawning `hydra SAMPLE` in an 80x24 tmux window to
the crash frame's source line on screen, against a bare Textual app that shows one line,
spawned the same way (the floor any Textual program pays), and against Hydra's layout made of
Textual's own widgets (what Textual alone costs for that screen). Runs alternate, so a busy
machine slows all alike; the figures are ratios of medians. Reports, never fails.

With --triage STORE (a store; an absent file is generated: 100,000 crashes, as
store_bench.py makes them), `hydra triage` on it is timed too, from spawning it to its
bucket list on screen, against the debugger's first paint.

usage: first_paint_bench.py [--runs N] [--python PYTHON] [--sample FILE] [--triage STORE]
       (PYTHON: the interpreter of a regular install; default this one)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BARE = ("from textual.app import App\n"
        "from textual.widgets import Static\n"
        "class Bare(App):\n"
        "    def compose(self):\n"
        "        yield Static('bare textual app ready')\n"
        "Bare().run()\n")
# Hydra's first screen with Textual's own widgets and no Hydra code: three one-line rules,
# two rows of two bordered panes (line-API lists, as in HydraApp.compose), the tab names on the
# side pane's border; a few lines in each. What Textual alone costs for
# that layout is the floor of Hydra's first paint, above the bare app's.
LAYOUT = ("from textual.app import App\n"
          "from textual.containers import Horizontal\n"
          "from textual.widgets import Log, Static\n"
          "class Layout(App):\n"
          "    CSS = 'Horizontal { height: 1fr; } #threads, #frames, #variables, #source { border: round $primary; }'\n"
          "    AUTO_FOCUS = '#frames'\n"
          "    def compose(self):\n"
          "        yield Static('layout of the debugger ready')\n"
          "        with Horizontal():\n"
          "            yield Log(id='threads')\n"
          "            yield Log(id='frames')\n"
          "        yield Static('frame')\n"
          "        with Horizontal():\n"
          "            yield Log(id='variables')\n"
          "            yield Log(id='source')\n"
          "        yield Static('context')\n"
          "    def on_mount(self):\n"
          "        self.query_one('#source').border_title = '4 Source  Disasm  Watch  Regs  Memory  Map'\n"
          "        for name, count in (('threads', 3), ('frames', 8), ('variables', 6), ('source', 30)):\n"
          "            self.query_one('#' + name).write_lines([f'{name} line {i}' for i in range(count)])\n"
          "Layout().run()\n")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def time_to_screen(command: list[str], text: str, timeout: float = 30.0) -> float:
    """Seconds from spawning `command` in a fresh 80x24 tmux window until `text` shows."""
    name = f"paint-{uuid.uuid4().hex[:8]}"
    quoted = " ".join(subprocess.list2cmdline([part]) for part in command)
    tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", "sleep 3600")
    try:
        time.sleep(0.2)
        started = time.perf_counter()
        tmux("respawn-pane", "-k", "-t", name, f"unset COLUMNS LINES; exec {quoted}")
        screen = ""
        while time.perf_counter() - started < timeout:
            screen = tmux("capture-pane", "-p", "-t", name)
            if text in screen:
                return time.perf_counter() - started
            time.sleep(0.002)
        raise SystemExit(f"{text!r} never appeared after {timeout} s; the screen:\n{screen}")
    finally:
        tmux("kill-session", "-t", name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--sample", default=str(ROOT / "sample_snapshots" / "default.hsnap"))
    parser.add_argument("--triage", metavar="STORE")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed")
    hydra = str(Path(args.python).with_name("hydra"))
    if args.triage and not args.triage.startswith("postgres") and not Path(args.triage).exists():
        sys.path.insert(0, str(ROOT / "tests" / "bench"))
        from store_bench import generate

        generate(args.triage, 100_000)
    ours, bare, layout, triage = [], [], [], []
    for _ in range(args.runs):
        ours.append(time_to_screen([hydra, args.sample], "double price = product->unit_price"))
        bare.append(time_to_screen([args.python, "-c", BARE], "bare textual app ready"))
        layout.append(time_to_screen([args.python, "-c", LAYOUT], "layout of the debugger ready"))
        if args.triage:
            triage.append(time_to_screen([hydra, "triage", "--db", args.triage], "crashes · sorted by"))
    hydra_median, bare_median = statistics.median(ours), statistics.median(bare)
    print(f"first paint in an 80x24 tmux, median of {args.runs} alternated runs")
    print(f"  hydra {Path(args.sample).name}: {hydra_median * 1000:.0f} ms")
    print(f"  bare Textual app:        {bare_median * 1000:.0f} ms")
    print(f"  ratio: {hydra_median / bare_median:.2f}x (target 1.2x)")
    layout_median = statistics.median(layout)
    print(f"  Hydra's layout in Textual's widgets, no Hydra code: {layout_median * 1000:.0f} ms, "
          f"{layout_median / bare_median:.2f}x the bare app")
    if triage:
        triage_median = statistics.median(triage)
        print(f"  hydra triage (the store's {args.triage}): {triage_median * 1000:.0f} ms, "
              f"{triage_median / hydra_median:.2f}x the debugger's (target 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
