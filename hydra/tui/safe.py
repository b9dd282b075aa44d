"""The one path from dump text to the screen.

Every string that came from a crash (names, values, paths, attributes, source) goes through
here: control bytes become visible `\\xNN` escapes and the result is a rich Text, which
Textual never parses as markup. Styles are applied around the text, never inside it.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from hydra.model.text import printable


def safe(text: str | None, style: str | Style = "") -> Text:
    return Text(printable(text), style=style, no_wrap=True, end="")


def assemble(*parts: tuple[str | None, str | Style] | str) -> Text:
    """Text from (dump text, style) pairs; bare strings are Hydra's own words."""
    out = Text(no_wrap=True, end="")
    for part in parts:
        if isinstance(part, tuple):
            out.append(printable(part[0]), style=part[1] or None)
        else:
            out.append(part)
    return out
