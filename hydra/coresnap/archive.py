"""The crash archive: one folder per core that reached the handler, and a log.

    ARCHIVE/entries/<id>/core        the core, as the kernel piped it
    ARCHIVE/entries/<id>/entry.json  state, what crashed, who ran it, errors
    ARCHIVE/entries/<id>/proc.json   what /proc showed while the process was dying
    ARCHIVE/snapshots/<route>/<program>-<id>.hsnap
    ARCHIVE/coresnap.log             one line per event, including every core not archived

The archive belongs to the user the handler runs as (root) and nobody else may write in
it: every folder is checked and held open by descriptor (folder.SafeFolder). Everything
that comes from the crashing process (its executable's name above all) is escaped before
it reaches the log or a listing, and reduced to a safe set of characters in file names.
"""

from __future__ import annotations

import json
import os
import re
import time

from hydra.coresnap.folder import SafeFolder, UnsafeFolder
from hydra.model.record import asdict, field, record
from hydra.model.text import printable

PENDING, SNAPSHOTTED, DONE, PARTIAL, FAILED = "pending", "snapshotted", "done", "partial", "failed"
# pending: the core is kept and no snapshot made yet (or making one failed: `error` says why);
# partial: a snapshot was made from a truncated core or with data missing: the core is kept;
# failed: nothing could be kept (the disk was full): `error` says why; nothing to retry.
STATES = (PENDING, SNAPSHOTTED, DONE, PARTIAL, FAILED)
RETRYABLE = (PENDING, PARTIAL)
MAX_PROGRAM_NAME = 64
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._+-]")


def safe_file_name(text: str, limit: int = MAX_PROGRAM_NAME) -> str:
    """A file name made from untrusted text: letters, digits and `._+-`, not starting with
    a dot, at most `limit` characters."""
    name = _UNSAFE_NAME.sub("_", text)[:limit].lstrip(".")
    return name or "unknown"


def log_to_system(text: str) -> None:
    """Where the administrator looks when the archive itself cannot be trusted: syslog, the
    kernel's log (dmesg, the journal) and standard error, each one line, escaped."""
    import syslog
    import sys

    line = printable(text)
    syslog.openlog("hydra-coresnap", syslog.LOG_PID, syslog.LOG_DAEMON)
    syslog.syslog(syslog.LOG_ERR, line)
    try:
        fd = os.open("/dev/kmsg", os.O_WRONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            os.write(fd, f"<3>hydra-coresnap: {line[:900]}\n".encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
    except OSError:
        pass
    try:
        print(f"hydra: {line}", file=sys.stderr)
    except OSError:
        pass


@record
class Entry:
    id: str
    state: str
    pid: int
    tid: int
    signal: int
    time: int
    executable: str
    uid: int | None = None           # the crashing process's real user and groups: files are
    gid: int | None = None           # read for its snapshot only as that user could read them
    groups: list[int] = field(default_factory=list)
    size: int = 0
    route: str | None = None
    snapshot: str | None = None      # the snapshot's path, for people; the archive finds it by route and name
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    cut_at: int | None = None        # the core was cut at dump.max_size bytes
    folder: SafeFolder | None = field(default=None, repr=False, compare=False)

    FIELDS = ("id", "state", "pid", "tid", "signal", "time", "executable", "uid", "gid", "groups", "size",
              "route", "snapshot", "error", "warnings", "cut_at")

    @property
    def program(self) -> str:
        return safe_file_name(self.executable.rsplit("/", 1)[-1])

    @property
    def snapshot_name(self) -> str:
        return f"{self.program}-{self.id}.hsnap"

    @property
    def shown_executable(self) -> str:
        return printable(self.executable)

    def has_core(self) -> bool:
        return self.folder is not None and self.folder.exists("core")

    def save(self) -> None:
        data = {name: getattr(self, name) for name in self.FIELDS}
        self.folder.write_atomic("entry.json", json.dumps(data, indent=1).encode())

    @classmethod
    def load(cls, entry_id: str, folder: SafeFolder) -> Entry:
        data = json.loads(folder.read("entry.json", 1 << 20))
        if not isinstance(data, dict):
            raise ValueError("entry.json is not an object")
        values = {name: data.get(name) for name in cls.FIELDS if name in data}
        entry = cls(**values, folder=folder)
        entry.id = entry_id
        if entry.state not in STATES:
            raise ValueError(f"unknown state {entry.state!r}")
        entry.groups = [g for g in entry.groups or [] if isinstance(g, int)]
        entry.warnings = [str(w) for w in entry.warnings or []]
        return entry


class Archive:
    """An open archive. `create` makes the folders that are missing (0700)."""

    def __init__(self, root: str, create: bool = False):
        self.path = os.path.abspath(root)
        self.root = SafeFolder.open(self.path, create)
        try:
            self.entries_folder = self.root.folder("entries", create)
            self.snapshots_folder = self.root.folder("snapshots", create)
        except BaseException:
            self.root.close()
            raise

    def close(self) -> None:
        self.root.close()
        self.entries_folder.close()
        self.snapshots_folder.close()

    def log(self, text: str) -> None:
        """One line per event, control bytes escaped; syslog when the log cannot be written."""
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {printable(text)}\n"
        try:
            self.root.append("coresnap.log", line.encode("utf-8", "backslashreplace"))
        except OSError as error:
            log_to_system(f"{self.path}: cannot write coresnap.log ({error.strerror or error}): {text}")

    def create(self, pid: int, tid: int, signal: int, when: int, executable: str) -> Entry:
        base = f"{when}-{pid}"
        for attempt in range(1000):
            name = base if attempt == 0 else f"{base}-{attempt}"
            try:
                os.mkdir(name, 0o700, dir_fd=self.entries_folder.fd)
            except FileExistsError:
                continue
            entry = Entry(name, PENDING, pid, tid, signal, when, executable,
                          folder=self.entries_folder.folder(name, create=False))
            entry.save()
            return entry
        raise OSError(f"cannot make an entry for {base}")

    def entries(self) -> list[Entry]:
        found = []
        for name in self.entries_folder.names():
            entry = self.find(name)
            if entry is not None:
                found.append(entry)
        return found

    def find(self, entry_id: str) -> Entry | None:
        if not re.fullmatch(r"\d+-\d+(-\d+)?", entry_id):
            return None
        try:
            return Entry.load(entry_id, self.entries_folder.folder(entry_id, create=False))
        except (OSError, ValueError, TypeError):
            return None

    def snapshot_folder(self, route: str) -> SafeFolder:
        return self.snapshots_folder.folder(route, create=True)

    def remove_snapshot(self, entry: Entry) -> None:
        if not entry.route:
            return
        try:
            self.snapshots_folder.folder(entry.route, create=False).remove(entry.snapshot_name)
        except (FileNotFoundError, UnsafeFolder):
            pass

    def remove(self, entry: Entry) -> None:
        self.remove_snapshot(entry)
        if entry.folder is not None:
            entry.folder.close()
        self.entries_folder.remove_tree(entry.id)


def entry_as_json(entry: Entry) -> dict:
    data = asdict(entry)
    data.pop("folder", None)
    return data
