"""Source files for the frames of a capture, after --source-map rewriting."""

from __future__ import annotations

import os
import stat

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


def read_source(path: str, maps: list[tuple[str, str]], compile_dir: str | None = None) -> str | None:
    """The file's text, or None when it cannot be read (not there, too large, binary, not a
    regular file); Unreadable when permission is denied, which a snapshot reports."""
    candidate = rewrite(path, maps)
    if not os.path.isabs(candidate) and compile_dir:
        candidate = os.path.join(compile_dir, candidate)
    try:
        # O_NONBLOCK: a FIFO or a device named in DWARF must not block the capture
        fd = os.open(candidate, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:
        raise Unreadable(candidate) from None
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SOURCE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(raw) > MAX_SOURCE_BYTES or b"\0" in raw[:8192]:
        return None
    return raw.decode("utf-8", "replace")
