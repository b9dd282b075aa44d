"""Name patterns (lists of names and prefixes) answer as RE2 answers the same pattern."""

from __future__ import annotations

import random

import re2

from hydra.analysis.fingerprint import DEFAULT_RULES
from hydra.analysis.patterns import NamePattern, compile_name_pattern, compile_pattern

MADE_UP = [r"abort|raise", r"tcache_.*", r"a\.b|c\|d|e\\.*", r"|x", r"x|", r"runtime\..*", r"\[vdso\]",
           r"operator new.*|operator delete.*", r"é|中文.*", r"a.*|a", r".*", r"a|.*|b", r"a\\.*"]
NOT_NAMES = [r"(a|b)", r"a.b", r"a*", r"a.*b", r"a+", r"^a", r"a$", r"[ab]", r"a{2}", r"\d", r"\w+", r"a.*.*",
             r"a\q", "a\\", r"a\.*", r"x\|y"]


def _default_patterns() -> list[str]:
    with open(DEFAULT_RULES, encoding="utf-8") as handle:
        lines = [line.split("#", 1)[0].strip() for line in handle]
    return [line.partition(" ")[2].strip() for line in lines
            if line.split(" ", 1)[0] in ("skip", "skip-module", "skip-unnamed-module", "stop", "stop-after")]


def _names(rng: random.Random, pattern: str) -> list[str]:
    """Names near the pattern's own words: each, its prefixes and extensions, with a
    newline, a space or a letter more or less."""
    words = [w for w in re2.split(r"[|()*+?.\\\[\]^$]+", pattern) if w] or ["x"]
    names = ["", "\n", "x"]
    for word in words:
        for extra in ("", "x", "\n", "\nx", " ", ".", "_", "::f", "é"):
            names += [word + extra, extra + word, word[:-1], word[1:]]
    return names + ["".join(rng.choice(words) for _ in range(2)) for _ in range(20)]


def test_name_patterns_answer_as_re2_does():
    rng = random.Random(7)
    patterns = _default_patterns() + MADE_UP
    named = 0
    for pattern in patterns:
        ours = compile_name_pattern(pattern)
        named += isinstance(ours, NamePattern)
        regex = re2.compile(pattern)
        for name in _names(rng, pattern):
            assert bool(ours.fullmatch(name)) == bool(regex.fullmatch(name)), (pattern, name)
    assert named >= 15 + len(MADE_UP)       # most default lines need no regular expression


def test_other_syntax_goes_to_re2():
    for pattern in NOT_NAMES:
        try:
            expected = compile_pattern(pattern)
        except ValueError:
            continue
        assert not isinstance(compile_name_pattern(pattern), NamePattern)
        assert type(compile_name_pattern(pattern)) is type(expected)


def test_names_utf8_cannot_hold_are_matched_not_refused():
    """A name decoded with surrogateescape (an ELF symbol, an executable's path): RE2 alone
    refuses it; here each lone surrogate reads as U+FFFD."""
    from hydra.analysis.api import base_function_name
    from hydra.coresnap.settings import Settings

    assert compile_pattern("raise.*").fullmatch("raise\udcff")
    assert compile_name_pattern("raise.*").fullmatch("raise\udcff")
    assert base_function_name("__GI_raise\udcff") == "raise\ufffd"
    settings = Settings()
    settings.routes.append(("games", compile_pattern(r"/games/")))
    assert settings.route_for("/usr/games/sl\udcff") == "games"
