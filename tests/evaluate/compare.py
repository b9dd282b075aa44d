"""Commands run by gdb on a core and by Hydra on the snapshot of that core, side by side."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oracle.gdb import gdb_commands  # noqa: E402

HISTORY = re.compile(r"^\$\d+ = ", re.M)


def read_commands(path: Path) -> list[str]:
    return [line.rstrip("\n") for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def normalize(text: str) -> str:
    """Without `$N = ` (numbering differs where one side refused an earlier command) and
    trailing space."""
    return HISTORY.sub("", text.rstrip("\n")).rstrip()


def hydra_answers(snapshot: str, commands: list[str]) -> list[str]:
    from hydra.evaluate import EvalError, Session
    from hydra.evaluate.commands import run_command
    from hydra.snapshot.format import read_snapshot

    crash = read_snapshot(snapshot)
    session = Session(crash)
    out = []
    for line in commands:
        frame, command = 0, line
        if line.startswith("@"):
            number, _, command = line[1:].partition(" ")
            frame = int(number)
        thread = crash.crashed_thread
        session.select(frame=next((f for f in thread.frames if f.index == frame), thread.frames[0]))
        try:
            out.append(normalize(run_command(session, command)))
        except EvalError as error:
            out.append("ERROR " + error.message)
    return out


def gdb_answers(exe: str, core: str, commands: list[str]) -> list[str]:
    answers = []
    for result in gdb_commands(exe, core, commands):
        if "error" in result:
            answers.append("ERROR " + result["error"])
        else:
            answers.append(normalize(result["output"]))
    return answers


def compare(exe: str, core: str, snapshot: str, commands: list[str]) -> list[tuple[str, str, str]]:
    return list(zip(commands, gdb_answers(exe, core, commands), hydra_answers(snapshot, commands)))


if __name__ == "__main__":
    exe, core, snapshot, listing = sys.argv[1:5]
    rows = compare(exe, core, snapshot, read_commands(Path(listing)))
    same = 0
    for command, gdb_text, hydra_text in rows:
        if gdb_text == hydra_text:
            same += 1
        else:
            print(f"{command}\n  gdb:   {gdb_text}\n  hydra: {hydra_text}")
    print(f"{same} of {len(rows)} identical")
