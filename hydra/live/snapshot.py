"""`hydra snap --pid`: a running process, stopped for as short a time as we can, snapshotted."""

from __future__ import annotations

import errno
import os
import tempfile
import time

from hydra.live import proc
from hydra.live.corewriter import read_maps, write_core
from hydra.live.ptrace import PtraceError, Stopped
from hydra.model.errors import BadInput


def snap_pid(pid: int, options=None, with_environment: bool = False):
    """The crash model of a live process; the process runs on as before."""
    label = f"process {pid}"
    if not os.path.isdir(f"/proc/{pid}"):
        raise BadInput(label, "no such process")
    try:
        identity = _identity(pid)
        facts = proc.gather(pid, with_environment)     # names, states, kernel stacks: as it ran
    except (FileNotFoundError, ProcessLookupError):
        raise BadInput(label, "the process exited") from None
    except PermissionError:
        raise BadInput(label, "permission denied reading /proc (another user's process?)") from None
    tracer = str(facts.process.get("tracer_pid") or "0")
    if tracer != "0":
        raise BadInput(label, f"another tracer (process {tracer}) is attached; detach it first")
    started = time.perf_counter()
    # the core has no name at any time (O_TMPFILE): nothing is left behind, however this ends
    with tempfile.TemporaryFile(prefix="hydra-live-") as core:
        try:
            with Stopped(pid) as stopped:
                stopped_at = time.perf_counter()
                order = sorted(stopped.tids, key=lambda t: (t != pid, t))      # the main thread first
                threads = [(tid, *stopped.registers(tid)) for tid in order]
                mappings = read_maps(pid)          # read stopped: no mapping changes meanwhile
                copied = write_core(core, pid, threads, mappings, {**facts.process, **identity})
                # whose process it is, read while it is held (its pid cannot be reused yet)
                status = proc.read_text(f"/proc/{pid}/status") or ""
            resumed_at = time.perf_counter()
        except PtraceError as error:
            if error.errno == errno.EPERM:
                raise BadInput(label, "permission denied: ptrace is not allowed (see "
                               "/proc/sys/kernel/yama/ptrace_scope, or the process is another user's)") from None
            if error.errno == errno.ESRCH:
                raise BadInput(label, "the process exited during the snapshot") from None
            raise BadInput(label, f"cannot stop it: {error.strerror}") from None
        except FileNotFoundError:
            raise BadInput(label, "the process exited during the snapshot") from None
        from hydra.capture.asuser import User, capture_for
        from hydra.capture.options import CaptureOptions

        options = options or CaptureOptions()
        options.environment = with_environment
        if not options.exe and identity.get("exe") and os.path.exists(identity["exe"]):
            options.exe = identity["exe"]
        user = User.of_status(status)
        crash = capture_for(user, f"process {pid}", options, core.fileno())
    proc.apply(facts, crash)
    crash.origin = "live"
    crash.process.core_path = None
    crash.process.core_size = None
    crash.process.pid = pid
    crash.crashed_tid = pid
    for thread in crash.threads:
        thread.crashed = False
    crash.system["stopped_seconds"] = round(resumed_at - stopped_at, 4)
    crash.system["snapshot_seconds"] = round(time.perf_counter() - started, 3)
    crash.system["memory_copied_bytes"] = copied
    crash.attributes["snapshot.kind"] = "live"
    return crash


def _identity(pid: int) -> dict:
    info: dict = {}
    try:
        info["exe"] = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            info["args"] = handle.read(4096).replace(b"\0", b" ").decode("utf-8", "replace").strip()
        with open(f"/proc/{pid}/comm") as handle:
            info["name"] = handle.read().strip()
        st = os.stat(f"/proc/{pid}")
        info["uid"], info["gid"] = st.st_uid, st.st_gid
    except OSError:
        pass
    return info
