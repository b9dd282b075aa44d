"""Dump text made safe for a terminal: control bytes become visible escapes."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape(match: re.Match) -> str:
    return f"\\x{ord(match.group()):02x}"


def printable(text: str | None, keep_newlines: bool = False) -> str:
    """Every C0 (but newline when asked; tab is kept), DEL and C1 character as `\\xNN`."""
    if text is None:
        return ""
    if not keep_newlines:
        text = text.replace("\n", "\\x0a")
    return _CONTROL.sub(_escape, text)
