"""Crash fingerprints: a small state machine over the faulting thread's frames, driven by a
plain-text rules file, hashed with SHA-256.

Rules file: one rule a line, `#` starts a comment, patterns are regular expressions (Python's
syntax without backreferences and lookarounds; RE2 matches them in linear time, see
patterns.py) matched against the whole name:

    rename PATTERN => REPLACEMENT   rewrite function names (re.sub with \\1 groups), in order
    templates                       collapse template arguments: `f<int, std::less<int>>` -> `f<T>`
    skip PATTERN                    leave out frames whose function matches
    skip-module PATTERN             leave out frames whose module's file name matches
    skip-unnamed-module PATTERN     leave out frames without a function name in those modules
    stop PATTERN                    end the walk at a frame whose function matches (not used)
    stop-after PATTERN              end the walk after using a frame whose function matches
    detail function|file|line [PATTERN]
                                    what a frame contributes: its function; and its file's
                                    name; and its line. With PATTERN, only for those functions.
    frames N                        use at most N frames

The walk, innermost frame first: rename; skip; stop; take the frame at its detail (a frame
without a function is `module+0xoffset`); merge it with the previous one when equal
(recursion); stop after N frames. A stack overflow that repeats a cycle of functions to
the end of its first 64 frames gives the cycle once, from its first name in sorted order,
whatever it called where the stack ran out. The fingerprint is the SHA-256 of the crash's class
(segv, abort, ..., with the specific classes that tell bugs apart: assert, double-free, ...),
the program's name (crashes of two programs never share a bucket) and the frames taken, one
per line. User rules come before the default
ones, so they win: the first matching skip/stop/detail rule applies, every rename runs.
"""

from __future__ import annotations

import functools
import os

from hydra.analysis.patterns import PatternError, compile_name_pattern, compile_pattern
from hydra.model.crash import SIGNAL_HANDLER_CALLED
from hydra.model.digest import sha256_hex
from hydra.model.record import field, record

Pattern = object          # a compiled pattern (patterns.compile_pattern, compile_name_pattern)

DEFAULT_RULES = os.path.join(os.path.dirname(__file__), "default.rules")
# Classes that tell bugs in the same frames apart (an assert and a double free in one function)
# and that do not vary between runs of one bug, as wild addresses do.
SPECIFIC_CLASSES = {"assert", "double-free", "invalid-free", "heap-corruption", "stack-smashing", "fortify",
                    "uncaught-exception", "stack-overflow", "divide-by-zero", "deadlock", "use-after-free"}
MAX_TEMPLATE_DEPTH = 64


class RulesError(ValueError):
    pass


@record
class Rules:
    renames: list[tuple[Pattern, str]] = field(default_factory=list)
    skips: list[Pattern] = field(default_factory=list)
    skip_modules: list[Pattern] = field(default_factory=list)
    skip_unnamed: list[Pattern] = field(default_factory=list)
    stops: list[Pattern] = field(default_factory=list)
    stops_after: list[Pattern] = field(default_factory=list)
    details: list[tuple[Pattern | None, str]] = field(default_factory=list)
    frames: int | None = None
    templates: bool = False

    def extend(self, other: Rules) -> Rules:
        return Rules(self.renames + other.renames, self.skips + other.skips,
                     self.skip_modules + other.skip_modules, self.skip_unnamed + other.skip_unnamed,
                     self.stops + other.stops,
                     self.stops_after + other.stops_after, self.details + other.details,
                     self.frames if self.frames is not None else other.frames,
                     self.templates or other.templates)


def parse_rules(text: str, origin: str = "rules") -> Rules:
    rules = Rules()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("rename") else raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if keyword == "rename":
                pattern, arrow, replacement = rest.partition(" => ")
                if not arrow:
                    raise RulesError("rename needs `PATTERN => REPLACEMENT`")
                compiled = compile_pattern(pattern.strip())
                _check_replacement(compiled, replacement.strip())
                rules.renames.append((compiled, replacement.strip()))
            elif keyword == "templates" and not rest:
                rules.templates = True
            elif keyword in ("skip", "skip-module", "skip-unnamed-module", "stop", "stop-after") and rest:
                target = {"skip": rules.skips, "skip-module": rules.skip_modules, "stop": rules.stops,
                          "skip-unnamed-module": rules.skip_unnamed, "stop-after": rules.stops_after}[keyword]
                target.append(compile_name_pattern(rest))
            elif keyword == "detail":
                level, _, pattern = rest.partition(" ")
                if level not in ("function", "file", "line"):
                    raise RulesError("detail is function, file or line")
                rules.details.append((compile_name_pattern(pattern.strip()) if pattern.strip() else None, level))
            elif keyword == "frames" and rest.isascii() and rest.isdigit() and 0 < int(rest[:6]) and len(rest) <= 6:
                rules.frames = int(rest)
            else:
                raise RulesError(f"not a rule: {line[:60]!r}")
        except (PatternError, OverflowError, RecursionError, ValueError) as error:
            if isinstance(error, (RulesError, PatternError)):
                raise RulesError(f"{origin}:{number}: {error}") from None
            raise RulesError(f"{origin}:{number}: bad pattern: {error}") from None
        except RulesError as error:
            raise RulesError(f"{origin}:{number}: {error}") from None
    return rules


@functools.lru_cache(maxsize=1)
def default_rules() -> Rules:
    with open(DEFAULT_RULES, encoding="utf-8") as handle:
        return parse_rules(handle.read(), DEFAULT_RULES)


@functools.cache
def _group_reference():
    return compile_pattern(r"\\(\d+)|\\g<([^>]*)>")


def _check_replacement(pattern: Pattern, replacement: str) -> None:
    """Group references must name groups the pattern has: `\\2` with one group is an error now,
    not when a frame's name is rewritten."""
    for match in _group_reference().finditer(replacement):
        number, name = match.groups()
        reference = number if number is not None else name
        if reference.isdigit():
            if int(reference) > pattern.groups:
                raise RulesError(f"the replacement refers to group {reference}; the pattern has {pattern.groups}")
        elif reference not in pattern.groupindex:
            raise RulesError(f"the replacement refers to group {reference!r}, which the pattern lacks")


def load_rules(user_file: str | None = None) -> Rules:
    defaults = default_rules()
    if not user_file:
        return defaults
    try:
        with open(user_file, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise RulesError(f"{user_file}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise RulesError(f"{user_file}: not UTF-8 text") from None
    return parse_rules(text, user_file).extend(defaults)


_OPERATOR = compile_pattern(r"operator\s*(<=>|<<=|<<|<=|<)")


def collapse_templates(name: str) -> str:
    """Template arguments become `T`: `f<int, std::less<int>>` -> `f<T>`. The `<` of
    `operator<`, `operator<<` and the like is no template, nor is anything in parentheses."""
    if "<" not in name:
        return name
    out = []
    depth = 0          # template brackets
    parens = 0
    position = 0
    while position < len(name):
        operator = (_OPERATOR.match(name, position) if depth == 0 and name.startswith("operator", position)
                    else None)
        if operator:
            out.append(operator.group(0))
            position = operator.end()
            continue
        char = name[position]
        position += 1
        if depth == 0 and char in "()":
            parens += 1 if char == "(" else -1 if parens else 0
            out.append(char)
        elif char == "<" and parens == 0:
            if depth == 0:
                out.append("<T>")
            depth = min(depth + 1, MAX_TEMPLATE_DEPTH)
        elif char == ">" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


MAX_NAME = 4096     # longer names are cut before the rules see them
MAX_FRAMES_EXAMINED = 1024    # frames the walk looks at, skipped ones included


def normalize(name: str, rules: Rules) -> str:
    name = name[:MAX_NAME]
    for pattern, replacement in rules.renames:
        changed = pattern.fullmatch(name)
        if changed:
            try:
                name = changed.expand(replacement)[:MAX_NAME]
            except (ValueError, IndexError, TypeError):
                pass                 # a replacement the pattern cannot fill: the name stays
    if rules.templates:
        name = collapse_templates(name)
    return name


def _matches(patterns: list[Pattern], text: str) -> bool:
    return any(p.fullmatch(text) for p in patterns)


MAX_CYCLE = 8          # the longest recursion cycle (f calls g calls f ...) a stack overflow is told by
OVERFLOW_WINDOW = 64   # frames a stack overflow's walk looks at for its cycle


def fingerprint_frames(thread, rules: Rules, overflow: bool = False) -> list[str]:
    """The frames' texts the fingerprint is made of. A stack overflow's are its recursion's
    cycle, wherever in it (or in what it called: printf, malloc) the stack ran out."""
    limit = rules.frames or 2
    if overflow:
        texts = _walk(thread, rules, OVERFLOW_WINDOW, merge=False)
        cycle = _recursion(texts) if len(texts) == OVERFLOW_WINDOW else None
        if cycle:
            return cycle[:limit]
    return _walk(thread, rules, limit)


def _recursion(texts: list[str]) -> list[str] | None:
    """The cycle the stack repeats to the end of texts (at least three times), from its
    first name in sorted order: `parse_list | parse_value` whether the stack ran out in
    parse_value, in parse_list or in a snprintf either called."""
    for period in range(1, MAX_CYCLE + 1):
        start = len(texts) - period
        while start > 0 and texts[start - 1] == texts[start - 1 + period]:
            start -= 1
        if len(texts) - start >= 3 * period:
            cycle = texts[start:start + period]
            first = cycle.index(min(cycle))
            return cycle[first:] + cycle[:first]
    return None


def _walk(thread, rules: Rules, limit: int, merge: bool = True) -> list[str]:
    """The frames' texts after the rules, innermost first, at most limit of them; with
    merge, a frame equal to the one before it (recursion) counts once."""
    taken: list[str] = []
    for frame in thread.frames[:MAX_FRAMES_EXAMINED]:
        module = (frame.module or "").replace("\\", "/").rsplit("/", 1)[-1][:MAX_NAME]
        if module and _matches(rules.skip_modules, module):
            continue
        if frame.function == SIGNAL_HANDLER_CALLED:
            continue      # the mark between a handler and what it interrupted, not a function
        name = normalize(frame.function, rules) if frame.function else ""
        if not name and (not frame.module or _matches(rules.skip_unnamed, module)):
            continue      # no name and no module: a wild pc, nothing stable to say
        if name and _matches(rules.skips, name):
            continue
        if name and _matches(rules.stops, name):
            break
        if not name:
            text = f"{module or '?'}+0x{frame.module_offset or 0:x}"
        else:
            level = next((lvl for pattern, lvl in rules.details if pattern is None or pattern.fullmatch(name)), "function")
            text = name
            if level in ("file", "line") and frame.file:
                text += f" ({frame.file.replace(chr(92), '/').rsplit('/', 1)[-1]}"
                text += f":{frame.line})" if level == "line" and frame.line else ")"
        if not merge or not taken or taken[-1] != text:
            taken.append(text)
        if len(taken) >= limit or (name and _matches(rules.stops_after, name)):
            break
    return taken


def fingerprint(crash, rules: Rules, thread=None) -> tuple[str, list[str]]:
    """(hex digest, the frames that made it) for a crash."""
    from hydra.analysis.faults import signal_class

    if thread is None:
        from hydra.analysis.api import chosen_thread_id

        wanted = chosen_thread_id(crash)
        thread = crash.thread(wanted) if wanted is not None else None
        thread = thread or crash.crashed_thread
    overflow = any(c.name == "stack-overflow" for c in crash.classifiers)
    frames = fingerprint_frames(thread, rules, overflow) if thread is not None else []
    kinds = [signal_class(crash) or "none"]
    kinds += sorted(c.name for c in crash.classifiers if c.name in SPECIFIC_CLASSES)
    if crash.truncated:
        kinds.append("partial")       # frames may be missing: never the whole crash's bucket
    # crashes of different programs never share a bucket, whatever frames they share
    key = [f"program:{program_name(crash)}", f"class:{'/'.join(kinds)}"] + frames
    if not frames:
        # nothing says which bug it is: a bucket of its own, the same for the same crash
        key.append(f"alone:{_identity(crash, thread)}")
    digest = sha256_hex("\n".join(key).encode())
    return digest, frames


def program_name(crash) -> str:
    """The executable's file name (a minidump's main module's), as the key names the program."""
    path = crash.process.executable if crash.process is not None else None
    if not path and crash.modules:
        path = crash.modules[0].path
    return (path or "").replace("\\", "/").rsplit("/", 1)[-1][:MAX_NAME]


def _identity(crash, thread) -> str:
    registers = sorted((thread.registers if thread is not None else {}).items())
    signal = crash.signal
    return sha256_hex(repr((crash.process.pid, crash.process.capture_time, crash.process.executable,
                            signal and (signal.number, signal.code, signal.address), registers,
                            [(m.path, m.base) for m in crash.modules[:64]])).encode())
