#!/usr/bin/env python3
"""Minidump benchmark: `hydra bt --json` against Breakpad's minidump_stackwalk and
rust-minidump's minidump-stackwalk on every shared dump, and the symbol cache on a large
.sym file.

Whole processes, median of N runs, wall seconds and peak RSS (from wait4).

  --breakpad PATH        minidump_stackwalk (see ../shared/notes/minidump.md for building it)
  --rust-minidump PATH   minidump-stackwalk (rust-minidump's CLI; ../shared/notes/minidump.md
                         says where a build of 0.25.0 comes from): per-dump times, frames
                         aligned with its JSON, crash reasons, the batch's and index's throughput
  --large-sym FILE.sym   a large .sym file (e.g. `dump_syms large > large.sym` on the large_cpp
                         benchmark binary): measures the first open, which builds the cache,
                         and later opens of a dump whose stack points into that module

usage: minidump_bench.py [--runs N] [--data DIR] [--breakpad PATH] [--rust-minidump PATH] [--large-sym FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from capture_bench import interleaved, measure, median_of, prepare_bytecode  # noqa: E402

from tests.minidump.conftest import data_root  # noqa: E402

_SCRIPT = Path(sys.executable).with_name("hydra")
# what a user runs: the installed script, or the module where it is not installed
HYDRA = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hydra"]


def symbols_for(relative: str, data: Path) -> Path:
    return data / ("breakpad/symbols" if relative.startswith("breakpad") else "symbolic/symbols")


def compare(data: Path, runs: int, breakpad: str | None, rust: str | None) -> list[float]:
    print(f"{'dump':<48} {'hydra':>14} {'breakpad':>14} {'rust-minidump':>14} {'vs rust':>8}")
    ratios, rust_times = [], []
    for path in sorted(data.rglob("*.dmp")):
        if "microdumps" in path.parts:
            continue
        relative = str(path.relative_to(data))
        symbols = str(symbols_for(relative, data))
        ours = median_of(HYDRA + ["bt", "--json", str(path), "--symbols", symbols], runs)
        cells = [f"{ours[0]:.3f}s {ours[1]:4.0f}MB"]
        theirs = {}
        for name, command in (("breakpad", [breakpad, str(path), symbols] if breakpad else None),
                              ("rust", [rust, "--json", "--symbols-path", symbols, str(path)] if rust else None)):
            if command is None:
                cells.append("-")
                continue
            try:
                theirs[name] = median_of(command, runs)
                cells.append(f"{theirs[name][0]:.3f}s {theirs[name][1]:4.0f}MB")
            except RuntimeError:
                cells.append("failed")
        ratio = ours[0] / theirs["rust"][0] if "rust" in theirs else None
        if ratio:
            ratios.append(ratio)
            rust_times.append(theirs["rust"][0])
        print(f"{relative:<48} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14} {f'{ratio:.1f}x' if ratio else '-':>8}")
    if ratios:
        print(f"hydra / rust-minidump: median {statistics.median(ratios):.1f}x, worst {max(ratios):.1f}x")
        # the floor any Python front end starts from: the interpreter and nothing else
        bare = median_of([sys.executable, "-c", "pass"], runs)[0]
        print(f"the interpreter alone (`python -c pass`): {bare * 1000:.1f} ms, "
              f"{bare / statistics.median(rust_times):.1f}x rust-minidump's median dump")
        walk = warm_walks(data, runs)
        print(f"`hydra bt --json` in one process after its imports (the walk alone): median "
              f"{statistics.median(walk) * 1000:.1f} ms, worst {max(walk) * 1000:.1f} ms; "
              f"{statistics.median(walk) / statistics.median(rust_times):.1f}x rust-minidump's median dump")
    if breakpad:
        same, total = agreement(data, breakpad)
        print(f"frames (module, function, file, line) equal to minidump_stackwalk -m: {same} of {total} threads")
    return ratios


def rust_agreement(data: Path, rust: str) -> None:
    """Issue figures against rust-minidump's JSON on every dump: the share of its frames (all
    threads; module and offset) that Hydra's has in the same order, and the dumps whose crash
    reason is spelled the same. Hydra's inline frames are left out: rust-minidump lists
    inlined functions inside the frame that holds them."""
    import json
    import subprocess

    aligned = total = same_reason = dumps = 0
    differing = []
    for path in sorted(data.rglob("*.dmp")):
        if "microdumps" in path.parts:
            continue
        symbols = str(symbols_for(str(path.relative_to(data)), data))
        theirs = json.loads(subprocess.run([rust, "--json", "--symbols-path", symbols, str(path)],
                                           capture_output=True, text=True).stdout)
        ours = json.loads(subprocess.run(HYDRA + ["bt", "--json", str(path), "--symbols", symbols],
                                         capture_output=True, text=True).stdout)
        dumps += 1
        reason = (theirs.get("crash_info") or {}).get("type")
        if reason == ours.get("crash_reason"):
            same_reason += 1
        else:
            differing.append(f"{path.relative_to(data)}: {ours.get('crash_reason')!r} against {reason!r}")
        our_threads = {t["tid"]: t for t in ours["threads"]}
        for thread in theirs.get("threads", []):
            wanted = [((f.get("module") or "").lower(), int(f["module_offset"], 16) if f.get("module_offset") else None)
                      for f in thread["frames"]]
            mine = our_threads.get(thread["thread_id"], {"frames": []})["frames"]
            # rust-minidump places a caller's frame at its return address less one
            have = [(os.path.basename((f.get("module") or "").replace("\\", "/")).lower(),
                     f["module_offset"] - (f.get("trust") != "context") if f.get("module_offset") is not None else None)
                    for f in mine if not f.get("inline")]
            total += len(wanted)
            aligned += _common_in_order(wanted, have)
    print(f"against rust-minidump: {aligned} of {total} frames of all threads aligned in order "
          f"({100 * aligned / max(total, 1):.1f}%, target 95%); crash reason the same on {same_reason} of {dumps} dumps")
    for line in differing:
        print(f"  reason differs: {line}")


def _common_in_order(a: list, b: list) -> int:
    """The length of the longest common subsequence of a and b."""
    row = [0] * (len(b) + 1)
    for item in a:
        previous = 0
        for j, other in enumerate(b):
            current = row[j + 1]
            row[j + 1] = previous + 1 if item == other else max(row[j + 1], row[j])
            previous = current
    return row[-1]


def warm_walks(data: Path, runs: int) -> list[float]:
    """Each dump's `hydra bt --json` run again in this process: what is left of a run once the
    interpreter has started and every module is imported (best of N after a first run)."""
    import contextlib
    import io
    import time

    from hydra import cli

    walks = []
    for path in sorted(data.rglob("*.dmp")):
        if "microdumps" in path.parts:
            continue
        args = ["bt", "--json", str(path), "--symbols", str(symbols_for(str(path.relative_to(data)), data))]
        times = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                try:
                    cli.main(args)
                except SystemExit:
                    pass
            times.append(time.perf_counter() - started)
        walks.append(min(times[1:]))
    return walks


def agreement(data: Path, breakpad: str) -> tuple[int, int]:
    """Threads whose every frame names the same module, function, file and line as Breakpad's
    machine-readable output (Breakpad leaves out the thread that wrote the dump)."""
    import subprocess

    from hydra.minidump.opener import open_minidump

    same = total = 0
    for path in sorted(data.rglob("*.dmp")):
        if "microdumps" in path.parts:
            continue
        relative = str(path.relative_to(data))
        output = subprocess.run([breakpad, "-m", str(path), str(symbols_for(relative, data))],
                                capture_output=True, text=True).stdout
        theirs: dict[int, list] = {}
        for line in output.splitlines():
            fields = line.split("|")
            if len(fields) == 7 and fields[0].isdigit():
                theirs.setdefault(int(fields[0]), []).append(tuple(fields[2:6]))
        if not theirs:
            continue          # Breakpad prints no threads for a dump without an exception
        crash = open_minidump(str(path), [str(symbols_for(relative, data))], analysis=False)
        threads = [t for t in crash.threads if t.name != "(dump writer)"]
        for index, thread in enumerate(threads):
            ours = [((f.module or "").replace("\\", "/").rsplit("/", 1)[-1], f.function or "", f.file or "",
                     str(f.line or "")) for f in thread.frames]
            total += 1
            same += ours == theirs.get(index, [])
    return same, total


def large_symbols(sym: Path, runs: int) -> None:
    """A dump whose stack returns into 64 functions of the large module, opened with its .sym."""
    from tests.minidump import builder

    with open(sym, "rb") as handle:
        module_line = handle.readline().decode().split()
    debug_id, name = module_line[3], " ".join(module_line[4:])
    functions = []
    with open(sym, "rb") as handle:
        for raw in handle:
            if raw.startswith(b"FUNC "):
                fields = raw.split()
                if fields[1] == b"m":
                    fields = fields[1:]
                functions.append(int(fields[1], 16))
    picks = functions[:: max(1, len(functions) // 64)][:64]
    work = Path(tempfile.mkdtemp(prefix="hydra-sym-bench-"))
    try:
        folder = work / "symbols" / name / debug_id
        folder.mkdir(parents=True)
        os.symlink(sym, folder / f"{name}.sym")
        data = builder.linux_crash(module=f"/opt/{name}", build_id=_build_id_for(debug_id).hex(),
                                   module_size=0x7FFFFFF0,
                                   return_addresses=tuple(builder.CODE + offset + 4 for offset in picks))
        dump = work / "large.dmp"
        dump.write_bytes(data)
        env_cache = work / "cache"
        os.environ["XDG_CACHE_HOME"] = str(env_cache)
        command = HYDRA + ["bt", "--json", str(dump), "--symbols", str(work / "symbols")]
        first = measure(command)
        later = median_of(command, runs)
        cache_size = sum(p.stat().st_size for p in env_cache.rglob("*.hsym"))
        print(f"large .sym: {sym.stat().st_size / 1e6:.0f} MB, {len(functions)} functions, cache {cache_size / 1e6:.0f} MB")
        print(f"  first open (parse and build the cache): {first[0]:.2f} s, {first[1]:.0f} MB")
        print(f"  later opens (cache):                    {later[0]:.3f} s, {later[1]:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_id_for(debug_id: str) -> bytes:
    """A 20-byte build-id whose Breakpad debug id is debug_id (the GUID fields swapped back)."""
    guid = bytes.fromhex(debug_id[:32])
    head = guid[:4][::-1] + guid[4:6][::-1] + guid[6:8][::-1] + guid[8:16]
    return head + b"\0" * 4


def _run(command: list[str]) -> None:
    """One process, timed by its caller: no GNU time around it (that would add a process
    to each of many short runs)."""
    import subprocess

    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def many_dumps(dumps: list[Path], symbols: str, runs: int, rust: str, copies: int = 10) -> None:
    """Throughput once start-up no longer counts: a folder of the dumps ten times over, each
    copy one byte longer than the last (a minidump's streams are found by offset: the byte
    changes nothing but the content hash, so the store keeps every copy as a crash of its
    own). `hydra index FOLDER` and `hydra bt --json` on all of them, against rust-minidump
    run once per file."""
    import time

    with tempfile.TemporaryDirectory(prefix="hydra-bench-dumps-") as folder:
        files = []
        for copy in range(copies):
            for number, path in enumerate(dumps):
                target = Path(folder) / f"{copy:02d}-{number:03d}.dmp"
                target.write_bytes(path.read_bytes() + bytes([copy]))
                files.append(str(target))

        def rust_loop() -> float:
            started = time.perf_counter()
            for path in files:
                _run([rust, "--json", "--symbols-path", symbols, path])
            return time.perf_counter() - started

        theirs = statistics.median(rust_loop() for _ in range(runs))
        batch = statistics.median(measure(HYDRA + ["bt", "--json", *files, "--symbols", symbols])[0]
                                  for _ in range(runs))
        indexing = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as store:
                indexing.append(measure(HYDRA + ["index", "--db", os.path.join(store, "crashes.db"), "--symbols",
                                                 symbols, folder])[0])
        index = statistics.median(indexing)
        print(f"{len(files)} dumps ({copies} copies of each): rust-minidump once per dump {theirs:.2f} s; "
              f"`hydra bt --json` on all {batch:.2f} s ({theirs / batch:.1f}x its throughput, target 2x); "
              f"`hydra index FOLDER` {index:.2f} s ({theirs / index:.1f}x, target 2x)")


# what `hydra bt --json` imports besides Python's own start and Hydra's code: the fingerprint
# rules' pattern engine (with functools). Its command line, JSON and symbol cache are read and
# written without argparse, json, re and msgpack (hydra.commandline, hydra.report.jsontext,
# marshal).
LIBRARIES = ("re2",)


def startup_and_batch(data: Path, runs: int, rust: str | None) -> None:
    """Issue figures: `hydra bt --json SMALL.dmp` against `python -c pass`; every dump in one
    `hydra bt --json A B …` against one process per dump (hydra's, and rust-minidump's when
    given); a first run with an empty symbol cache against a warm one."""
    import time

    dumps = [p for p in sorted(data.rglob("*.dmp")) if "microdumps" not in p.parts]
    small = min(dumps, key=lambda p: p.stat().st_size)
    symbols = str(data / "breakpad" / "symbols")
    (bt, _), (bare, _), (libraries, _) = interleaved(
        [HYDRA + ["bt", "--json", str(small), "--symbols", symbols], [sys.executable, "-c", "pass"],
         [sys.executable, "-c", f"import {', '.join(LIBRARIES)}"]], runs)
    print(f"start-up: `hydra bt --json {small.name}` ({small.stat().st_size} B) {bt * 1000:.0f} ms, "
          f"`python -c pass` {bare * 1000:.0f} ms: {bt / bare:.1f}x (target 2.5x)")
    print(f"  importing the libraries it is built on ({', '.join(LIBRARIES)}), no Hydra code: "
          f"{libraries * 1000:.0f} ms, {libraries / bare:.1f}x")

    def loop(command) -> float:
        started = time.perf_counter()
        for path in dumps:
            _run(command(path))
        return time.perf_counter() - started

    ours_loop = statistics.median(loop(lambda p: HYDRA + ["bt", "--json", str(p), "--symbols", symbols])
                                  for _ in range(runs))
    batch = statistics.median(measure(HYDRA + ["bt", "--json", *map(str, dumps), "--symbols", symbols])[0]
                              for _ in range(runs))
    print(f"batch of {len(dumps)} dumps on {os.cpu_count()} cores: one `hydra bt --json` per dump "
          f"{ours_loop:.2f} s, one batch process {batch:.2f} s ({ours_loop / batch:.1f}x the loop's throughput)")
    theirs = None
    if rust:
        theirs = statistics.median(loop(lambda p: [rust, "--json", "--symbols-path", symbols, str(p)])
                                   for _ in range(runs))
        print(f"  rust-minidump, one process per dump: {theirs:.2f} s: hydra's batch has "
              f"{theirs / batch:.1f}x its throughput (target 2x)")
        from concurrent.futures import ThreadPoolExecutor

        def on_every_core() -> float:
            started = time.perf_counter()
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                list(pool.map(lambda p: _run([rust, "--json", "--symbols-path", symbols, str(p)]), dumps))
            return time.perf_counter() - started

        spread = statistics.median(on_every_core() for _ in range(runs))
        print(f"  rust-minidump, one process per dump, {os.cpu_count()} at a time: {spread:.2f} s")
    indexing = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as store:
            indexing.append(measure(HYDRA + ["index", "--db", os.path.join(store, "crashes.db"), "--symbols",
                                             symbols, *map(str, dumps)])[0])
    print(f"`hydra index` of the {len(dumps)} dumps into a new store: {statistics.median(indexing):.2f} s"
          + (f": {theirs / statistics.median(indexing):.1f}x the throughput of rust-minidump's loop "
             f"(target 2x), {spread / statistics.median(indexing):.1f}x with rust-minidump on every core"
             if theirs else ""))
    if rust:
        many_dumps(dumps, symbols, runs, rust)
    cold = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "XDG_CACHE_HOME": cache}
            cold.append(measure(HYDRA + ["bt", "--json", *map(str, dumps), "--symbols", symbols], env)[0])
    print(f"cold symbol cache: the batch with an empty cache {statistics.median(cold):.2f} s, "
          f"warm {batch:.2f} s ({statistics.median(cold) / batch:.2f}x)"
          + (f"; {statistics.median(cold) / theirs:.2f}x rust-minidump's loop (target at most 2x)" if theirs else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=data_root())
    parser.add_argument("--breakpad")
    parser.add_argument("--rust-minidump")
    parser.add_argument("--large-sym", type=Path)
    args = parser.parse_args()
    if args.data is None:
        print("no minidump data: pass --data ../shared/data/minidumps", file=sys.stderr)
        return 2
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="hydra-bench-cache-"))
    prepare_bytecode()
    compare(args.data, args.runs, args.breakpad, args.rust_minidump)
    if args.rust_minidump:
        rust_agreement(args.data, args.rust_minidump)
    startup_and_batch(args.data, args.runs, args.rust_minidump)
    if args.large_sym:
        large_symbols(args.large_sym.resolve(), args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
