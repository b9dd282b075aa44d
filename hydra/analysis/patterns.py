"""Regular expressions from files people write (fingerprint rules, coresnap routes), matched
against names that come from dumps.

Python's `re` backtracks: a pattern such as `(.*?)(\\.isra)+` takes time that grows with a
power of the name's length, and `(a+)+b` exponentially. RE2 matches in time linear in the
text, with bounded memory, so no dump's names and no rules file can stall a run. Its syntax
is Python's without backreferences and lookarounds, which a rules file does not need.
"""

from __future__ import annotations

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False          # errors are raised, never printed by the library
_OPTIONS.max_mem = 8 << 20


class PatternError(ValueError):
    pass


def compile_pattern(text: str):
    """A compiled pattern with `re`'s methods (fullmatch, search, expand on matches)."""
    try:
        return re2.compile(text, _OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"bad pattern {text[:80]!r}: {str(reason)[:120]}") from None
