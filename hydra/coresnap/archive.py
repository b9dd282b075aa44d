"""The crash archive: one folder per core that reached the handler, and a log.

    ARCHIVE/entries/<id>/core        the core, as the kernel piped it
    ARCHIVE/entries/<id>/entry.json  state (pending, snapshotted, done), what crashed, errors
    ARCHIVE/entries/<id>/proc.json   what /proc showed while the process was dying
    ARCHIVE/snapshots/<route>/<program>-<id>.hsnap
    ARCHIVE/coresnap.log             one line per event, including every core not archived
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass

STATES = ("pending", "snapshotted", "done")


@dataclass
class Entry:
    id: str
    state: str
    pid: int
    tid: int
    signal: int
    time: int
    executable: str
    size: int = 0
    route: str | None = None
    snapshot: str | None = None
    error: str | None = None
    folder: str = ""

    @property
    def core(self) -> str:
        return os.path.join(self.folder, "core")

    @property
    def facts(self) -> str:
        return os.path.join(self.folder, "proc.json")

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "folder"}
        temporary = os.path.join(self.folder, ".entry.json.tmp")
        with open(temporary, "w") as handle:
            json.dump(data, handle, indent=1)
        os.replace(temporary, os.path.join(self.folder, "entry.json"))


class Archive:
    def __init__(self, root: str):
        self.root = root
        self.entries_dir = os.path.join(root, "entries")
        self.snapshots_dir = os.path.join(root, "snapshots")

    def ensure(self) -> None:
        for folder in (self.root, self.entries_dir, self.snapshots_dir):
            os.makedirs(folder, mode=0o700, exist_ok=True)

    def log(self, text: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n"
        try:
            os.makedirs(self.root, exist_ok=True)
            with open(os.path.join(self.root, "coresnap.log"), "a") as handle:
                handle.write(line)
        except OSError:
            import syslog

            syslog.syslog(syslog.LOG_ERR, f"hydra coresnap: {text}")

    def create(self, pid: int, tid: int, signal: int, when: int, executable: str) -> Entry:
        self.ensure()
        base = f"{when}-{pid}"
        for attempt in range(1000):
            name = base if attempt == 0 else f"{base}-{attempt}"
            folder = os.path.join(self.entries_dir, name)
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:
                continue
            entry = Entry(name, "pending", pid, tid, signal, when, executable, folder=folder)
            entry.save()
            return entry
        raise OSError(f"cannot make an entry for {base}")

    def entries(self) -> list[Entry]:
        found = []
        try:
            names = sorted(os.listdir(self.entries_dir))
        except FileNotFoundError:
            return []
        for name in names:
            entry = self.find(name)
            if entry is not None:
                found.append(entry)
        return found

    def find(self, entry_id: str) -> Entry | None:
        if "/" in entry_id or entry_id.startswith("."):
            return None
        folder = os.path.join(self.entries_dir, entry_id)
        try:
            with open(os.path.join(folder, "entry.json")) as handle:
                data = json.load(handle)
            return Entry(**{k: v for k, v in data.items() if k in Entry.__dataclass_fields__}, folder=folder)
        except (OSError, ValueError, TypeError):
            return None
