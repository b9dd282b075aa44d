"""`hydra coresnap handle`: what the kernel runs, as root, for every crash (core_pattern pipe).

First the core goes to the archive (a crash is never lost), then what only /proc/PID still
shows is gathered, then a child process makes the snapshot: if that step fails or even
crashes, the core and the entry stay, pending, with the reason.

The crashing program is someone else's: its name, its core and the files its DWARF names
are that user's data. The archive is checked and held open by descriptor (archive.py), the
snapshot step reads sources, binaries and debug files with the crashing user's rights
(capture/asuser.py), and every failure is written on the entry and in the log.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time

from hydra.coresnap.archive import DONE, FAILED, PARTIAL, PENDING, RETRYABLE, SNAPSHOTTED, Archive, Entry, \
    log_to_system
from hydra.coresnap.folder import UnsafeFolder
from hydra.coresnap.settings import HANDLE_NEEDS, SNAPSHOT_NEEDS, Settings, SettingsError
from hydra.model.text import printable

COPY_CHUNK = 1 << 20
FREE_CHECK_BYTES = 16 << 20         # the disk's free space is looked at this often while storing
SNAPSHOT_TIMEOUT = 1800
DEFAULTS_TIMEOUT = 30
MAX_LISTED_EXECUTABLE = 60
FAULT_VARIABLE = "HYDRA_CORESNAP_FAULT"    # "snapshot": the snapshot step crashes (for testing isolation)
# what the kernel's environment holds, and all a child of the handler is given
CLEAN_ENVIRONMENT = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "HYDRA_NO_USER_FILES": "1"}


def handle(settings: Settings, pid: int, tid: int, signal_number: int, when: int, executable_field: str,
           uid: int | None = None, gid: int | None = None, stream=None) -> int:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))       # never a core of the handler itself
    os.umask(0o077)          # cores and snapshots hold the crashed process's memory: owner only
    stream = stream or sys.stdin.buffer
    executable = executable_field.replace("!", "/")
    shown = printable(executable[:4096])
    try:
        archive = Archive(settings.directory, create=True)
    except (UnsafeFolder, OSError) as error:
        log_to_system(f"skipped the core of pid {pid} ({shown}): the archive {settings.directory} "
                      f"is refused: {getattr(error, 'strerror', None) or error}")
        return 1
    for problem in settings.errors.values():
        archive.log(f"config: {problem}")
    quota = settings.quota if "dump" not in settings.errors else Settings().quota
    free = archive.root.free_percent()
    if free < quota:
        archive.log(f"skipped the core of pid {pid} ({shown}, signal {signal_number}): "
                    f"{free:.1f}% of the disk is free, below the dump.quota floor of {quota:g}%")
        return 0
    try:
        entry = archive.create(pid, tid, signal_number, when, executable)
    except OSError as error:
        archive.log(f"skipped the core of pid {pid} ({shown}): cannot make its entry: {error.strerror or error}")
        return 1
    _identify(entry, uid, gid)
    if not _store(archive, entry, stream, settings):
        return 1
    archive.log(f"{entry.id}: stored the core of pid {pid} ({shown}, signal {signal_number}), {entry.size} bytes")
    _gather(archive, entry, settings, executable)
    try:
        settings.need(*HANDLE_NEEDS)
    except SettingsError as error:
        return _failed(archive, entry, f"config: {error}")
    return run_snapshot_step(entry, settings, archive)


def _identify(entry: Entry, uid: int | None, gid: int | None) -> None:
    """Whose crash it is: the real uid and gid the kernel passed (%u %g), and the groups
    /proc/PID/status shows while the process is held for us."""
    from hydra.capture.asuser import User
    from hydra.live.proc import read_text

    if uid is None or gid is None:
        return
    user = User.of_status(read_text(f"/proc/{entry.pid}/status") or "", uid, gid)
    entry.uid, entry.gid, entry.groups = user.uid, user.gid, list(user.groups)
    _save(entry)


def _save(entry: Entry) -> bool:
    try:
        entry.save()
        return True
    except OSError as error:
        log_to_system(f"{entry.id}: cannot save its state ({error.strerror or error}): {entry.state} {entry.error}")
        return False


def _store(archive: Archive, entry: Entry, stream, settings: Settings) -> bool:
    """The core from the kernel into the entry. The disk's free space is watched while it is
    written: a core that would take it below the dump.quota floor is not kept. On failure (a
    full disk) nothing partial is kept: the entry says why, and it is `failed`."""
    quota = settings.quota if "dump" not in settings.errors else Settings().quota
    limit = settings.max_core if "dump" not in settings.errors else None
    size = 0
    cut = False
    try:
        fd = entry.folder.create("core")
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(COPY_CHUNK)
                if not chunk:
                    break
                if limit is not None and size + len(chunk) > limit:
                    out.write(chunk[:limit - size])
                    size, cut = limit, True
                    break
                out.write(chunk)
                size += len(chunk)
                if size % FREE_CHECK_BYTES < COPY_CHUNK and archive.root.free_percent() < quota:
                    raise OSError(f"the disk reached the dump.quota floor of {quota:g}% free")
            out.flush()
    except OSError as error:
        entry.folder.remove("core")
        entry.state, entry.size = FAILED, 0
        entry.error = f"storing the core failed after {size} bytes: {error.strerror or error}; the core is lost"
        _save(entry)
        archive.log(f"{entry.id}: {entry.error}")
        return False
    entry.size = size
    if cut:
        entry.cut_at = limit
        archive.log(f"{entry.id}: the core was cut at dump.max_size ({limit} bytes)")
    return _save(entry)


def _gather(archive: Archive, entry: Entry, settings: Settings, executable: str) -> None:
    """Thread names, kernel stacks, process and machine figures: /proc/PID still shows them
    while the handler runs (core_pipe_limit keeps the process from being reaped)."""
    from hydra.live.proc import gather

    facts = gather(entry.pid).to_json()
    attributes = {}
    if settings.defaults_command and "defaults_command" not in settings.errors:
        try:
            done = subprocess.run([settings.defaults_command, executable], capture_output=True, text=True,
                                  errors="replace", timeout=DEFAULTS_TIMEOUT, stdin=subprocess.DEVNULL,
                                  cwd="/", env=CLEAN_ENVIRONMENT)
            for line in done.stdout.splitlines()[:1000]:
                key, sep, value = line.partition("=")
                if sep and key.strip():
                    attributes[key.strip()[:256]] = value.strip()[:4096]
        except (OSError, subprocess.SubprocessError) as error:
            attributes["_defaults_command_error"] = str(error)
    facts["attributes"] = attributes
    try:
        entry.folder.write_atomic("proc.json", json.dumps(facts).encode())
    except OSError as error:
        archive.log(f"{entry.id}: cannot keep what /proc showed: {error.strerror or error}")


def run_snapshot_step(entry: Entry, settings: Settings, archive: Archive) -> int:
    """The snapshot step in a process of its own: whatever happens to it, the entry says."""
    entry.error = None
    _save(entry)
    command = [sys.executable, "-I", "-m", "hydra", "coresnap", "process", entry.id, "--dir", archive.path]
    if settings.config_file:
        command += ["--config", settings.config_file]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=SNAPSHOT_TIMEOUT, text=True, errors="replace",
                              cwd="/", env=_step_environment())
    except subprocess.TimeoutExpired:
        return _failed(archive, entry, f"the snapshot step took more than {SNAPSHOT_TIMEOUT} s")
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        return _failed(archive, entry, f"the snapshot step died of {name}; the core is kept")
    if done.returncode != 0:
        fresh = archive.find(entry.id)
        if fresh is not None and not fresh.error:
            lines = done.stderr.strip().splitlines()
            return _failed(archive, fresh, lines[-1] if lines else f"the snapshot step exited with {done.returncode}")
        return 1
    return 0


def _step_environment() -> dict[str, str]:
    """The snapshot step's environment: the clean one, and the switches tests turn on."""
    kept = {name: os.environ[name] for name in (FAULT_VARIABLE, "HYDRA_DEBUG", "HYDRA_CAPTURE_SECONDS")
            if name in os.environ}
    return {**CLEAN_ENVIRONMENT, **kept}


def _failed(archive: Archive, entry: Entry, reason: str) -> int:
    fresh = archive.find(entry.id) or entry
    if fresh.state != FAILED:
        fresh.state = PENDING if fresh.has_core() else FAILED
    fresh.error = reason
    _save(fresh)
    archive.log(f"{entry.id}: {reason}")
    return 1


def _index(archive: Archive, entry: Entry, settings: Settings, data: bytes, crash) -> None:
    """The new snapshot into the crash store the config names; a store that cannot take it
    costs a log line, never the snapshot."""
    if not settings.store:
        return
    from hydra.model.errors import BadInput
    from hydra.store.db import is_url, shown
    from hydra.store.index import add_snapshot

    where = printable(shown(settings.store))        # a URL's password is never logged
    # root writes a file store: not in a folder others can write, not through a link (sqlite
    # would follow one to any file), not a file of someone else's; a PostgreSQL store is
    # the server's to keep
    problem = None if is_url(settings.store) else _unsafe_store(settings.store)
    if problem:
        archive.log(f"{entry.id}: not added to the crash store {where}: {problem}")
        return

    try:
        added = add_snapshot(settings.store, entry.snapshot, data, crash, settings.fingerprint_rules)
    except (BadInput, OSError, Exception) as error:      # a locked, damaged, full or unreachable store
        reason = printable(error.reason) if isinstance(error, BadInput) else printable(str(error))
        archive.log(f"{entry.id}: not added to the crash store {where}: {reason[:300]}")
        return
    if added:
        archive.log(f"{entry.id}: added to the crash store {where}")


def _unsafe_store(path: str) -> str | None:
    import stat

    folder = os.path.dirname(path)
    try:
        info = os.lstat(folder)
    except OSError as error:
        return f"its folder: {error.strerror or error}"
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return "its folder is not this user's alone (owned by another user, or writable by group or others)"
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            info = os.lstat(name)
        except FileNotFoundError:
            continue
        except OSError as error:
            return f"{error.strerror or error}"
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return f"{os.path.basename(name)} is not a file of this user's (a link, or another user's)"
    return None


def process(settings: Settings, entry_id: str) -> int:
    """The snapshot step: core and /proc facts into a snapshot, filed by route."""
    if os.environ.get(FAULT_VARIABLE) == "snapshot":
        os.kill(os.getpid(), signal.SIGSEGV)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.umask(0o077)
    from hydra.model.errors import BadInput

    archive = Archive(settings.directory)
    entry = archive.find(entry_id)
    if entry is None:
        raise BadInput(entry_id, f"no such entry in {settings.directory}")
    try:
        settings.need(*SNAPSHOT_NEEDS)
        rules = _check_rules(settings.fingerprint_rules)
    except SettingsError as error:
        return _failed(archive, entry, f"config: {error}")
    try:
        core = entry.folder.open_read("core")
    except OSError as error:
        return _failed(archive, entry, f"cannot open the core: {error.strerror or error}")
    try:
        data = _snapshot_as_owner(entry, core, rules)
    except BadInput as error:
        return _failed(archive, entry, f"cannot read the core: {error.reason}")
    except Exception as error:           # the capture child died, or ran out of memory
        return _failed(archive, entry, f"the snapshot step failed: {error}")
    finally:
        os.close(core)
    from hydra.snapshot.format import read_snapshot

    crash = read_snapshot(entry.snapshot_name, data)
    route = settings.route_for(entry.executable)
    try:
        folder = archive.snapshot_folder(route)
        folder.write_atomic(entry.snapshot_name, data)
    except OSError as error:
        return _failed(archive, entry, f"writing the snapshot failed: {error.strerror or error}; the core is kept")
    entry.route, entry.snapshot, entry.error = route, folder.child_path(entry.snapshot_name), None
    cut = [f"the core was cut at dump.max_size ({entry.cut_at} bytes)"] if entry.cut_at else []
    entry.warnings = cut + [printable(w)[:500] for w in crash.warnings[:20]]
    if crash.truncated:
        entry.state = PARTIAL
        _save(entry)
        archive.log(f"{entry.id}: partial snapshot {entry.snapshot} (the core is cut short or lacks data; "
                    f"it is kept: hydra coresnap retry {entry.id})")
        return 0
    entry.state = SNAPSHOTTED
    _save(entry)
    if not settings.keep_core:
        entry.folder.remove("core")
    entry.state = DONE
    _save(entry)
    archive.log(f"{entry.id}: snapshot {entry.snapshot}")
    _index(archive, entry, settings, data, crash)
    return 0


def _check_rules(path: str | None):
    """The fingerprint rules file: the administrator's (checked as the config is), read here."""
    from hydra.analysis.fingerprint import RulesError, default_rules, parse_rules
    from hydra.coresnap.folder import read_trusted_file

    if path is None:
        return default_rules()
    try:
        text = read_trusted_file(path).decode("utf-8")
        return parse_rules(text, path).extend(default_rules())
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"fingerprint_rules {path}: refused: {getattr(error, 'strerror', None) or error}") \
            from None
    except RulesError as error:
        raise SettingsError(f"fingerprint_rules: {error}") from None


def _snapshot_as_owner(entry: Entry, core: int, rules) -> bytes:
    """The snapshot's bytes, captured with the crashing user's rights (root's own crashes
    need no change of rights). What the archive holds is read here, before that."""
    from hydra.capture.asuser import User, another_user, run_as

    try:
        facts = json.loads(entry.folder.read("proc.json"))
    except (OSError, ValueError):
        facts = None

    def work() -> bytes:
        from hydra.capture.engine import capture_core
        from hydra.capture.options import CaptureOptions
        from hydra.live.proc import ProcessFacts, apply
        from hydra.snapshot.format import snapshot_bytes

        crash = capture_core(f"{entry.id}/core", CaptureOptions(rules=rules, written=True), core)
        try:
            apply(ProcessFacts.from_json(facts), crash)
            crash.attributes.update({str(k): str(v) for k, v in (facts.get("attributes") or {}).items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            crash.warnings.append("no /proc facts were gathered for this crash")
        crash.attributes["coresnap.entry"] = entry.id
        return snapshot_bytes(crash)

    if entry.uid is None:          # an entry of an older handler: the core says whose it is
        from hydra.capture.corefile import read_core

        info = read_core(f"{entry.id}/core", core)
        user = User.named(65534 if info.uid is None else info.uid)
    else:
        user = User(entry.uid, entry.uid if entry.gid is None else entry.gid, tuple(entry.groups))
    if not another_user(user):
        return work()
    return run_as(user, work, keep_fds=(core,))


def list_entries(archive: Archive | None) -> str:
    lines = [f"{'STATE':<12} {'ID':<24} {'EXECUTABLE':<{MAX_LISTED_EXECUTABLE}} {'TIME':<20} {'SIZE':>12}"]
    for entry in archive.entries() if archive else []:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.time if isinstance(entry.time, int) else 0))
        shown = entry.shown_executable
        if len(shown) > MAX_LISTED_EXECUTABLE:
            shown = "…" + shown[-(MAX_LISTED_EXECUTABLE - 1):]
        lines.append(f"{entry.state:<12} {entry.id:<24} {shown:<{MAX_LISTED_EXECUTABLE}} {when:<20} {entry.size:>12}")
        if entry.error:
            lines.append(f"{'':<12} error: {printable(entry.error)}")
        for warning in entry.warnings[:3]:
            lines.append(f"{'':<12} warning: {printable(warning)}")
    return "\n".join(lines) + "\n"


def retry(settings: Settings, archive: Archive, entry_id: str) -> Entry:
    """Make the snapshot of a pending or partial entry again; the entry as it ends."""
    from hydra.model.errors import BadInput

    entry = archive.find(entry_id)
    if entry is None:
        raise BadInput(entry_id, f"no such entry in {archive.path}")
    if entry.state not in RETRYABLE or not entry.has_core():
        raise BadInput(entry_id, f"it is {entry.state} and its core is gone; nothing to retry")
    run_snapshot_step(entry, settings, archive)
    return archive.find(entry_id) or entry


def purge(settings: Settings, archive: Archive, now: float | None = None) -> list[str]:
    """Entries (and their snapshots) older than purge.age; nothing when purging is disabled."""
    settings.need("purge")
    if settings.purge_disabled:
        return []
    now = now or time.time()
    removed = []
    for entry in archive.entries():
        if now - entry.time < settings.purge_age:
            continue
        archive.remove(entry)
        removed.append(entry.id)
        archive.log(f"{entry.id}: purged (older than {settings.purge_age} s)")
    return removed
