"""The cycle collector while a command starts.

Starting makes tens of thousands of objects that live as long as the command: Hydra's and
Textual's modules and classes, Textual's styles and widgets, the crash. With the default
thresholds the collector walks them again and again and frees nothing: about a hundred
times before the TUI's first screen (10 ms, a twelfth of the time to it), four times in a
small minidump's `bt` (half a millisecond). So the `hydra` command holds it from its first
line (hydra.__main__), before the rest of Hydra is imported. One-shot commands (bt, snap,
print, ...) end with it held; the TUI resumes it when its first screen is on the terminal
(ThemedApp); other commands once their arguments are read (cli).

Neither Textual nor contextlib here: the hold begins before anything is imported.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """Hold the collector, unless a caller holds it already: theirs to resume."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def resume() -> None:
    """The collector back on, if hold() holds it."""
    global _held
    if _held:
        _held = False
        gc.enable()


class held:  # noqa: N801  (a context manager used as a function: `with held():`)
    """The collector held for a block, or until resume(); resumed after it in any case,
    unless a caller held it before."""

    def __enter__(self) -> None:
        hold()

    def __exit__(self, kind, error, trace) -> None:
        resume()
