"""`hydra fingerprint`: crashes grouped by fingerprint, with counts and first and last times."""

from __future__ import annotations

import os
import time

from hydra.model.record import field, record
from hydra.model.text import printable


@record
class Bucket:
    fingerprint: str
    frames: list[str]
    files: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.files)


def crash_time(crash, path: str, kind: str) -> float:
    """When it crashed: a core's modification time; a snapshot's or minidump's own time."""
    if kind == "core":
        try:
            return os.stat(path).st_mtime
        except OSError:
            pass
    return crash.process.capture_time or 0.0


def group(entries: list[tuple[str, str, list[str], float]]) -> list[Bucket]:
    """(path, fingerprint, frames, time) entries into buckets, largest first."""
    buckets: dict[str, Bucket] = {}
    for path, digest, frames, when in entries:
        bucket = buckets.setdefault(digest, Bucket(digest, frames))
        bucket.files.append(path)
        bucket.times.append(when)
    return sorted(buckets.values(), key=lambda b: (-b.count, min(b.times or [0])))


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) if seconds else "?"


def format_buckets(buckets: list[Bucket]) -> str:
    lines = [f"{'FINGERPRINT':<14}{'COUNT':>6}  {'FIRST':<20} {'LAST':<20} FRAMES"]
    for bucket in buckets:
        lines.append(f"{bucket.fingerprint[:12]:<14}{bucket.count:>6}  {_when(min(bucket.times)):<20} "
                     f"{_when(max(bucket.times)):<20} {printable(' | '.join(bucket.frames))}")
        for path in bucket.files:
            lines.append(f"    {printable(path)}")
    return "\n".join(lines) + "\n"


def buckets_json(buckets: list[Bucket]) -> list[dict]:
    return [{"fingerprint": b.fingerprint, "count": b.count, "first": min(b.times), "last": max(b.times),
             "frames": b.frames, "files": b.files} for b in buckets]
