"""The cycle collector while a TUI starts.

Starting makes tens of thousands of objects that live as long as the app: Textual's modules,
classes, styles and widgets, and the crash. With the default thresholds the cycle collector
walks them about a hundred times before the first screen is drawn (a twelfth of the time to
it, 10 ms) and frees nothing. So it is held from the command's start until the first screen
is on the terminal (ThemedApp), and in any case until the command returns.

No Textual here: the hold must begin before Textual is imported.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

_held = False


@contextmanager
def collector_held():
    global _held
    if not gc.isenabled():          # held by the caller already: theirs to resume
        yield
        return
    gc.disable()
    _held = True
    try:
        yield
    finally:
        resume_collector()


def resume_collector() -> None:
    """The collector back on, if collector_held() holds it."""
    global _held
    if _held:
        _held = False
        gc.enable()
