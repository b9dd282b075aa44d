"""What Hydra reads at run time besides its code: the themes and the bundled sample snapshots.

In a checkout these are the top-level `themes/` and `sample_snapshots/` folders, linked here;
an installed package (a wheel, pipx) carries copies as package data. Either way they are
found beside this module, never through the current folder or sys.prefix.
"""

from __future__ import annotations

import os


def _folder(name: str):
    """A folder of package data. An installed package is a folder on disk, and its data lies
    beside its code; importlib.resources, which brings in zipfile (2 ms of every start of
    the TUI), reads it only from a package that is not, such as one imported from a zip."""
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    if os.path.isdir(beside):
        from pathlib import Path

        return Path(beside)
    from importlib.resources import files

    return files(__name__).joinpath(name)


def bundled_themes() -> list[tuple[str, str]]:
    """(name of the file, its text) for each bundled theme."""
    found = []
    for entry in sorted(_folder("theme-files").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            found.append((entry.name, entry.read_text(encoding="utf-8")))
    return found


def sample(name: str = "default.hsnap") -> str:
    """The path of a bundled sample snapshot (packages are installed as files on disk)."""
    return str(_folder("sample-snapshots").joinpath(name))
