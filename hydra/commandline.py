"""A command's arguments read without argparse when the command line is plain.

The command line is declared once, by the `add_argument` calls argparse takes. `Arguments`
records them and parses a plain command line itself: exact option names, each value after
its option or after `=`, the positionals in one run. Anything else (`--help`, `--version`,
an abbreviated option, `--`, a value that starts with `-`, options between positionals, a
wrong value, a missing argument) is left to argparse, made from the same calls, which parses
it or says what is wrong. What both accept, they read alike (a test checks one against the
other).

argparse imports re and gettext and builds a formatter for every argument: 5 ms of each
start, more than a small minidump's whole walk.
"""

from __future__ import annotations

from types import SimpleNamespace

UNBOUNDED = 1 << 30


class _Argument:
    __slots__ = ("dest", "action", "nargs", "type", "choices", "default", "required")

    def __init__(self, names: tuple[str, ...], options: dict):
        self.action = options.get("action")
        self.nargs = options.get("nargs")
        if self.action not in (None, "store_true", "append", "version", "help") or (
                names[0].startswith("-") and self.nargs is not None):
            raise NotPlain(f"{names[0]}: {self.action or self.nargs}")      # read by argparse alone
        self.type = options.get("type")
        self.choices = options.get("choices")
        self.required = options.get("required", False)
        if names[0].startswith("-"):
            long_names = [name for name in names if name.startswith("--")]
            dest = (long_names or names)[0].lstrip("-").replace("-", "_")
        else:
            dest = names[0]
        self.dest = options.get("dest", dest)
        default = options.get("default")
        if default is None and self.action == "store_true":
            default = False
        if default is None and self.nargs == "*":
            default = []
        if isinstance(default, str) and self.type is not None:
            default = self.type(default)         # as argparse converts a string default
        self.default = default

    def initial(self):
        return list(self.default) if isinstance(self.default, list) else self.default

    def convert(self, word: str):
        """The value a word gives, or _REFUSED for one argparse would refuse."""
        try:
            value = self.type(word) if self.type is not None else word
        except Exception:        # argparse's ArgumentTypeError too: argparse says what is wrong
            return _REFUSED
        if self.choices is not None and value not in self.choices:
            return _REFUSED
        return value


_REFUSED = object()


class NotPlain(Exception):
    """Arguments argparse alone reads."""


def recorded(declare) -> Arguments | None:
    """The arguments declare(parser) adds, or None when only argparse can read them."""
    arguments = Arguments()
    try:
        declare(arguments)
    except NotPlain:
        return None
    return arguments


class Arguments:
    """One command's arguments, as its `add_argument` calls give them."""

    def __init__(self):
        self.options: dict[str, _Argument] = {}
        self.positionals: list[_Argument] = []
        self.every: list[_Argument] = []
        self.exclusive: list[set[str]] = []

    def add_argument(self, *names: str, **options) -> None:
        argument = _Argument(names, options)
        self.every.append(argument)
        if names[0].startswith("-"):
            for name in names:
                self.options[name] = argument
        else:
            self.positionals.append(argument)

    def add_mutually_exclusive_group(self, **_options):
        return _ExclusiveGroup(self)

    def add_subparsers(self, **_options):
        raise NotPlain("a command with commands of its own")

    def parse(self, words: list[str]) -> SimpleNamespace | None:
        """The arguments of a plain command line, or None where argparse must decide."""
        values = {argument.dest: argument.initial() for argument in self.every}
        given: set[str] = set()
        plain: list[str] = []          # the positionals' words
        runs = 0
        after_option = True
        position = 0
        while position < len(words):
            word = words[position]
            position += 1
            if not word.startswith("-") or word == "-":
                if after_option:
                    runs += 1
                after_option = False
                plain.append(word)
                continue
            after_option = True
            name, equals, inline = word.partition("=") if word.startswith("--") else (word, "", "")
            argument = self.options.get(name)
            if argument is None:
                return None
            if argument.action == "store_true":
                if equals:
                    return None
                values[argument.dest] = True
            elif argument.action in (None, "append"):
                if equals and inline != "--":        # argparse drops a `--` value
                    word = inline
                elif equals:
                    return None
                elif position < len(words) and not words[position].startswith("-"):
                    word = words[position]
                    position += 1
                else:
                    return None
                value = argument.convert(word)
                if value is _REFUSED:
                    return None
                if argument.action == "append":
                    if values[argument.dest] is None:
                        values[argument.dest] = []
                    values[argument.dest].append(value)
                else:
                    values[argument.dest] = value
            else:
                return None           # version, help and the like: argparse's own
            given.add(argument.dest)
        if runs > 1 or any(len(group & given) > 1 for group in self.exclusive):
            return None
        if any(argument.required and argument.dest not in given for argument in self.options.values()):
            return None
        if not self._place(plain, values):
            return None
        return SimpleNamespace(**values)

    def _place(self, words: list[str], values: dict) -> bool:
        """The positionals' words given out in order, each taking all it may while leaving the
        ones after it their least, as argparse's pattern matching does."""
        bounds = [{None: (1, 1), "?": (0, 1), "+": (1, UNBOUNDED), "*": (0, UNBOUNDED)}.get(argument.nargs)
                  for argument in self.positionals]
        if None in bounds:
            return False
        start = 0
        for index, (argument, (least, most)) in enumerate(zip(self.positionals, bounds)):
            reserved = sum(bound[0] for bound in bounds[index + 1:])
            count = min(most, len(words) - start - reserved)
            if count < least:
                return False
            taken = [argument.convert(word) for word in words[start:start + count]]
            if _REFUSED in taken:
                return False
            if argument.nargs in ("+", "*"):
                values[argument.dest] = taken
            elif taken:
                values[argument.dest] = taken[0]
            start += count
        return start == len(words)


class _ExclusiveGroup:
    def __init__(self, owner: Arguments):
        self.owner = owner
        self.dests: set[str] = set()
        owner.exclusive.append(self.dests)

    def add_argument(self, *names: str, **options) -> None:
        self.owner.add_argument(*names, **options)
        self.dests.add(self.owner.every[-1].dest)
