"""The plain command-line reader against argparse, built from the same declarations: what
the reader accepts, argparse accepts and reads alike; what argparse refuses, the reader
leaves to it; and the command lines people type are read without argparse."""

from __future__ import annotations

import contextlib
import io
import random

import pytest

from hydra import cli
from hydra.commandline import recorded


def _argparse(argv: list[str]) -> dict | None:
    parser = cli._parser(argv[0]) if argv and argv[0] in cli.COMMANDS else cli._view_parser()
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return vars(parser.parse_args(argv))
    except SystemExit:
        return None


def _plain(argv: list[str]) -> dict | None:
    if argv and argv[0] in cli.COMMANDS:
        arguments = recorded(cli._declaration(argv[0]))
        found = arguments.parse(argv[1:]) if arguments is not None else None
        return None if found is None else {"command": argv[0], **vars(found)}
    found = recorded(cli._view_arguments).parse(argv)
    return None if found is None else vars(found)


PLAIN = [
    ["bt", "--json", "a.dmp", "--symbols", "syms"],
    ["bt", "a.dmp", "b.dmp", "c.dmp", "--json"],
    ["bt", "--full", "--thread", "12", "core", "--exe", "./prog", "--debug-dir", "d1", "--debug-dir", "d2"],
    ["bt", "--symbols=syms", "--memory", "heap", "x.dmp", "--no-analysis", "--rules", "r.rules"],
    ["snap", "core.1", "-o", "out.hsnap", "--kv", "a=b", "--global", "g_state", "--env"],
    ["snap", "--pid", "4242", "--output", "p.hsnap"],
    ["snap"],
    ["index", "dumps/", "--db", "crashes.db", "--jobs", "2", "--keep-snapshots"],
    ["query", "--where", "severity >= high", "--group-by", "fingerprint", "--histogram", "--limit", "5", "--json"],
    ["query", "--csv", "--since", "7d", "--classifier", "assert", "--select", "time,program", "--sort=-time"],
    ["triage", "--db", "c.db", "-m", "--theme", "hydra-light"],
    ["bucket", "set", "ab12", "--state", "fixed", "--version", "1.2"],
    ["bucket", "note", "ab12", "looks like the parser"],
    ["fingerprint", "a.hsnap", "b.dmp", "--json", "--rules", "mine.rules"],
    ["print", "f.hsnap", "*shelf", "--thread", "7", "--frame", "2"],
    ["ptype", "f.hsnap", "struct", "node", "--json"],
    ["whatis", "f.hsnap", "v"],
    ["x", "f.hsnap", "&v", "--count", "4", "--unit", "g", "--format", "d"],
    [],
    ["f.hsnap"],
    ["core.1", "--goto", "22620/4", "-m", "--no-mouse", "--theme", "ansi-dark", "--sysroot", "/srv/root"],
]

NOT_PLAIN = [
    ["bt", "--help"], ["--help"], ["--version"], ["bt", "--js", "a.dmp"], ["bt", "--", "-a.dmp"],
    ["bt", "a.dmp", "--json", "b.dmp"], ["bt", "--thread", "-1", "a"], ["bt", "--thread", "x", "a"],
    ["bt"], ["bt", "--json=yes", "a"], ["bt", "--memory", "everything", "a"], ["query", "--json", "--csv"],
    ["bucket", "close", "ab12"], ["bucket", "set"], ["bucket", "set", "a", "b", "c"], ["print", "f.hsnap"],
    ["coresnap", "list"], ["snap", "-oout", "c"], ["snap", "--pid"], ["x", "f", "v", "--unit", "q"],
    ["a", "b"], ["-", "--goto"],
]


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_plain_command_lines_are_read_without_argparse_as_argparse_reads_them(argv):
    found = _plain(argv)
    assert found is not None
    assert found == _argparse(argv)


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=" ".join)
def test_other_command_lines_are_left_to_argparse(argv):
    assert _plain(argv) is None


def _words(rng: random.Random, command: str | None) -> list[str]:
    """A command line of pieces of the command's own options, values and files, some of them
    wrong: abbreviated, missing their value, out of place."""
    arguments = recorded(cli._declaration(command))
    names = sorted(arguments.options)
    values = ["a.dmp", "7", "-3", "x", "-", "--", "heap", "open", "set", "fixed", "w", "b", "g", "=", ""]
    words = [command] if command else []
    if command == "bucket" and rng.random() < 0.6:
        words += ["set", "ab12"]          # its positionals are rarely right by chance
    for _ in range(rng.randrange(0, 7)):
        pick = rng.random()
        if pick < 0.45:
            name = rng.choice(names)
            if rng.random() < 0.1:
                name = name[:max(3, len(name) - 2)]
            if rng.random() < 0.15:
                words.append(f"{name}={rng.choice(values)}")
                continue
            words.append(name)
            if rng.random() < 0.8:
                words.append(rng.choice(values))
        else:
            words.append(rng.choice(values[:6] + ["f.hsnap", "core.2", "expr", "set", "note"]))
    return words


@pytest.mark.parametrize("command", [None, *(name for name in cli.COMMANDS if name != "coresnap")])
def test_what_the_reader_accepts_argparse_reads_alike(command):
    rng = random.Random(f"commandline-{command}")
    accepted = 0
    for _ in range(400):
        argv = _words(rng, command)
        found = _plain(argv)
        if found is not None:
            accepted += 1
            assert found == _argparse(argv), argv
    assert accepted > 20          # the corpus reaches the reader's own path, not only argparse's


def test_declarations_it_does_not_read_are_left_to_argparse():
    """What the command line does not declare today is still never read differently."""
    import argparse

    def declared(parser):
        parser.add_argument("--keep", action="store_false")

    assert recorded(declared) is None

    def appended(parser):
        parser.add_argument("--tag", action="append")
        parser.add_argument("--level", type=_level)
        parser.add_argument("--pair", nargs=2)

    def _level(word):
        if word not in ("low", "high"):
            raise argparse.ArgumentTypeError("low or high")
        return word

    assert recorded(appended) is None          # an option with nargs
    appended_only = recorded(lambda p: (p.add_argument("--tag", action="append"),
                                        p.add_argument("--level", type=_level)))
    assert vars(appended_only.parse(["--tag", "a", "--tag", "b"])) == {"tag": ["a", "b"], "level": None}
    assert appended_only.parse(["--level", "medium"]) is None
    assert appended_only.parse(["--level", "high"]).level == "high"
