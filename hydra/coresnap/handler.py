"""`hydra coresnap handle`: what the kernel runs for every crash (core_pattern pipe).

First the core goes to the archive (a crash is never lost), then what only /proc/PID still
shows is gathered, then a child process makes the snapshot: if that step fails or even
crashes, the core and the entry stay, pending, with the reason.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

from hydra.coresnap.archive import Archive, Entry
from hydra.coresnap.settings import Settings

COPY_CHUNK = 1 << 20
SNAPSHOT_TIMEOUT = 1800
FAULT_VARIABLE = "HYDRA_CORESNAP_FAULT"    # "snapshot": the snapshot step crashes (for testing isolation)


def free_percent(path: str) -> float:
    st = os.statvfs(path)
    return 100.0 * st.f_bavail / st.f_blocks if st.f_blocks else 0.0


def handle(settings: Settings, pid: int, tid: int, signal_number: int, when: int, executable_field: str,
           config_file: str | None = None, stream=None) -> int:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))       # never a core of the handler itself
    os.umask(0o077)          # cores and snapshots hold the crashed process's memory: owner only
    stream = stream or sys.stdin.buffer
    executable = executable_field.replace("!", "/")
    archive = Archive(settings.directory)
    try:
        archive.ensure()
    except OSError as error:
        archive.log(f"skipped the core of pid {pid} ({executable}): cannot make the archive: {error}")
        return 1
    for problem in settings.problems:
        archive.log(f"config: {problem}")
    free = free_percent(settings.directory)
    if free < settings.quota:
        archive.log(f"skipped the core of pid {pid} ({executable}, signal {signal_number}): "
                    f"{free:.1f}% of the disk is free, below the dump.quota floor of {settings.quota:g}%")
        return 0
    entry = archive.create(pid, tid, signal_number, when, executable)
    try:
        entry.size = _store(stream, entry.core)
    except OSError as error:
        entry.error = f"storing the core failed: {error.strerror or error}"
        entry.save()
        archive.log(f"{entry.id}: {entry.error}")
        return 1
    entry.save()
    archive.log(f"{entry.id}: stored the core of pid {pid} ({executable}, signal {signal_number}), {entry.size} bytes")
    _gather(entry, settings, executable)
    return run_snapshot_step(entry, settings, archive, config_file)


def _store(stream, path: str) -> int:
    size = 0
    with open(path, "wb") as out:
        while True:
            chunk = stream.read(COPY_CHUNK)
            if not chunk:
                break
            out.write(chunk)
            size += len(chunk)
    return size


def _gather(entry: Entry, settings: Settings, executable: str) -> None:
    """Thread names, kernel stacks, process and machine figures: /proc/PID still shows them
    while the handler runs (core_pipe_limit keeps the process from being reaped)."""
    from hydra.live.proc import gather

    facts = gather(entry.pid).to_json()
    attributes = {}
    if settings.defaults_command:
        try:
            done = subprocess.run([settings.defaults_command, executable], capture_output=True, text=True,
                                  timeout=30, stdin=subprocess.DEVNULL)
            for line in done.stdout.splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip():
                    attributes[key.strip()] = value.strip()
        except (OSError, subprocess.SubprocessError) as error:
            attributes["_defaults_command_error"] = str(error)
    facts["attributes"] = attributes
    try:
        with open(entry.facts, "w") as handle:
            json.dump(facts, handle)
    except OSError:
        pass


def run_snapshot_step(entry: Entry, settings: Settings, archive: Archive, config_file: str | None) -> int:
    command = [sys.executable, "-m", "hydra", "coresnap", "process", entry.id, "--dir", settings.directory]
    if config_file:
        command += ["--config", config_file]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=SNAPSHOT_TIMEOUT, text=True)
    except subprocess.TimeoutExpired:
        return _failed(archive, entry.id, f"the snapshot step took more than {SNAPSHOT_TIMEOUT} s")
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        return _failed(archive, entry.id, f"the snapshot step died of {name}; the core is kept")
    if done.returncode != 0:
        fresh = archive.find(entry.id)
        if fresh is not None and not fresh.error:
            return _failed(archive, entry.id, done.stderr.strip().splitlines()[-1] if done.stderr.strip()
                           else f"the snapshot step exited with {done.returncode}")
        return 1
    return 0


def _failed(archive: Archive, entry_id: str, reason: str) -> int:
    entry = archive.find(entry_id)
    if entry is not None:
        entry.state = "pending"
        entry.error = reason
        entry.save()
    archive.log(f"{entry_id}: {reason}")
    return 1


def process(settings: Settings, entry_id: str) -> int:
    """The snapshot step: core and /proc facts into a snapshot, filed by route."""
    if os.environ.get(FAULT_VARIABLE) == "snapshot":
        os.kill(os.getpid(), signal.SIGSEGV)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.umask(0o077)
    archive = Archive(settings.directory)
    entry = archive.find(entry_id)
    if entry is None:
        from hydra.model.errors import BadInput

        raise BadInput(entry_id, f"no such entry in {settings.directory}")
    from hydra.capture.engine import capture_core
    from hydra.live.proc import ProcessFacts, apply
    from hydra.model.errors import BadInput
    from hydra.snapshot.format import write_snapshot

    try:
        crash = capture_core(entry.core)
    except BadInput as error:
        return _failed(archive, entry.id, f"cannot read the core: {error.reason}")
    try:
        with open(entry.facts) as handle:
            data = json.load(handle)
        apply(ProcessFacts.from_json(data), crash)
        crash.attributes.update({str(k): str(v) for k, v in (data.get("attributes") or {}).items()})
    except (OSError, ValueError, KeyError, TypeError):
        crash.warnings.append("no /proc facts were gathered for this crash")
    crash.attributes["coresnap.entry"] = entry.id
    route = settings.route_for(entry.executable)
    folder = os.path.join(archive.snapshots_dir, route)
    os.makedirs(folder, exist_ok=True)
    program = os.path.basename(entry.executable) or "unknown"
    output = os.path.join(folder, f"{program}-{entry.id}.hsnap")
    write_snapshot(crash, output)
    os.chmod(output, 0o600)
    entry.state, entry.route, entry.snapshot, entry.error = "snapshotted", route, output, None
    entry.save()
    if not settings.keep_core:
        try:
            os.unlink(entry.core)
        except OSError:
            pass
    entry.state = "done"
    entry.save()
    archive.log(f"{entry.id}: snapshot {output}")
    return 0


def list_entries(settings: Settings) -> str:
    archive = Archive(settings.directory)
    lines = [f"{'STATE':<12} {'ID':<24} {'EXECUTABLE':<40} {'TIME':<20} {'SIZE':>12}"]
    for entry in archive.entries():
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.time))
        lines.append(f"{entry.state:<12} {entry.id:<24} {entry.executable[-40:]:<40} {when:<20} {entry.size:>12}")
        if entry.error:
            lines.append(f"{'':<12} error: {entry.error}")
    return "\n".join(lines) + "\n"


def purge(settings: Settings, now: float | None = None) -> list[str]:
    """Entries (and their snapshots) older than purge.age; nothing when purging is disabled."""
    if settings.purge_disabled:
        return []
    now = now or time.time()
    archive = Archive(settings.directory)
    removed = []
    for entry in archive.entries():
        if now - entry.time < settings.purge_age:
            continue
        if entry.snapshot and os.path.exists(entry.snapshot):
            os.unlink(entry.snapshot)
        shutil.rmtree(entry.folder, ignore_errors=True)
        removed.append(entry.id)
        archive.log(f"{entry.id}: purged (older than {settings.purge_age} s)")
    return removed
