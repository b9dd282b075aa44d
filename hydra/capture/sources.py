"""Source files for the frames of a capture, after --source-map rewriting."""

from __future__ import annotations

import os

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


def read_source(path: str, maps: list[tuple[str, str]], compile_dir: str | None = None) -> str | None:
    """The file's text, or None when it cannot be read (not there, too large, binary)."""
    candidate = rewrite(path, maps)
    if not os.path.isabs(candidate) and compile_dir:
        candidate = os.path.join(compile_dir, candidate)
    try:
        if not os.path.isfile(candidate) or os.path.getsize(candidate) > MAX_SOURCE_BYTES:
            return None
        with open(candidate, "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    if b"\0" in raw[:8192]:
        return None
    return raw.decode("utf-8", "replace")
