"""Compare Hydra's capture with gdb's view of the same core."""

from __future__ import annotations

import re

from hydra.symbols.demangle import strip_parameters


def _without_template_arguments(name: str) -> str:
    out, depth = [], 0
    for char in name:
        if char == "<":
            depth += 1
        elif char == ">":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    return "".join(out)


def normalize(name: str | None) -> str | None:
    """Qualified name without parameters, spaces or template arguments: DWARF's names and
    the demangler spell template arguments differently (`WorkQueue<Order>` against
    `shop::WorkQueue<shop::Order>`), and Hydra takes enclosing scopes from the latter."""
    if name is None:
        return None
    name = name.replace("(anonymous namespace)", "{anon}")
    return re.sub(r"\s+", "", _without_template_arguments(strip_parameters(name)))


def located_frames(gdb_thread: dict) -> list[dict]:
    """The frames gdb shows with a file and line (tail-call frames rebuilt from call-site
    records too)."""
    return [f for f in gdb_thread["frames"] if f["file"] and f["line"]]


def missing_frames(hydra_thread, gdb_thread: dict) -> list[str]:
    """gdb's located frames that do not appear, in order, among Hydra's frames."""
    frames = [(normalize(f.function), f.line, f.file, f.pc) for f in hydra_thread.frames]
    position = 0
    missing = []
    for expected in located_frames(gdb_thread):
        name = normalize(expected["name"])
        for index in range(position, len(frames)):
            function, line, file, pc = frames[index]
            # Assembly functions have no DWARF name; gdb and Hydra may pick different
            # aliases from the symbol table (clone3 / __clone3) for the same pc.
            same_name = function == name or (pc == expected["pc"] and "::" not in (name or ""))
            if same_name and line == expected["line"] and file and file.endswith(
                    expected["file"].lstrip("./")):
                position = index + 1
                break
        else:
            missing.append(f"#{expected['index']} {expected['name']} at {expected['file']}:{expected['line']}")
    return missing
