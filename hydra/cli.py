"""Command line: `hydra snap`, `hydra bt`, and `hydra [FILE]`.

Heavy modules (the capture engine, the UI) are imported only by the command that needs them;
argparse too, only when a command line is not plain (hydra.commandline). JSON is written by
hydra.report.jsontext, without json and re.
"""

from __future__ import annotations

import functools
import gc
import os
import sys

from hydra import __version__
from hydra.model.errors import BadInput
from hydra.model.text import printable

QUESTIONS = ("print", "ptype", "whatis", "x")


@functools.cache
def _parser_class():
    """argparse's parser, with the terminal's width read without shutil: argparse builds a
    formatter for every argument added, and shutil's import (with bz2 and lzma) cost each
    start more than parsing the command line. Every parser of the command line is of this
    class, its sub-commands' too (argparse makes those of the parent's class)."""
    import argparse

    class Formatter(argparse.HelpFormatter):
        def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
            if width is None:
                try:
                    width = int(os.environ["COLUMNS"])
                except (KeyError, ValueError):
                    try:
                        width = os.get_terminal_size(sys.__stdout__.fileno()).columns
                    except (AttributeError, ValueError, OSError):
                        width = 80
                width -= 2
            super().__init__(prog, indent_increment, max_help_position, width)

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args, formatter_class=Formatter, **kwargs):
            super().__init__(*args, formatter_class=formatter_class, **kwargs)

    return Parser


def _capture_arguments(parser) -> None:
    from hydra.model.memory import MEMORY_CHOICES

    parser.add_argument("--exe", help="the crashed program's executable (default: from the core)")
    parser.add_argument("--sysroot", help="look for the core's libraries under this folder")
    parser.add_argument("--debug-dir", action="append", default=[], metavar="DIR",
                        help="another folder of separate debug files (repeatable)")
    parser.add_argument("--source-map", action="append", default=[], metavar="FROM=TO",
                        help="read sources under FROM from TO instead (repeatable)")
    parser.add_argument("--kv", action="append", default=[], metavar="KEY=VALUE",
                        help="an attribute to store in the snapshot (repeatable)")
    parser.add_argument("--global", dest="globals", action="append", default=[], metavar="NAME",
                        help="a global variable to capture (repeatable)")
    parser.add_argument("--rules", metavar="FILE",
                        help="fingerprint rules to use before the defaults (also the config's `fingerprint_rules`)")
    parser.add_argument("--no-analysis", action="store_true", help="skip classifiers, annotations and the fingerprint")
    parser.add_argument("--memory", choices=MEMORY_CHOICES, default="default",
                        help="memory a snapshot keeps: stacks, objects in reach and the program's globals "
                             "(default); and every heap mapping (heap); and every writable mapping (all)")
    parser.add_argument("--env", action="store_true",
                        help="keep the environment variables (they may hold secrets; without this "
                             "their memory is blanked)")
    parser.add_argument("--symbols", action="append", default=[], metavar="DIR",
                        help="minidumps: a folder of Breakpad .sym files (symbol-server layout) or "
                             "ELF files (repeatable; also HYDRA_SYMBOL_PATH and the config's `symbols`)")


def _snap_arguments(snap) -> None:
    snap.add_argument("core", metavar="CORE", nargs="?", help="a core file or a minidump")
    snap.add_argument("--pid", type=int, help="snapshot this running process (it is stopped for a moment)")
    snap.add_argument("-o", "--output", metavar="OUT.hsnap")
    _capture_arguments(snap)


def _bt_arguments(bt) -> None:
    bt.add_argument("files", nargs="+", metavar="FILE",
                    help="snapshots, cores or minidumps (several: one JSON line each with --json, "
                         "read on every core)")
    bt.add_argument("--json", action="store_true", help="print JSON")
    bt.add_argument("--full", action="store_true", help="add arguments' and locals' values")
    bt.add_argument("--thread", type=int, metavar="TID", help="only this thread")
    _capture_arguments(bt)


def _index_arguments(index) -> None:
    index.add_argument("paths", nargs="+", metavar="PATH",
                       help="cores, minidumps and snapshots, and folders holding them (walked)")
    index.add_argument("--db", metavar="PATH", help="the store (default: $XDG_DATA_HOME/hydra/crashes.db)")
    index.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: every core)")
    index.add_argument("--keep-snapshots", action="store_true",
                       help="keep each crash's snapshot beside the store, named by its content hash")
    _capture_arguments(index)


def _query_arguments(query) -> None:
    query.add_argument("--db", metavar="PATH", help="the store (default: $XDG_DATA_HOME/hydra/crashes.db)")
    query.add_argument("--where", action="append", default=[], metavar="COND",
                       help="FIELD OP VALUE, OP one of = != < <= > >= ~; FIELD a column, classifier or "
                            "attr.NAME; severity compares by tier (repeatable: all must hold)")
    query.add_argument("--since", metavar="SPAN", help="crashed within this span: 30m, 24h, 7d, 2w")
    query.add_argument("--classifier", action="append", default=[], metavar="NAME", help="has this classifier")
    query.add_argument("--group-by", metavar="FIELD",
                       help="fingerprint (buckets), day (per-day counts), a column or attr.NAME")
    query.add_argument("--histogram", action="store_true", help="grouped: a bar for each row's count")
    query.add_argument("--select", metavar="F,F,...", help="the columns to list")
    query.add_argument("--sort", metavar="FIELD", help="a column (-FIELD: descending); grouped: count, first, last")
    query.add_argument("--limit", type=int, metavar="N")
    shape = query.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON")
    shape.add_argument("--csv", action="store_true", help="print CSV")


def _triage_arguments(triage) -> None:
    triage.add_argument("--db", metavar="PATH", help="the store (default: $XDG_DATA_HOME/hydra/crashes.db)")
    triage.add_argument("--theme", metavar="NAME")
    triage.add_argument("-m", "--monochrome", action="store_true", help="no colour (also when NO_COLOR is set)")
    _capture_arguments(triage)          # for the crashes opened from it


def _bucket_arguments(bucket) -> None:
    bucket.add_argument("action", choices=("set", "note", "link", "merge"))
    bucket.add_argument("fingerprint", metavar="FP", help="the fingerprint (a unique prefix will do)")
    bucket.add_argument("text", nargs="?", metavar="TEXT-URL-OR-FP",
                        help="the note, the issue URL, or (merge) the bucket to merge into FP")
    bucket.add_argument("--state", choices=("open", "ignored", "fixed"))
    bucket.add_argument("--version", metavar="V", help="with --state fixed: the version that fixed it")
    bucket.add_argument("--db", metavar="PATH", help="the store (default: $XDG_DATA_HOME/hydra/crashes.db)")


def _fingerprint_arguments(fingerprint) -> None:
    fingerprint.add_argument("files", nargs="+", metavar="FILE", help="snapshots, cores and minidumps")
    fingerprint.add_argument("--json", action="store_true", help="print JSON")
    _capture_arguments(fingerprint)


def _question_arguments(question) -> None:
    question.add_argument("file", metavar="FILE", help="a snapshot (or a core, captured first)")
    question.add_argument("expression", metavar="EXPR", nargs="+", help="the expression (or address)")
    question.add_argument("--thread", type=int, metavar="TID", help="in this thread (default: the crashed one)")
    question.add_argument("--frame", type=int, metavar="N", default=0, help="in this frame (default: 0)")
    question.add_argument("--json", action="store_true", help="print JSON")
    _capture_arguments(question)


def _x_arguments(examine) -> None:
    _question_arguments(examine)
    examine.add_argument("--count", type=int, default=1, metavar="N", help="units to show")
    examine.add_argument("--unit", choices=("b", "h", "w", "g"), help="unit size (default: w)")
    examine.add_argument("--format", default="x", metavar="F", help="x d u o t a c f s i z (default: x)")


def _coresnap_arguments(coresnap) -> None:
    actions = coresnap.add_subparsers(dest="action", required=True)

    def archive_options(sub):
        sub.add_argument("--dir", help="the archive (default: the config's [coresnap] dir)")
        sub.add_argument("--config", help="the config file with the [coresnap] table")
        return sub

    archive_options(actions.add_parser("install", help="make the kernel pipe cores to hydra"))
    archive_options(actions.add_parser("uninstall", help="restore the previous core_pattern"))
    handle = archive_options(actions.add_parser("handle", help="what the kernel runs: the core on stdin"))
    handle.add_argument("fields", nargs="+", metavar="FIELD",
                        help="%%P %%I %%s %%t %%u %%g %%E: pid, thread, signal, time, uid, gid, and the "
                             "executable with ! for / (an older install passes %%P %%I %%s %%t %%E)")
    archive_options(actions.add_parser("list", help="the archive's entries"))
    retry = archive_options(actions.add_parser("retry", help="make the snapshot of a pending entry again"))
    retry.add_argument("id")
    process = archive_options(actions.add_parser("process", help="the snapshot step of one entry"))
    process.add_argument("id")
    archive_options(actions.add_parser("purge", help="remove entries older than purge.age"))


# each command: its help line, and what adds its arguments (made for the command run only:
# two hundred arguments cost a start about 5 ms)
SUBCOMMANDS = (
    ("snap", "capture a core, a minidump or a running process into a snapshot", _snap_arguments),
    ("bt", "print every thread's backtrace", _bt_arguments),
    ("index", "add crashes to the crash store", _index_arguments),
    ("query", "ask the crash store", _query_arguments),
    ("triage", "the crash store's buckets in the terminal", _triage_arguments),
    ("bucket", "set a bucket's triage state, note or issue link", _bucket_arguments),
    ("fingerprint", "group crashes by fingerprint", _fingerprint_arguments),
    ("print", "evaluate an expression as gdb's print does (print/x FILE EXPR: a format)", _question_arguments),
    ("ptype", "a type, or an expression's type, written out as gdb's ptype does", _question_arguments),
    ("whatis", "the name of a type or an expression's type, as gdb's whatis", _question_arguments),
    ("x", "examine memory as gdb's x does", _x_arguments),
    ("coresnap", "collect every crash on this machine as a snapshot", _coresnap_arguments),
)


COMMANDS = tuple(name for name, _what, _arguments in SUBCOMMANDS)


def _parser(command: str | None = None):
    """The command line's parser; with command, only that command's arguments are added."""
    parser = _parser_class()(prog="hydra", description="Post-mortem debugger for native programs.")
    parser.add_argument("--version", action="version", version=f"hydra {__version__}")
    # the usage names every command, while only the one being run gets its parser: each
    # parser costs argparse a tenth of a millisecond, most of it looking for translations
    commands = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    for name, what, arguments in SUBCOMMANDS:
        if command is None or command == name:
            arguments(commands.add_parser(name, help=what))
    return parser


@functools.cache
def _user_config():
    """The user's config, read once by the command line and handed to what needs it."""
    from hydra.config import load_config

    return load_config()


def _open_crash(args, path: str, kind: str | None = None, analysis: bool | None = None):
    """The crash in path as the command's options open it: a core captured with them, a
    minidump walked with --symbols (and the config's folders), the analysis as asked."""
    from hydra.loader import detect, open_crash

    kind = kind or detect(path)
    return open_crash(path, _capture_options(args) if kind == "core" else None, args.symbols,
                      rules_file(args),
                      not args.no_analysis if analysis is None else analysis, config=_user_config())


def _capture_options(args):
    from hydra.capture.options import CaptureOptions
    from hydra.symbols import debugcache, scopecache

    config = _user_config()
    return CaptureOptions(exe=args.exe, sysroot=args.sysroot, debug_dirs=args.debug_dir,
                          source_maps=args.source_map, kv=args.kv, globals=args.globals,
                          rules=rules_file(args), analysis=not args.no_analysis,
                          debug_cache=debugcache.directory(config),
                          scope_cache=scopecache.directory(config), environment=args.env, memory=args.memory,
                          written=getattr(args, "command", None) in ("snap", "index"))


def rules_file(args) -> str | None:
    return args.rules or _user_config().fingerprint_rules


def _warn(crash, limit: int | None = None) -> None:
    for warning in crash.warnings[:limit]:
        print(f"hydra: warning: {printable(warning)}", file=sys.stderr)


def _view_parser():
    parser = _parser_class()(
        prog="hydra", description="Post-mortem debugger for native programs. "
        "Commands: hydra snap, hydra bt, hydra fingerprint, hydra coresnap (each with --help).")
    parser.add_argument("--version", action="version", version=f"hydra {__version__}")
    _view_arguments(parser)
    return parser


def _view_arguments(parser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE",
                        help="a snapshot, a core or a minidump (default: the bundled sample)")
    parser.add_argument("--theme", metavar="NAME", help="hydra-dark, hydra-light, hydra-contrast, or a theme of yours")
    parser.add_argument("-m", "--monochrome", action="store_true", help="no colour (also when NO_COLOR is set)")
    parser.add_argument("--goto", metavar="POSITION", help="open at a position copied with y")
    parser.add_argument("--no-mouse", action="store_true", help="leave the mouse to the terminal")
    _capture_arguments(parser)


def _declaration(command: str | None):
    """What adds a command's arguments to a parser (the viewer's, for None)."""
    return next((declare for name, _what, declare in SUBCOMMANDS if name == command), _view_arguments)


def _parse(argv: list[str]):
    """The command line's arguments: read directly when plain, else by argparse (which also
    answers --help and says what is wrong)."""
    from hydra.commandline import recorded

    command = argv[0] if argv and argv[0] in COMMANDS else None
    arguments = recorded(_declaration(command))
    args = arguments.parse(argv[1:] if command else argv) if arguments is not None else None
    if args is None:
        return (_parser(command) if command else _view_parser()).parse_args(argv)
    if command:
        args.command = command
    return args


def default_sample() -> str:
    from hydra.resources import sample

    return sample("default.hsnap")


def _view(argv: list[str]) -> int:
    from hydra.collector import held

    with held():
        return _open_view(argv)


def _open_view(argv: list[str]) -> int:
    args = _parse(argv)
    path = args.file or default_sample()
    from hydra.loader import detect

    goto = None
    if args.goto:
        from hydra.model.position import parse_position

        try:
            goto = parse_position(args.goto)
        except ValueError as error:
            raise BadInput(args.goto, str(error)) from None
    kind = detect(path)
    if kind == "core":
        print(f"hydra: capturing {path} ...", file=sys.stderr)
    crash = _open_crash(args, path, kind)
    _warn(crash, 20)
    if args.monochrome:
        os.environ["NO_COLOR"] = "1"
    from hydra.tui.themes import load_themes

    config = _user_config()
    themes, syntax, problems = load_themes()
    for problem in problems + config.problems:
        print(f"hydra: warning: {problem}", file=sys.stderr)
    theme = args.theme or config.theme or "hydra-dark"
    from textual.theme import BUILTIN_THEMES

    if theme not in themes and theme not in BUILTIN_THEMES:
        names = ", ".join(sorted(set(themes) | set(BUILTIN_THEMES)))
        raise BadInput(theme, f"no such theme; available: {names}")
    from hydra.tui.app import HydraApp

    app = HydraApp(crash, source_name=os.path.basename(path), theme=theme, goto=goto,
                   keymap=config.keys, syntax=syntax, themes=themes)
    app.run(mouse=not args.no_mouse, headless=bool(os.environ.get("HYDRA_EXIT_ON_READY")))
    return app.return_code or 0


def _run(argv: list[str]) -> int:
    fmt = None
    if argv and argv[0].startswith(("print/", "p/", "x/")):       # gdb's print/x and x/4xw
        word, _, fmt = argv[0].partition("/")
        argv = ["print" if word == "p" else word] + argv[1:]
    if not argv or argv[0] not in COMMANDS:
        return _view(argv)
    args = _parse(argv)
    if args.command in QUESTIONS:
        return _question(args, fmt)
    if args.command in ("snap", "bt"):
        # one crash is read, written or printed, then the process ends: its objects are
        # acyclic trees the cycle collector would rescan many times to free nothing
        gc.disable()
        _exit_at_once.append(True)
    elif args.command != "triage":       # the triage view resumes it with its first screen
        from hydra.collector import resume

        resume()                         # held while the command started (hydra.collector)

    from hydra.loader import detect

    if args.command == "snap" and args.pid is not None:
        return _snap_pid(args)

    if args.command == "snap":
        if args.core is None:
            raise BadInput("hydra snap", "give a core file, a minidump, or --pid PID")
        kind = detect(args.core)
        if kind not in ("core", "minidump"):
            raise BadInput(args.core, "not an ELF core file or a minidump")
        crash = _open_crash(args, args.core, kind)
        _warn(crash)
        from hydra.snapshot.format import write_snapshot

        output = args.output or os.path.basename(args.core) + ".hsnap"
        if os.path.isdir(output):
            raise BadInput(output, "is a directory; give -o a file name")
        try:
            size = write_snapshot(crash, output)
        except OSError as error:
            raise BadInput(output, f"cannot write: {error.strerror or error}") from None
        ratio = ""
        if crash.process.core_size and crash.origin == "core":
            from hydra.model.files import data_bytes

            with open(args.core, "rb") as core:
                data = data_bytes(core.fileno()) or crash.process.core_size
            ratio = f" ({100.0 * size / data:.1f}% of the core's {data // 1024} KiB of data)"
        print(f"hydra: wrote {output}: {size} bytes{ratio}", file=sys.stderr)
        return 0

    if args.command == "fingerprint":
        return _fingerprint(args)

    if args.command in ("index", "query", "bucket"):
        return _store_command(args)

    if args.command == "triage":
        return _triage(args)

    if args.command == "coresnap":
        return _coresnap(args)

    if args.command == "bt":
        if len(args.files) > 1:
            return _bt_batch(args)
        args.file = args.files[0]
        crash = _open_crash(args, args.file)
        _warn(crash)
        from hydra.report.backtrace import format_json, format_text

        if args.thread is not None and crash.thread(args.thread) is None:
            raise BadInput(args.file, f"no thread {args.thread} in this crash")
        if args.json:
            from hydra.report.jsontext import dumps

            sys.stdout.write(dumps(format_json(crash, args.full, args.thread), indent=1) + "\n")
        else:
            sys.stdout.write(format_text(crash, args.full, args.thread))
        return 0
    return 2


def _store_command(args) -> int:
    from hydra.store.db import default_path, is_url, open_store

    connection = open_store(args.db)
    if args.command == "index":
        from hydra.store.index import index, terminal_progress

        # beside a SQLite store; a PostgreSQL store's beside where a SQLite one would be
        beside = default_path() if is_url(args.db) else (args.db or default_path())
        keep = os.path.join(os.path.dirname(os.path.abspath(beside)), "snapshots") if args.keep_snapshots else None
        summary = index(connection, args.paths, args.jobs, symbols=args.symbols, rules=rules_file(args),
                        capture=_capture_options(args), keep=keep, progress=terminal_progress(),
                        config=_user_config())
        for line in summary.bad:
            print(f"hydra: {line}", file=sys.stderr)
        print(f"hydra: indexed {summary.indexed}, already there {summary.skipped}, bad {len(summary.bad)}",
              file=sys.stderr)
        return 2 if summary.bad else 0
    if args.command == "query":
        from hydra.store import output
        from hydra.store.query import Query, run

        query = Query(where=args.where, since=args.since, classifiers=args.classifier, group_by=args.group_by,
                      select=[name.strip() for name in args.select.split(",")] if args.select else None,
                      sort=args.sort, limit=args.limit)
        names, rows = run(connection, query)
        if args.json or args.csv:
            sys.stdout.write((output.as_json if args.json else output.as_csv)(names, rows))
        else:
            sys.stdout.write(output.table(names, rows, bars=args.histogram))
        return 0
    return _bucket(connection, args)


def _triage(args) -> int:
    from hydra.collector import held

    with held():
        return _open_triage(args)


def _open_triage(args) -> int:
    from hydra.store.db import open_store
    from hydra.tui.themes import load_themes

    connection = open_store(args.db)
    if args.monochrome:
        os.environ["NO_COLOR"] = "1"
    config = _user_config()
    themes, syntax, _problems = load_themes()
    theme = args.theme or config.theme or "hydra-dark"

    def opened(path: str):
        return _open_crash(args, path, analysis=True)

    def debugger(crash, path: str):
        from hydra.tui.app import HydraApp

        return HydraApp(crash, source_name=os.path.basename(path), theme=theme, keymap=config.keys,
                        syntax=syntax, themes=themes)

    from hydra.tui.triage import run_triage

    return run_triage(connection, opened, debugger, theme=theme, themes=themes, keymap=config.keys)


def _one_bucket(connection, prefix: str) -> tuple[str, str]:
    rows = connection.execute("SELECT fingerprint, program FROM buckets WHERE fingerprint LIKE ?",
                              (prefix.replace("%", "").replace("_", "") + "%",)).fetchall()
    if len(rows) != 1:
        raise BadInput(prefix, "no such bucket" if not rows else f"names {len(rows)} buckets: give more of it")
    return rows[0]


def _bucket(connection, args) -> int:
    fingerprint, program = _one_bucket(connection, args.fingerprint)
    if args.action == "merge":
        if not args.text:
            raise BadInput("bucket merge", "give the bucket to merge into FP")
        other, other_program = _one_bucket(connection, args.text)
        if other_program != program:
            raise BadInput(args.text, f"is a bucket of {other_program or 'no program'}, not of {program}")
        if other == fingerprint:
            raise BadInput(args.text, "is the same bucket")
        with connection.transaction():
            # what was merged into the other bucket follows it
            connection.execute("UPDATE merges SET into_fingerprint = ? WHERE into_fingerprint = ? AND program = ?",
                               (fingerprint, other, program))
            connection.execute("INSERT INTO merges (fingerprint, program, into_fingerprint) VALUES (?, ?, ?) "
                               "ON CONFLICT (fingerprint, program) DO UPDATE SET "
                               "into_fingerprint = excluded.into_fingerprint", (other, program, fingerprint))
        return 0
    if args.action == "set":
        if args.state is None:
            raise BadInput("bucket set", "give --state open|ignored|fixed")
        if args.version and args.state != "fixed":
            raise BadInput("--version", "only with --state fixed")
        changes = {"state": args.state, "fixed_version": args.version if args.state == "fixed" else None}
    elif not args.text:
        raise BadInput(f"bucket {args.action}", "give the text" if args.action == "note" else "give the URL")
    else:
        changes = {"note" if args.action == "note" else "issue_url": args.text}
    with connection.transaction():
        connection.execute(f"UPDATE buckets SET {', '.join(f'{k} = ?' for k in changes)} "
                           "WHERE fingerprint = ? AND program = ?", [*changes.values(), fingerprint, program])
    return 0


_batch_args = None


def _bt_one(path: str) -> tuple[str, str | None, list[str]]:
    """One file of a batch, in a worker: (its output, the error line or None, warnings).
    A file that trips a bug gets its line, as a bad file does: the batch goes on."""
    try:
        return _bt_read(path)
    except BadInput as error:
        return "", f"hydra: {printable(error.path)}: {printable(error.reason)}", []
    except MemoryError:
        return "", f"hydra: {printable(path)}: out of memory while reading it", []
    except Exception as error:
        if os.environ.get("HYDRA_DEBUG"):
            raise
        return "", f"hydra: {printable(path)}: {_internal_error(error)}", []


def _internal_error(error: Exception) -> str:
    """How a bug is told to users (HYDRA_DEBUG shows the traceback instead)."""
    return f"internal error: {printable(type(error).__name__)}: {printable(str(error))} (HYDRA_DEBUG=1 shows more)"


def _bt_read(path: str) -> tuple[str, None, list[str]]:
    from hydra.report.backtrace import format_json, format_text

    args = _batch_args
    crash = _open_crash(args, path)
    if args.thread is not None and crash.thread(args.thread) is None:
        raise BadInput(path, f"no thread {args.thread} in this crash")
    warnings = [f"hydra: {printable(path)}: warning: {printable(warning)}" for warning in crash.warnings[:20]]
    if args.json:
        document = format_json(crash, args.full, args.thread)
        document.pop("conventions")        # said once by `bt --json FILE`, not on every line
        from hydra.report.jsontext import dumps

        return dumps({"file": path, **document}) + "\n", None, warnings
    return f"==> {printable(path)} <==\n" + format_text(crash, args.full, args.thread) + "\n", None, warnings


def _bt_lost(died) -> tuple[str, str, list[str]]:
    return "", f"hydra: {printable(died.item)}: {died}", []


def _bt_batch(args) -> int:
    """`bt A B C…`: each file's backtrace in the order given (with --json one object per
    line, carrying `file`), read by a pool of processes, one per core. A file that cannot
    be read gives its one line on stderr (and with --json a line with `error`); the others
    go on, and the status is 2."""
    from hydra.workers import in_workers
    import hydra.report.backtrace  # noqa: F401  (imported once, before the workers are forked)

    global _batch_args
    _batch_args = args
    failed = 0
    results = in_workers(_bt_one, args.files, chunk=2, lost=_bt_lost)
    for path, (output, error, warnings) in zip(args.files, results):
        for warning in warnings:
            print(warning, file=sys.stderr)
        if error is not None:
            failed += 1
            print(error, file=sys.stderr)
            if args.json:
                from hydra.report.jsontext import dumps

                output = dumps({"file": path, "error": error.removeprefix("hydra: ")}) + "\n"
        sys.stdout.write(output)
        sys.stdout.flush()
    return 2 if failed else 0


def _question(args, fmt: str | None) -> int:
    """print, ptype, whatis and x over a snapshot: one answer, or one line and status 2."""
    from hydra.evaluate import EvalError, Session
    from hydra.evaluate.commands import run_command
    from hydra.loader import detect

    gc.disable()
    _exit_at_once.append(True)
    kind = detect(args.file)
    crash = _open_crash(args, args.file, kind)
    thread = crash.thread(args.thread) if args.thread is not None else crash.crashed_thread
    if thread is None:
        raise BadInput(args.file, f"no thread {args.thread} in this crash" if args.thread is not None
                       else "no threads in this crash")
    frame = next((f for f in thread.frames if f.index == args.frame), None)
    if frame is None and (args.frame or thread.frames):
        raise BadInput(args.file, f"no frame #{args.frame} in thread {thread.tid}")
    if not len(crash.types) and kind != "core":
        _warn_once(args.file, "this snapshot has no type table (made by an older Hydra, or a minidump): "
                              "only registers and symbols can be asked")
    session = Session(crash, thread, frame)
    expression = " ".join(args.expression)
    if args.command == "x":
        spec = fmt if fmt is not None else f"{args.count}{args.format}{args.unit or ''}"
        line = f"x/{spec} {expression}"
    else:
        line = f"{args.command}{'/' + fmt if fmt else ''} {expression}"
    try:
        text = run_command(session, line)
    except EvalError as error:
        raise BadInput(expression, error.message) from None
    if args.json:
        from hydra.report.jsontext import dumps

        sys.stdout.write(dumps({"command": line, "thread": thread.tid, "frame": args.frame, "output": text}) + "\n")
    else:
        # names and text from the dump may hold control bytes: escaped (the tabs are x's own)
        shown = "\n".join("\t".join(printable(cell) for cell in row.split("\t")) for row in text.split("\n"))
        sys.stdout.write(shown + "\n")
    return 0


def _warn_once(path: str, text: str) -> None:
    print(f"hydra: {printable(path)}: {text}", file=sys.stderr)


def _snap_pid(args) -> int:
    from hydra.live.snapshot import snap_pid
    from hydra.snapshot.format import write_snapshot

    if args.core is not None:
        raise BadInput(args.core, "give either a core or --pid, not both")
    output = args.output or f"pid-{args.pid}.hsnap"
    if os.path.isdir(output):
        raise BadInput(output, "is a directory; give -o a file name")
    crash = snap_pid(args.pid, _capture_options(args), args.env)
    _warn(crash)
    try:
        size = write_snapshot(crash, output)
    except OSError as error:
        raise BadInput(output, f"cannot write: {error.strerror or error}") from None
    print(f"hydra: wrote {output}: {size} bytes; process {args.pid} was stopped for "
          f"{crash.system['stopped_seconds'] * 1000:.1f} ms", file=sys.stderr)
    return 0


def _coresnap(args) -> int:
    from hydra.config import NO_USER_FILES

    if args.action in ("handle", "process"):
        # the kernel runs these as root with HOME=/: nothing but the archive and the named config
        os.environ[NO_USER_FILES] = "1"
    from hydra.coresnap import handler
    from hydra.coresnap.archive import Archive
    from hydra.coresnap.folder import UnsafeFolder
    from hydra.coresnap.settings import SettingsError, load_settings

    settings = load_settings(args.config, args.dir)
    if args.action == "handle":
        fields = args.fields
        if len(fields) not in (5, 7) or not all(f.lstrip("-").isdigit() for f in fields[:-1]):
            raise BadInput("hydra coresnap handle", "expects PID TID SIGNAL TIME [UID GID] EXECUTABLE")
        numbers = [int(f) for f in fields[:-1]]
        uid, gid = (numbers[4], numbers[5]) if len(fields) == 7 else (None, None)
        return handler.handle(settings, *numbers[:4], fields[-1], uid, gid)
    if args.action == "install":
        from hydra.coresnap.install import install

        try:
            settings.need("dir")
            line, notes = install(settings)
        except PermissionError:
            raise BadInput("/proc/sys/kernel/core_pattern", "permission denied (run as root)") from None
        except (ValueError, UnsafeFolder) as error:
            raise BadInput(settings.directory, str(error)) from None
        for note in notes:
            print(f"hydra: note: {note}", file=sys.stderr)
        print(f"hydra: core_pattern is now {line}", file=sys.stderr)
        return 0
    if args.action == "uninstall":
        from hydra.coresnap.install import uninstall

        try:
            previous = uninstall(settings.directory)
        except PermissionError:
            raise BadInput("/proc/sys/kernel/core_pattern", "permission denied (run as root)") from None
        except UnsafeFolder as error:
            raise BadInput(settings.directory, str(error)) from None
        print(f"hydra: core_pattern is {printable(previous)} again", file=sys.stderr)
        return 0
    try:
        archive = Archive(settings.directory)
    except FileNotFoundError:
        if args.action == "list":
            sys.stdout.write(handler.list_entries(None))
            return 0
        raise BadInput(settings.directory, "no archive here (hydra coresnap install makes it)") from None
    except (UnsafeFolder, OSError) as error:
        raise BadInput(settings.directory, f"archive refused: {getattr(error, 'strerror', None) or error}") from None
    try:
        if args.action == "list":
            sys.stdout.write(handler.list_entries(archive))
            return 0
        if args.action == "process":
            return handler.process(settings, args.id)
        if args.action == "retry":
            entry = handler.retry(settings, archive, args.id)
            if entry.error:
                raise BadInput(args.id, f"{entry.state}: {entry.error}")
            print(f"hydra: {args.id}: {entry.state}, {printable(entry.snapshot)}", file=sys.stderr)
            return 0
        if args.action == "purge":
            removed = handler.purge(settings, archive)
            print(f"hydra: purged {len(removed)} entries" + (" (purge.disabled)" if settings.purge_disabled else ""),
                  file=sys.stderr)
            return 0
    except SettingsError as error:
        raise BadInput(settings.config_file or "config", str(error).removeprefix(f"{settings.config_file}: "))
    return 2


def _fingerprint(args) -> int:
    from hydra.analysis.fingerprint import RulesError, fingerprint, load_rules
    from hydra.loader import detect
    from hydra.report.buckets import buckets_json, crash_time, format_buckets, group

    rules_path = rules_file(args)
    try:
        rules = load_rules(rules_path)
    except RulesError as error:
        message, prefix = str(error), f"{rules_path}: "
        raise BadInput(rules_path or "rules", message.removeprefix(prefix) if rules_path else message) from None
    entries = []
    failed = 0
    for path in args.files:
        try:
            kind = detect(path)
            crash = _open_crash(args, path, kind, analysis=True)
        except BadInput as error:
            print(f"hydra: {printable(error.path)}: {printable(error.reason)}", file=sys.stderr)
            failed += 1
            continue
        digest, frames = fingerprint(crash, rules)
        entries.append((path, digest, frames, crash_time(crash, path, kind)))
    buckets = group(entries)
    if args.json:
        from hydra.report.jsontext import dumps

        sys.stdout.write(dumps(buckets_json(buckets), indent=1) + "\n")
    else:
        sys.stdout.write(format_buckets(buckets))
    return 2 if failed else 0


_exit_at_once: list[bool] = []


def console() -> None:
    """The `hydra` command. After a one-shot command the process ends without tearing the
    interpreter down: freeing a capture's objects and drgn's index one by one takes longer
    than the rest of a small capture's output, and nothing is left to release (the snapshot
    is renamed into place and the output flushed before this)."""
    code = main()
    if _exit_at_once:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except BrokenPipeError:
                pass
            except OSError as error:       # a full disk behind a redirection, say
                code = code or 1
                try:
                    os.write(2, f"hydra: cannot write the output: {error.strerror or error}\n".encode())
                except OSError:
                    pass
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _user_config.cache_clear()      # read again by each command (tests run several in one process)
    try:
        return _run(argv)
    except BadInput as error:
        print(f"hydra: {printable(error.path)}: {printable(error.reason)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            return 0
    except MemoryError:
        print("hydra: out of memory", file=sys.stderr)
        return 2
    except Exception as error:  # keep users away from tracebacks; HYDRA_DEBUG shows them
        if os.environ.get("HYDRA_DEBUG"):
            raise
        print(f"hydra: {_internal_error(error)}", file=sys.stderr)
        return 1
