"""What the triage view shows, read from the store: buckets with their daily counts, and a
bucket's crashes. (The view itself is hydra/tui/triage.py.)"""

from __future__ import annotations

import time

from hydra.model.record import field, record
from hydra.store.db import Store
from hydra.store.facts import SEVERITIES
from hydra.store.query import (MERGED_FINGERPRINT, MERGED_JOIN, Query, build, execute,
                                has_merges)

SPARK_DAYS = 14


@record
class BucketRow:
    fingerprint: str
    program: str
    frames: str
    state: str
    count: int
    hosts: int
    first: float | None
    last: float | None
    daily: list[int] = field(default_factory=list)     # the last SPARK_DAYS days, oldest first
    severity: str | None = None
    classifier: str | None = None


def bucket_rows(connection: Store, where: list[str], sort: str = "count",
                now: float | None = None) -> list[BucketRow]:
    """The buckets of the crashes that pass `where` (the query language's conditions)."""
    merged = has_merges(connection)
    sql, parameters, _names = build(Query(where=where, group_by="fingerprint", sort=sort), merged=merged,
                                    store=connection)
    key = MERGED_FINGERPRINT if merged else "crashes.fingerprint"
    join = MERGED_JOIN if merged else ""
    rows = [BucketRow(fp, program or "", frames or "", state, count, hosts, first, last)
            for fp, program, frames, state, count, hosts, first, last in execute(connection, sql, parameters)]
    if not rows:
        return rows
    now = now or time.time()
    today = int(now // 86400)
    by_key = {(row.fingerprint, row.program): row for row in rows}
    for row in rows:
        row.daily = [0] * SPARK_DAYS
    for fp, program, day, count in execute(
            connection, f"SELECT {key}, COALESCE(crashes.program, ''), {connection.day_number('captured')}, "
            f"COUNT(*) FROM crashes {join} WHERE captured >= ? GROUP BY 1, 2, 3", ((today - SPARK_DAYS + 1) * 86400,)):
        row = by_key.get((fp, program))
        if row is not None and 0 <= today - day < SPARK_DAYS:
            row.daily[SPARK_DAYS - 1 - (today - day)] = count
    # grouped by the index's own columns (in its order: no sort), a program of NULL and of ''
    # in one bucket afterwards
    worst: dict[tuple[str, str], tuple[int | None, str | None]] = {}
    for fp, program, rank, classifiers in execute(
            connection, f"SELECT {key}, crashes.program, MAX(severity_rank), MIN(classifiers) "
            f"FROM crashes {join} GROUP BY {key}, crashes.program", ()):
        bucket = (fp, program or "")
        if bucket in worst:
            known_rank, known_classifiers = worst[bucket]
            rank = max((r for r in (known_rank, rank) if r is not None), default=None)
            classifiers = min((c for c in (known_classifiers, classifiers) if c is not None), default=None)
        worst[bucket] = (rank, classifiers)
    for bucket, (rank, classifiers) in worst.items():
        row = by_key.get(bucket)
        if row is not None:
            row.severity = SEVERITIES[rank] if rank is not None else None
            names = (classifiers or "").split()
            row.classifier = next((n for n in names if n not in ("segv", "abort", "read", "write")), None) or \
                (names[0] if names else None)
    return rows


_IN_BUCKET = f"{MERGED_JOIN} WHERE {MERGED_FINGERPRINT} = ? AND COALESCE(crashes.program, '') = ?"
HISTOGRAM_FIELDS = ("version", "host", "os")


@record
class BucketCrash:
    captured: float | None
    version: str | None
    host: str | None
    signal: str | None
    path: str                       # the snapshot kept for it where there is one
    attributes: list[tuple[str, str]] = field(default_factory=list)


def crashes_of(connection: Store, fingerprint: str, program: str) -> list[BucketCrash]:
    """A bucket's crashes (those of the buckets merged into it too), newest first, with
    their attributes."""
    rows = execute(connection, f"SELECT crashes.id, captured, version, host, signal, COALESCE(snapshot, path) "
                   f"FROM crashes {_IN_BUCKET} ORDER BY captured DESC", (fingerprint, program))
    attributes: dict[str, list[tuple[str, str]]] = {}
    for crash, key, value in execute(connection, f"SELECT a.crash, a.key, a.value FROM attributes a JOIN crashes "
                                     f"ON crashes.id = a.crash {_IN_BUCKET} ORDER BY a.key",
                                     (fingerprint, program)):
        attributes.setdefault(crash, []).append((key, value or ""))
    return [BucketCrash(captured, version, host, signal, path, attributes.get(crash, []))
            for crash, captured, version, host, signal, path in rows]


def histograms_of(connection: Store, fingerprint: str,
                  program: str) -> dict[str, list[tuple[str, int]]]:
    """How a bucket's crashes spread over versions, hosts and operating systems: each
    field's values with their counts, the most frequent first ('?' for none)."""
    found = {}
    for name in HISTOGRAM_FIELDS:      # names from this fixed list only: never from input
        found[name] = [(value if value is not None else "?", count) for value, count in execute(
            connection, f"SELECT crashes.{name}, COUNT(*) FROM crashes {_IN_BUCKET} GROUP BY 1 "
            "ORDER BY 2 DESC, 1", (fingerprint, program))]
    return found


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(counts: list[int]) -> str:
    most = max(counts, default=0)
    if not most:
        return " " * len(counts)
    return "".join(" " if count == 0 else SPARKS[min(7, (count * 8 - 1) // most)] for count in counts)
