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


class Pattern:
    """An RE2 pattern with `re`'s methods (fullmatch, match, search, finditer; expand on the
    matches). Text that UTF-8 cannot hold (lone surrogates: names decoded with
    surrogateescape, an executable's path from the kernel) is matched with each surrogate
    read as U+FFFD; RE2 would refuse it."""

    __slots__ = ("regex", "groups", "groupindex")

    def __init__(self, regex):
        self.regex = regex
        self.groups = regex.groups
        self.groupindex = regex.groupindex

    def fullmatch(self, text: str, *bounds):
        return self.regex.fullmatch(_encodable(text), *bounds)

    def match(self, text: str, *bounds):
        return self.regex.match(_encodable(text), *bounds)

    def search(self, text: str, *bounds):
        return self.regex.search(_encodable(text), *bounds)

    def finditer(self, text: str, *bounds):
        return self.regex.finditer(_encodable(text), *bounds)


def _encodable(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


def compile_pattern(text: str) -> Pattern:
    """A compiled pattern (Pattern)."""
    try:
        return Pattern(re2.compile(text, _OPTIONS))
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"bad pattern {text[:80]!r}: {str(reason)[:120]}") from None


# punctuation a backslash makes literal, in Python's syntax and RE2's alike
_ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SPECIAL = frozenset(".^$*+?{}[]()|\\")


class NamePattern:
    """A pattern made only of names and name prefixes (`abort|raise|tcache_.*|runtime\\..*`),
    matched by a set and str.startswith: the default fingerprint rules' skip and stop lines
    are mostly such lists, and compiling them cost every minidump's `bt` half a millisecond.
    It answers fullmatch as the regular expression would (`.` is any character but a
    newline); it has no groups, so it serves where only whether a name matches counts."""

    groups = 0

    def __init__(self, names: frozenset[str], prefixes: tuple[str, ...]):
        self.names = names
        self.prefixes = prefixes

    def fullmatch(self, text: str) -> bool:
        if text in self.names:
            return True
        return any(text.startswith(prefix) and "\n" not in text[len(prefix):] for prefix in self.prefixes)


def compile_name_pattern(text: str):
    """compile_pattern(text) for a pattern whose matches only count as yes or no: a
    NamePattern when text is one, else the regular expression."""
    alternatives = _name_alternatives(text)
    if alternatives is None:
        return compile_pattern(text)
    names = frozenset(name for name, prefix in alternatives if not prefix)
    return NamePattern(names, tuple(name for name, prefix in alternatives if prefix))


def _name_alternatives(text: str) -> list[tuple[str, bool]] | None:
    """(literal, whether `.*` follows it) for each alternative of text, or None when text
    uses more of the syntax than literals, escaped punctuation, `|` and a final `.*`."""
    if "\\|" in text:
        return None                   # an escaped bar: not worth telling apart here
    alternatives = []
    for alternative in text.split("|"):
        body = alternative
        prefix = body.endswith(".*") and _unescaped_end(body[:-2])
        if prefix:
            body = body[:-2]
        literal = _literal(body)
        if literal is None:
            return None
        alternatives.append((literal, prefix))
    return alternatives


def _unescaped_end(text: str) -> bool:
    """Whether what follows text is outside an escape (an even number of backslashes ends it)."""
    return (len(text) - len(text.rstrip("\\"))) % 2 == 0


def _literal(text: str) -> str | None:
    """The characters text matches when it is literal characters and escaped punctuation."""
    if "\\" not in text:
        return text if _SPECIAL.isdisjoint(text) else None
    out = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\":
            escaped = text[position + 1:position + 2]
            if not escaped or escaped not in _ESCAPABLE:
                return None
            out.append(escaped)
            position += 2
        elif char in _SPECIAL:
            return None
        else:
            out.append(char)
            position += 1
    return "".join(out)
