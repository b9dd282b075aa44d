"""Source files for the frames of a capture, after --source-map rewriting."""

from __future__ import annotations

import os

from hydra.model.files import open_regular
from hydra.snapshot.format import MAX_SOURCE_BYTES


def parse_source_maps(pairs: list[str]) -> list[tuple[str, str]]:
    maps = []
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source:
            raise ValueError(f"--source-map expects FROM=TO, got {pair!r}")
        maps.append((source, target))
    # longest prefix first, so the most specific rule wins
    return sorted(maps, key=lambda item: len(item[0]), reverse=True)


def rewrite(path: str, maps: list[tuple[str, str]]) -> str:
    for source, target in maps:
        if path == source or path.startswith(source.rstrip("/") + "/"):
            return target + path[len(source):]
    return path


class Unreadable(Exception):
    """A source file that exists but may not be read (as the user the capture is for)."""


def read_source(path: str, maps: list[tuple[str, str]], compile_dir: str | None = None,
                seen: dict | None = None, budget: list[int] | None = None) -> str | None:
    """The file's text, or None when it cannot be read (not there, too large, binary, not a
    regular file, past the budget); Unreadable when permission is denied, which a snapshot
    reports. `seen` maps (device, inode) to the text already read, so a file named by many
    paths is read (and kept) once; `budget` is the bytes left for all sources."""
    candidate = rewrite(path, maps)
    if not os.path.isabs(candidate) and compile_dir:
        candidate = os.path.join(compile_dir, candidate)
    try:
        # a FIFO or a device named in DWARF must not block the capture
        fd = open_regular(candidate)
    except PermissionError:
        raise Unreadable(candidate) from None
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        if seen is not None and key in seen:
            return seen[key]
        # procfs and sysfs files say they are empty: nothing of a program's source is there
        if st.st_size == 0 or st.st_size > MAX_SOURCE_BYTES or (budget is not None and st.st_size > budget[0]):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(raw) > MAX_SOURCE_BYTES or b"\0" in raw[:8192]:
        return None
    text = raw.decode("utf-8", "replace")
    if budget is not None:
        budget[0] -= len(raw)
    if seen is not None:
        seen[key] = text
    return text
