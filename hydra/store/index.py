"""`hydra index PATH...`: cores, minidumps and snapshots (files, and folders walked) into the
store. A crash's id is its file's content hash, so indexing again, or after an interruption,
adds only what is not there yet. Files are read by worker processes; the store is written by
this one."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time

from hydra.model import BadInput
from hydra.model.record import field, record
from hydra.model.text import printable
from hydra.store.db import Store

SUFFIXES = (".hsnap", ".dmp", ".core")
COMMIT_CRASHES = 256         # crashes committed together at most
COMMIT_SECONDS = 1.0         # and at least this often
CHUNK = 1 << 20


@record
class Summary:
    indexed: int = 0
    skipped: int = 0            # already in the store
    bad: list[str] = field(default_factory=list)


def candidates(paths: list[str]) -> list[str]:
    """The files named, and under the folders named those that look like crashes: snapshot
    and minidump suffixes, `core` and `core.*` names (links are not followed into folders)."""
    found = []
    for path in paths:
        if os.path.isdir(path):
            for folder, folders, files in os.walk(path):
                folders.sort()
                for name in sorted(files):
                    if name.endswith(SUFFIXES) or name == "core" or name.startswith("core."):
                        found.append(os.path.join(folder, name))
        else:
            found.append(path)
    return found


def content_id(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


_options: dict = {}


def _read(job: tuple[str, str]) -> tuple[str, str, dict | None, str | None]:
    """In a worker: (path, id, the crash's facts, or None and the error line)."""
    from hydra.analysis.fingerprint import fingerprint, load_rules
    from hydra.loader import detect, open_crash
    from hydra.report.buckets import crash_time
    from hydra.store.facts import crash_facts

    path, crash_id = job
    try:
        kind = detect(path)
        crash = open_crash(path, _options.get("capture") if kind == "core" else None, _options.get("symbols"),
                           _options.get("rules"), True, config=_options.get("config"))
        facts = crash_facts(crash, path, kind, fingerprint(crash, load_rules(_options.get("rules"))),
                            crash_time(crash, path, kind))
        if _options.get("keep"):
            facts["snapshot"] = _keep(crash, path, kind, crash_id, _options["keep"])
    except BadInput as error:
        return path, crash_id, None, f"{printable(error.path)}: {printable(error.reason)}"
    except Exception as error:        # a file no reader expected: logged, and the run goes on
        return path, crash_id, None, f"{printable(path)}: cannot read: {printable(type(error).__name__)}"
    return path, crash_id, facts, None


def _lost(died) -> tuple[str, str, None, str]:
    path, crash_id = died.item
    return path, crash_id, None, f"{printable(path)}: {died}"


def _keep(crash, path: str, kind: str, crash_id: str, folder: str) -> str:
    """The crash's snapshot under folder, named by its input's content hash (a snapshot
    given to index is copied as it is)."""
    import shutil

    from hydra.snapshot.format import write_snapshot

    target = os.path.join(folder, crash_id[:2], crash_id + ".hsnap")
    if not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        partial = f"{target}.{os.getpid()}.partial"
        try:
            if kind == "snapshot":
                shutil.copyfile(path, partial)
            else:
                write_snapshot(crash, partial)
            os.replace(partial, target)
        except OSError as error:
            raise BadInput(target, f"cannot write the snapshot: {error.strerror or error}") from None
    return target


def index(connection: Store, paths: list[str], jobs: int | None = None, *,
          symbols: list[str] | None = None, rules: str | None = None, capture=None,
          keep: str | None = None, progress=None, config=None) -> Summary:
    """keep: a folder to keep each crash's snapshot in (content-addressed); config: the
    user's config, whose symbol folders minidumps are walked with (read here if not given)."""
    summary = Summary()
    files = candidates(paths)
    known = {row[0] for row in connection.execute("SELECT id FROM crashes")}
    todo = []
    for path in files:
        try:
            crash_id = content_id(path)
        except OSError as error:
            summary.bad.append(f"{printable(path)}: cannot read: {printable(error.strerror or str(error))}")
            continue
        if crash_id in known:
            summary.skipped += 1
            continue
        known.add(crash_id)            # the same file named twice in one run
        todo.append((path, crash_id))
    if config is None:
        from hydra.config import load_config

        config = load_config()
    _options.update(symbols=symbols, rules=rules, capture=capture, keep=keep, config=config)
    if not todo:
        return summary
    from hydra.workers import in_workers
    # imported once, before the workers are forked, not in each of them
    import hydra.analysis.fingerprint  # noqa: F401
    import hydra.minidump.opener  # noqa: F401
    import hydra.report.buckets  # noqa: F401
    import hydra.store.facts  # noqa: F401

    started = time.monotonic()
    # crashes are committed in groups: a commit waits for the disk, longer than reading a
    # small dump takes; an interruption loses at most the group being gathered, which the
    # next run indexes (a crash's id is its content)
    waiting: list[tuple[str, dict]] = []
    committed = started

    def commit() -> None:
        if waiting:
            with connection.transaction():
                for crash_id, facts in waiting:
                    _rows(connection, crash_id, facts)
            summary.indexed += len(waiting)
            waiting.clear()

    try:
        # a few files handed over at a time: a small dump is read faster than a round trip
        chunk = max(1, min(16, len(todo) // ((jobs or os.cpu_count() or 1) * 8)))
        for done, (path, crash_id, facts, error) in enumerate(in_workers(_read, todo, jobs, chunk, _lost), 1):
            if error is not None:
                summary.bad.append(error)
            else:
                waiting.append((crash_id, facts))
                if len(waiting) >= COMMIT_CRASHES or time.monotonic() - committed >= COMMIT_SECONDS:
                    commit()
                    committed = time.monotonic()
            if progress is not None:
                progress(done, len(todo), time.monotonic() - started)
    finally:
        commit()        # what was read before an interruption is kept
    return summary


def add_snapshot(store: str, path: str, data: bytes, crash, rules: str | None) -> bool:
    """One snapshot just made (coresnap's), into the store; False when it was there."""
    from hydra.analysis.fingerprint import fingerprint, load_rules
    from hydra.store.db import open_store
    from hydra.store.facts import crash_facts

    crash_id = hashlib.sha256(data).hexdigest()
    connection = open_store(store)
    try:
        if connection.execute("SELECT 1 FROM crashes WHERE id = ?", (crash_id,)).fetchone():
            return False
        facts = crash_facts(crash, path, "snapshot", fingerprint(crash, load_rules(rules)),
                            crash.process.capture_time or time.time())
        _insert(connection, crash_id, facts)
        return True
    finally:
        connection.close()


def _insert(connection: Store, crash_id: str, facts: dict) -> None:
    with connection.transaction():
        _rows(connection, crash_id, facts)


def _rows(connection: Store, crash_id: str, facts: dict) -> None:
    """A crash's rows, its bucket's, and its bucket reopened when it follows the fix."""
    attributes = facts.pop("attributes")
    columns = ["id", *facts, "indexed"]
    connection.execute(f"INSERT INTO crashes ({', '.join(columns)}) VALUES "
                       f"({', '.join('?' * len(columns))}) ON CONFLICT DO NOTHING",
                       [crash_id, *facts.values(), time.time()])
    connection.executemany("INSERT INTO attributes (crash, key, value) VALUES (?, ?, ?) "
                           "ON CONFLICT (crash, key) DO UPDATE SET value = excluded.value",
                           [(crash_id, key, value) for key, value in attributes.items()])
    connection.execute("INSERT INTO buckets (fingerprint, program, frames) VALUES (?, ?, ?) "
                       "ON CONFLICT DO NOTHING",
                       (facts["fingerprint"], facts["program"] or "", facts["fingerprint_frames"]))
    # a crash of a version after the one that fixed its bucket opens the bucket again
    fixed = connection.execute("SELECT fixed_version FROM buckets WHERE fingerprint = ? AND program = ? "
                               "AND state = 'fixed'", (facts["fingerprint"], facts["program"] or "")).fetchone()
    if fixed and fixed[0] and facts["version"] and version_key(facts["version"]) > version_key(fixed[0]):
        connection.execute("UPDATE buckets SET state = 'open', note = COALESCE(note || ' · ', '') || ? "
                           "WHERE fingerprint = ? AND program = ?",
                           (f"reopened: a crash of {facts['version']}, after the fix in {fixed[0]}",
                            facts["fingerprint"], facts["program"] or ""))


def version_key(version: str) -> tuple:
    """2.10 after 2.9: numbers compare as numbers, other parts as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"[.\-+_]", version.strip()) if part)


def terminal_progress(stream=sys.stderr):
    """A progress line with rate and time left on a terminal; a plain line every 10% otherwise."""
    interactive = stream.isatty()
    shown = [-1]

    def report(done: int, total: int, elapsed: float) -> None:
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate else 0.0
        if interactive:
            stream.write(f"\r{done}/{total} crashes  {rate:.1f}/s  about {left:.0f} s left ")
            if done == total:
                stream.write("\n")
            stream.flush()
        elif done * 10 // total != shown[0]:
            shown[0] = done * 10 // total
            stream.write(f"hydra: indexed {done} of {total} ({rate:.1f}/s)\n")

    return report
