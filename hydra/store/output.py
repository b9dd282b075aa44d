"""A query's rows as an aligned table, JSON or CSV; every value from a dump printable."""

from __future__ import annotations

import csv
import io
import time

from hydra.model.text import printable
from hydra.report.jsontext import dumps

TIME_COLUMNS = ("captured", "indexed", "first", "last")
WIDE = {"fingerprint": 16, "path": 48, "top_frames": 60, "frames": 60}


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if name in TIME_COLUMNS and isinstance(value, (int, float)):
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(value))
    if name == "classifiers":
        return " ".join(str(value).split())
    return printable(str(value))


BAR = 30


def table(names: list[str], rows: list[tuple], bars: bool = False) -> str:
    """Aligned columns; with bars, a histogram bar after each grouped row's count."""
    if bars and "count" in names:
        position = names.index("count")
        most = max((row[position] for row in rows), default=0) or 1
        names = names + ["histogram"]
        rows = [tuple(row) + ("█" * max(1, round(BAR * row[position] / most)),) for row in rows]
    cells = [[_cell(name, value) for name, value in zip(names, row)] for row in rows]
    for row in cells:
        for index, name in enumerate(names):
            limit = WIDE.get(name)
            if limit and len(row[index]) > limit:
                row[index] = row[index][:limit - 1] + "…"
    widths = [max([len(name)] + [len(row[index]) for row in cells]) for index, name in enumerate(names)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(names, widths)).rstrip()]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def as_json(names: list[str], rows: list[tuple]) -> str:
    return dumps([{name: (" ".join(value.split()) if name == "classifiers" and value else value)
                   for name, value in zip(names, row)} for row in rows], indent=1) + "\n"


def as_csv(names: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_cell(name, value) for name, value in zip(names, row)])
    return out.getvalue()
