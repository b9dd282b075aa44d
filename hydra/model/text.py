"""Dump text made safe for a terminal: control bytes become visible escapes."""

from __future__ import annotations

import functools

# C0 (tab too; newline where asked), DEL and C1; and the invisible characters that reorder
# or hide text: the soft hyphen, bidirectional marks, embeddings, overrides and isolates,
# zero-width characters, line and paragraph separators, the byte-order mark, interlinear
# annotations. Every one of them is outside str.isprintable(), so text that is printable has
# none, and the pattern is compiled (half a millisecond) only for text that may.
CONTROL_CHARACTERS = ("[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                      "\u2060-\u206f\ufeff\ufff9-\ufffb]")
TAB_COLUMNS = 8


def _escape(match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str | None, keep_newlines: bool = False, expand_tabs: bool = False) -> str:
    """Every control character (newline kept when asked) as `\\xNN`, and the invisible ones
    that reorder or hide text (U+202E and the like) as `\\uNNNN`. A tab is `\\x09`, or with
    expand_tabs (source code) the spaces to the next multiple of eight columns."""
    if text is None:
        return ""
    if not keep_newlines:
        text = text.replace("\n", "\\x0a")
    if expand_tabs and "\t" in text:
        text = text.expandtabs(TAB_COLUMNS)
    if text.isprintable():
        return text
    return _control().sub(_escape, text)


@functools.lru_cache(maxsize=1)
def _control():
    import re      # here: most text is printable, and most commands never need re

    return re.compile(CONTROL_CHARACTERS)
