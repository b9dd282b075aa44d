"""The real program in a real terminal (tmux), under the TERM values people use over SSH."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "sample_snapshots" / "default.hsnap"
HYDRA = str(Path(sys.executable).with_name("hydra"))


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


@pytest.fixture
def session():
    if shutil.which("tmux") is None:
        raise RuntimeError("tmux is needed for the terminal tests (apt-get install tmux)")
    name = f"hydra-{uuid.uuid4().hex[:8]}"
    yield name
    tmux("kill-session", "-t", name)


def start(session: str, command: str, size=(80, 24)) -> None:
    # a tmux server that the previous test's last session is shutting down may refuse the
    # new session: try again until it exists
    for _ in range(100):
        tmux("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]))
        if subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    # the test runner exports COLUMNS and LINES, which would pin the program's size
    tmux("send-keys", "-t", session, f"unset COLUMNS LINES; {command}", "Enter")


def wait_for(session: str, text: str, timeout: float = 120, escapes: bool = False) -> str:
    """The screen once text is on it. The timeout only keeps a broken run from hanging: a
    busy machine may take many seconds to start the program."""
    deadline = time.time() + timeout
    screen = ""
    while time.time() < deadline:
        screen = tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared:\n{screen}")


@pytest.mark.parametrize("term", ["xterm-256color", "tmux-256color", "screen-256color", "screen"])
def test_opens_and_quits_under_each_term(session, term):
    start(session, f"TERM={term} {HYDRA} {SAMPLE}; echo EXITED=$?")
    screen = wait_for(session, "double price = product->unit_price")
    assert "price_of" in screen and "SIGSEGV SEGV_MAPERR" in screen and "2 Frames" in screen
    tmux("send-keys", "-t", session, "q")
    wait_for(session, "EXITED=0")


def test_resizing_redraws(session):
    start(session, f"{HYDRA} {SAMPLE}", size=(120, 40))
    wait_for(session, "double price = product->unit_price")
    time.sleep(1.0)   # a resize before the app has settled is not what this tests
    tmux("resize-window", "-t", session, "-x", "80", "-y", "24")
    time.sleep(1.0)
    screen = wait_for(session, "2 Frames")
    assert max(len(line) for line in screen.splitlines()) <= 80
    assert "3 Variables" in screen


@pytest.mark.parametrize("how", ["-m", "NO_COLOR=1"])
def test_monochrome_has_no_colours(session, how):
    command = f"{HYDRA} -m {SAMPLE}" if how == "-m" else f"NO_COLOR=1 {HYDRA} {SAMPLE}"
    start(session, "TERM=xterm-256color COLORTERM=truecolor " + command)
    screen = wait_for(session, "double price", escapes=True)
    for colour in ("38;5;", "48;5;", "38;2;", "48;2;"):
        assert colour not in screen
    plain = tmux("capture-pane", "-p", "-t", session)
    assert "▶" in plain and " F " in plain      # markers that do not rely on colour


def reversed_rows(screen: str) -> list[str]:
    """Rows of a `capture-pane -e` screen that hold reverse video (SGR 7)."""
    return [row for row in screen.splitlines() if re.search(r"\x1b\[(?:[0-9;]*;)?7[;m]", row)]


@pytest.mark.parametrize("how", ["-m", "NO_COLOR=1"])
def test_focus_and_cursor_show_without_colour(session, how):
    command = f"{HYDRA} -m {SAMPLE}" if how == "-m" else f"NO_COLOR=1 {HYDRA} {SAMPLE}"
    start(session, "TERM=xterm-256color " + command)
    wait_for(session, "double price", escapes=True)
    screens = {}
    for key, title in (("1", "1 Threads"), ("2", "2 Frames"), ("3", "3 Variables"), ("4", "4 Source")):
        tmux("send-keys", "-t", session, key)
        # a busy machine repaints late: first the focus moves, then the screen settles
        deadline = time.time() + 30
        while time.time() < deadline and not any(
                "┏" in row and title in row for row in tmux("capture-pane", "-p", "-t", session).splitlines()):
            time.sleep(0.1)
        time.sleep(0.5)
        screen = wait_for(session, "double price", escapes=True)
        screens[key] = screen
        plain = tmux("capture-pane", "-p", "-t", session)
        # the focused pane has the heavy border; the others keep the light one
        heavy = [row for row in plain.splitlines() if "┏" in row]
        assert len(heavy) == 1 and title in heavy[0], plain
        # the focused pane's cursor row is in reverse video, whatever the pane
        assert reversed_rows(screen), screen
    assert len(set(screens.values())) == 4
    # the Variables pane marks its cursor row too
    variables = [row for row in reversed_rows(screens["3"]) if "product" in row or "price" in row]
    assert variables, screens["3"]


def test_y_says_where_the_position_went_and_tmux_has_it(session):
    start(session, f"{HYDRA} {SAMPLE}")
    wait_for(session, "double price")
    tmux("send-keys", "-t", session, "y")
    screen = wait_for(session, "tmux buffer")
    token = re.search(r"position (\S+) → OSC 52 clipboard \+ tmux buffer; reopen: --goto (\S+)", screen).group(1)
    assert re.fullmatch(r"\d+/0", token)
    assert tmux("show-buffer").strip() == token
