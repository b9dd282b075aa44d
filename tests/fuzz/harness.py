"""Fuzzing Hydra's readers: every kind of input it takes, mutated, through the commands.

Each case runs `hydra.cli.main` in a forked child of this process (the modules are loaded
once), with standard output and error captured, under a limit on memory (address space,
and peak RSS measured) and on time. A case ends as one of:

    clean       exit 0, or exit 2 with one line naming the problem
    internal    exit 1 with "internal error", a traceback, a crash of the child, a bad
                exit 2 (more than one line), or control bytes in what it printed
    over time   killed by the time limit
    over memory killed by the memory limit, MemoryError, or peak RSS above the limit

and the input file must come back unchanged. The kinds:

    snapshot   a real snapshot: bytes flipped or cut, and its index edited (values swapped
               for hostile ones: deep nesting, huge numbers, wrong types, control bytes)
    core       a real core, its headers and notes mutated
    minidump   the shared real dumps (when present) and built ones, mutated
    sym        a Breakpad .sym file, lines mutated, read for a dump that uses it
    rules      a fingerprint rules file, lines mutated

Long mode: python tests/fuzz/harness.py --cases 500 [--seed N] [--kinds snapshot,core]
[--keep DIR] prints a table of outcomes per kind; `make test` runs a short seeded run.
"""

from __future__ import annotations

import argparse
import hashlib
import lzma
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MEMORY_LIMIT = 256 << 20          # peak RSS a case may reach reading a file
ADDRESS_LIMIT = 4 << 30           # address space: drgn and libraries map much they never touch
TIME_LIMIT = 60                   # seconds of CPU for one case
OUTCOMES = ("clean", "internal", "over time", "over memory")
KINDS = ("snapshot", "core", "minidump", "sym", "rules")
CONTROL = set(range(0, 9)) | set(range(11, 32)) | {127}


@dataclass
class Case:
    kind: str
    args: list[str]
    path: Path


@dataclass
class Result:
    outcome: str
    detail: str = ""
    rss_mb: float = 0.0


@dataclass
class Tally:
    counts: dict[str, Counter] = field(default_factory=dict)
    failures: list[tuple[str, str, Path]] = field(default_factory=list)

    def add(self, case: Case, result: Result, keep: Path | None) -> None:
        self.counts.setdefault(case.kind, Counter())[result.outcome] += 1
        if result.outcome != "clean":
            kept = case.path
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                kept = keep / f"{case.kind}-{len(self.failures)}{case.path.suffix}"
                shutil.copy(case.path, kept)
            self.failures.append((case.kind, f"{result.outcome}: {result.detail}", kept))

    def table(self) -> str:
        lines = [f"{'kind':<10} {'inputs':>7} " + " ".join(f"{o:>12}" for o in OUTCOMES)]
        for kind in KINDS:
            if kind in self.counts:
                counts = self.counts[kind]
                lines.append(f"{kind:<10} {sum(counts.values()):>7} " + " ".join(f"{counts[o]:>12}" for o in OUTCOMES))
        return "\n".join(lines)


# ---------------------------------------------------------------- running one case

def run_case(args: list[str], time_limit: int = TIME_LIMIT) -> Result:
    """hydra's main(args) in a forked child: its outcome."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    child = os.fork()
    if child == 0:                    # pragma: no cover - the child reports through its status
        code = 70
        try:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))
            resource.setrlimit(resource.RLIMIT_CPU, (time_limit, time_limit + 5))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.alarm(time_limit * 3)
            from hydra.cli import main

            code = main(list(args))
            sys.stdout.flush()
            sys.stderr.flush()
        except MemoryError:
            code = 71
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 70
        finally:
            os._exit(code)
    _pid, status, usage = os.wait4(child, 0)
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read(), err.read()
    out.close()
    err.close()
    rss = usage.ru_maxrss / 1024
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number in (signal.SIGXCPU, signal.SIGALRM, signal.SIGKILL):
            return Result("over time", f"killed by {signal.Signals(number).name}", rss)
        return Result("internal", f"crashed with {signal.Signals(number).name}", rss)
    code = os.WEXITSTATUS(status)
    text = stderr.decode("utf-8", "replace")
    if code == 71 or "out of memory" in text:
        return Result("over memory", "MemoryError", rss)
    if rss > MEMORY_LIMIT / (1 << 20):
        return Result("over memory", f"peak RSS {rss:.0f} MB", rss)
    if code == 70 or "Traceback" in text or "internal error" in text or code not in (0, 2):
        return Result("internal", text.strip().splitlines()[-1][:300] if text.strip() else f"exit {code}", rss)
    if code == 2 and text.count("\n") != 1:
        return Result("internal", f"exit 2 with {text.count(chr(10))} lines: {text[:200]!r}", rss)
    bad = [b for b in set(stdout + stderr) if b in CONTROL]
    if bad:
        return Result("internal", f"control bytes {sorted(bad)[:5]} in the output", rss)
    return Result("clean", "", rss)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- mutations

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000,
               0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x4000000000000000, 0x1000, 0x10000]


def mutate_bytes(data: bytes, rng: random.Random, hot: int = 1 << 16) -> bytes:
    """Flips, overwrites with boundary values, cuts, copies and deletions; most of them in
    the first `hot` bytes, where headers and directories live."""
    out = bytearray(data)

    def position():
        limit = min(len(out), hot) if rng.random() < 0.7 else len(out)
        return rng.randrange(max(1, limit))

    for _ in range(rng.randrange(1, 6)):
        if not out:
            break
        choice = rng.randrange(6)
        at = position()
        if choice == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif choice == 1:
            width = rng.choice((1, 2, 4, 8))
            value = rng.choice(INTERESTING) & ((1 << (8 * width)) - 1)
            out[at:at + width] = value.to_bytes(width, "little")
        elif choice == 2:
            del out[rng.randrange(len(out)):]
        elif choice == 3:
            size = rng.randrange(1, 256)
            out[at:at] = out[position():][:size]
        elif choice == 4:
            del out[at:at + rng.randrange(1, 256)]
        else:
            for _ in range(rng.randrange(1, 32)):
                out[position()] = rng.randrange(256)
    return bytes(out)


def hostile_value(rng: random.Random, depth: int = 0):
    choice = rng.randrange(12)
    if choice == 0:
        value: object = "x"
        for _ in range(rng.choice((100, 1000))):
            value = [value]
        return value
    return [None, -1, 1 << 63, (1 << 64) - 1, "\x1b]0;t\x07\x1b[2J\u202e", "x" * 100000, b"\x00\xff" * 50,
            3.5e300, [], {}, {"k": [1, {"j": None}]}][choice - 1]


def mutate_document(document, rng: random.Random):
    """Replace a random node of a decoded msgpack tree with a hostile value."""
    for _ in range(rng.randrange(1, 4)):
        node = document
        path = []
        for _ in range(rng.randrange(1, 7)):
            if isinstance(node, dict) and node:
                key = rng.choice(list(node))
            elif isinstance(node, list) and node:
                key = rng.randrange(len(node))
            else:
                break
            path.append((node, key))
            node = node[key]
        if not path:
            continue
        parent, key = path[-1]
        parent[key] = hostile_value(rng)
    return document


def mutate_snapshot(data: bytes, rng: random.Random) -> bytes:
    import msgpack

    from hydra.snapshot.format import FLAG_LZMA_INDEX, HEADER, LZMA_FILTERS

    if rng.random() < 0.4:
        return mutate_bytes(data, rng)
    magic, major, minor, flags, offset, length, raw_length = HEADER.unpack_from(data, 0)
    compressed = data[offset:offset + length]
    raw = (lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=LZMA_FILTERS).decompress(compressed)
           if flags & FLAG_LZMA_INDEX else zlib.decompress(compressed))
    document = mutate_document(msgpack.unpackb(raw, raw=False, strict_map_key=False), rng)
    try:
        packed = msgpack.packb(document, use_bin_type=True)
    except ValueError:              # deeper than msgpack's packer goes
        return mutate_bytes(data, rng)
    index = zlib.compress(packed, 1)
    claimed = len(packed) if rng.random() < 0.8 else rng.choice((0, len(packed) // 2, 1 << 30, (1 << 64) - 1))
    return HEADER.pack(magic, major, minor, 0, offset, len(index), claimed) + data[HEADER.size:offset] + index


def mutate_lines(text: bytes, rng: random.Random) -> bytes:
    lines = text.split(b"\n")
    for _ in range(rng.randrange(1, 8)):
        if not lines:
            break
        at = rng.randrange(len(lines))
        choice = rng.randrange(6)
        if choice == 0:
            del lines[at]
        elif choice == 1:
            lines.insert(at, lines[rng.randrange(len(lines))])
        elif choice == 2:
            words = lines[at].split(b" ")
            words[rng.randrange(len(words))] = rng.choice([b"ffffffffffffffffffff", b"-1", b"", b"0",
                                                            b"\x1b[2J", b"(a+)+b", b"x" * 5000, b"9" * 40])
            lines[at] = b" ".join(words)
        elif choice == 3:
            lines[at] = mutate_bytes(lines[at], rng)
        elif choice == 4:
            lines[at:at] = [lines[at]] * rng.randrange(1, 500)
        else:
            lines.insert(at, rng.choice([b"rename (x+x+)+y => \\1\\1\\1", b"skip ((((a*)*)*)*)*b", b"frames 999999",
                                         b"detail line (", b"stop-after \\", b"FUNC m 0 0 0 x", b"STACK CFI INIT 0 0",
                                         b"INLINE 0 0 0 0", b"MODULE Linux x86_64 0 x"]))
    return b"\n".join(lines)


# ---------------------------------------------------------------- the corpus

@dataclass
class Corpus:
    snapshots: list[Path]
    cores: list[Path]
    minidumps: list[Path]
    sym: tuple[Path, Path, str] | None      # (dump, .sym file, its place in a symbol folder)
    rules: Path
    rules_target: Path


def build_corpus(work: Path) -> Corpus:
    """A core and a snapshot of a program crashed here, minidumps (built ones, and the
    shared real ones when present), a .sym file with its dump, and the default rules."""
    from hydra.analysis.fingerprint import DEFAULT_RULES
    from hydra.capture.engine import capture_core
    from hydra.snapshot.format import write_snapshot
    from tests.minidump import builder

    work.mkdir(parents=True, exist_ok=True)
    exe = work / "null_deref"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(ROOT / "tests/programs/null_deref.c")], check=True)
    run = work / "run"
    run.mkdir(exist_ok=True)
    for old in run.glob("core*"):
        old.unlink()
    subprocess.run([str(exe)], cwd=run, capture_output=True,
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (-1, -1)))
    [core] = list(run.glob("core*"))
    snapshot = work / "null.hsnap"
    write_snapshot(capture_core(str(core)), str(snapshot))
    snapshots = [snapshot] + sorted((ROOT / "sample_snapshots").glob("*.hsnap"))[:2]
    minidumps = []
    for index, data in enumerate([builder.linux_crash(), builder.linux_crash(copies=3)]):
        path = work / f"built{index}.dmp"
        path.write_bytes(data)
        minidumps.append(path)
    shared = None
    for candidate in (os.environ.get("HYDRA_MINIDUMP_DATA", ""), str(ROOT.parent / "shared/data/minidumps")):
        if candidate and (Path(candidate) / "INDEX.md").is_file():
            shared = Path(candidate)
            break
    sym = None
    if shared is not None:
        minidumps += sorted(p for p in shared.rglob("*.dmp") if "microdumps" not in p.parts)[:24]
        dump = shared / "breakpad/minidump2.dmp"
        sym_file = shared / "breakpad/symbols/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym"
        if dump.is_file() and sym_file.is_file():
            sym = (dump, sym_file, "test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym")
    return Corpus(snapshots, [core], minidumps, sym, Path(DEFAULT_RULES), snapshot)


def make_case(kind: str, corpus: Corpus, rng: random.Random, work: Path, number: int) -> Case | None:
    folder = work / "cases"
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "snapshot":
        path = folder / f"{number}.hsnap"
        path.write_bytes(mutate_snapshot(rng.choice(corpus.snapshots).read_bytes(), rng))
        command = rng.choice([["bt"], ["bt", "--json", "--full"], ["bt", "--full"], ["fingerprint", "--json"]])
        return Case(kind, command + [str(path)], path)
    if kind == "core":
        path = folder / f"{number}.core"
        path.write_bytes(mutate_bytes(rng.choice(corpus.cores).read_bytes(), rng))
        return Case(kind, ["bt", "--json", str(path)], path)
    if kind == "minidump":
        path = folder / f"{number}.dmp"
        path.write_bytes(mutate_bytes(rng.choice(corpus.minidumps).read_bytes(), rng))
        return Case(kind, rng.choice([["bt", "--json"], ["bt", "--full"], ["fingerprint"]]) + [str(path)], path)
    if kind == "sym":
        if corpus.sym is None:
            return None
        dump, sym_file, place = corpus.sym
        symbols = folder / f"sym{number}"
        target = symbols / place
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(mutate_lines(sym_file.read_bytes(), rng))
        return Case(kind, ["bt", "--json", "--symbols", str(symbols), str(dump)], target)
    if kind == "rules":
        path = folder / f"{number}.rules"
        path.write_bytes(mutate_lines(corpus.rules.read_bytes(), rng))
        return Case(kind, ["fingerprint", "--rules", str(path), str(corpus.rules_target)], path)
    raise ValueError(kind)


def in_child(work):
    """work() in a forked child, its result pickled back: this process starts no thread, so
    every case forked from it finds no lock held by a thread that is not there."""
    import pickle

    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:                   # pragma: no cover
        try:
            os.close(reader)
            data = pickle.dumps(work())
            with os.fdopen(writer, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as handle:
        data = handle.read()
    os.waitpid(child, 0)
    return pickle.loads(data)


def preload() -> None:
    """Import what the cases run (imports start no thread), so each case does not."""
    import hydra.capture.engine  # noqa: F401
    import hydra.cli  # noqa: F401
    import hydra.minidump.opener  # noqa: F401
    import hydra.report.backtrace  # noqa: F401
    import hydra.snapshot.format  # noqa: F401
    from hydra.analysis import aborts, evidence, faults, fingerprint, severity  # noqa: F401


def fuzz(kinds: list[str], cases: dict[str, int], seed: int, work: Path, keep: Path | None = None,
         report=None) -> Tally:
    os.environ.setdefault("XDG_CACHE_HOME", str(work / "cache"))
    corpus = in_child(lambda: build_corpus(work / "corpus"))
    preload()
    tally = Tally()
    inputs = corpus.snapshots + corpus.cores + corpus.minidumps + [corpus.rules]
    before = {path: digest(path) for path in inputs}
    for kind in kinds:
        rng = random.Random(f"{seed}-{kind}")
        for number in range(cases.get(kind, 0)):
            case = make_case(kind, corpus, rng, work, number)
            if case is None:
                break
            original = digest(case.path)
            result = run_case(case.args)
            if digest(case.path) != original:
                result = Result("internal", "the input file was modified")
            tally.add(case, result, keep)
            if report is not None:
                report(case, result)
            if result.outcome == "clean":
                if case.path.is_file():
                    case.path.unlink()
                else:
                    shutil.rmtree(case.path.parent, ignore_errors=True)
    for path, value in before.items():
        if digest(path) != value:
            tally.failures.append(("corpus", "an input file was modified", path))
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200, help="inputs per kind (cores: a tenth)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--keep", help="copy every input that did not end clean here")
    parser.add_argument("--work", help="work folder (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    args = parser.parse_args(argv)
    kinds = args.kinds.split(",")
    counts = {kind: args.cases for kind in kinds}
    counts["core"] = max(1, args.cases // 10)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="hydra-fuzz-"))
    started = time.time()

    def report(case, result):
        if result.outcome != "clean":
            print(f"  {case.kind}: {result.outcome}: {result.detail}", flush=True)

    if not args.json:
        print(f"seed {args.seed}, work folder {work}", flush=True)
    tally = fuzz(kinds, counts, args.seed, work, Path(args.keep) if args.keep else None,
                 None if args.json else report)
    if args.json:
        import json

        print(json.dumps({"counts": {k: dict(v) for k, v in tally.counts.items()},
                          "failures": [[kind, detail, str(path)] for kind, detail, path in tally.failures]}))
        return 0
    print(tally.table())
    print(f"{time.time() - started:.0f} s")
    for kind, detail, path in tally.failures:
        print(f"{kind}: {detail} ({path})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
