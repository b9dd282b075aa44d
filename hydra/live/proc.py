"""What /proc tells about a process and the machine, for live snapshots and the crash collector.

Every read tolerates the process vanishing or a file being unreadable: the answer is then
missing, never an exception.
"""

from __future__ import annotations

import os
import re

from hydra.model.record import field, record

STATE_NAMES = {"R": "running", "S": "sleeping", "D": "disk sleep", "T": "stopped", "t": "tracing stop",
               "Z": "zombie", "X": "dead", "I": "idle"}
_STAT = re.compile(r"^\d+ \((?P<comm>.*)\) (?P<rest>.*)$", re.S)


def read_text(path: str, limit: int = 1 << 20) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


@record
class ThreadFacts:
    tid: int
    name: str | None = None
    state: str | None = None
    kernel_stack: list[str] = field(default_factory=list)


def stat_fields(text: str | None) -> list[str]:
    """/proc/.../stat after the command name (which may hold spaces and parentheses)."""
    if not text:
        return []
    match = _STAT.match(text.strip())
    return match["rest"].split() if match else []


def thread_facts(pid: int, tid: int) -> ThreadFacts:
    base = f"/proc/{pid}/task/{tid}"
    facts = ThreadFacts(tid)
    comm = read_text(f"{base}/comm")
    facts.name = comm.rstrip("\n") if comm else None
    fields = stat_fields(read_text(f"{base}/stat"))
    facts.state = fields[0] if fields else None
    stack = read_text(f"{base}/stack")
    if stack:
        facts.kernel_stack = [line.split("] ", 1)[-1] for line in stack.splitlines() if line.strip()]
    return facts


def process_figures(pid: int) -> dict[str, object]:
    figures: dict[str, object] = {}
    status = read_text(f"/proc/{pid}/status") or ""
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "VmSize", "Threads", "State", "PPid", "TracerPid"):
            figures[{"VmRSS": "rss", "VmHWM": "peak_rss", "VmSize": "virtual_size", "Threads": "threads",
                     "State": "state", "PPid": "ppid", "TracerPid": "tracer_pid"}[key]] = value.strip()
    fields = stat_fields(read_text(f"/proc/{pid}/stat"))
    ticks = os.sysconf("SC_CLK_TCK")
    if len(fields) > 19:
        figures["user_seconds"] = round(int(fields[11]) / ticks, 2)
        figures["system_seconds"] = round(int(fields[12]) / ticks, 2)
        uptime = read_text("/proc/uptime")
        if uptime:
            started = int(fields[19]) / ticks
            figures["started_seconds_ago"] = round(float(uptime.split()[0]) - started, 1)
    try:
        figures["open_files"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return figures


def machine_figures() -> dict[str, object]:
    figures: dict[str, object] = {}
    meminfo = read_text("/proc/meminfo") or ""
    for line in meminfo.splitlines():
        key, _, value = line.partition(":")
        if key in ("MemTotal", "MemFree", "MemAvailable"):
            figures[{"MemTotal": "memory_total", "MemFree": "memory_free", "MemAvailable": "memory_available"}[key]] = value.strip()
    stat = read_text("/proc/stat") or ""
    for line in stat.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]]
            total = sum(values) or 1
            user, _nice, system, _idle, iowait = (values + [0] * 5)[:5]
            figures["cpu_user_percent"] = round(100 * user / total, 1)
            figures["cpu_system_percent"] = round(100 * system / total, 1)
            figures["cpu_iowait_percent"] = round(100 * iowait / total, 1)
            break
    loadavg = read_text("/proc/loadavg")
    if loadavg:
        figures["load_average"] = " ".join(loadavg.split()[:3])
    uptime = read_text("/proc/uptime")
    if uptime:
        figures["uptime_seconds"] = round(float(uptime.split()[0]))
    return figures


def environment(pid: int) -> dict[str, str]:
    raw = read_text(f"/proc/{pid}/environ") or ""
    out = {}
    for item in raw.split("\0"):
        key, sep, value = item.partition("=")
        if sep and key:
            out[key] = value
    return out


@record
class ProcessFacts:
    """Everything gathered from /proc for one process, kept as plain data (JSON-able)."""

    pid: int
    threads: list[ThreadFacts] = field(default_factory=list)
    process: dict[str, object] = field(default_factory=dict)
    machine: dict[str, object] = field(default_factory=dict)
    environment: dict[str, str] | None = None

    def to_json(self) -> dict:
        return {"pid": self.pid, "process": self.process, "machine": self.machine,
                "environment": self.environment,
                "threads": [{"tid": t.tid, "name": t.name, "state": t.state, "kernel_stack": t.kernel_stack}
                            for t in self.threads]}

    @classmethod
    def from_json(cls, data: dict) -> ProcessFacts:
        facts = cls(int(data.get("pid") or 0), process=dict(data.get("process") or {}),
                    machine=dict(data.get("machine") or {}), environment=data.get("environment"))
        for item in data.get("threads") or []:
            facts.threads.append(ThreadFacts(int(item["tid"]), item.get("name"), item.get("state"),
                                             list(item.get("kernel_stack") or [])))
        return facts


def gather(pid: int, with_environment: bool = False, tids: list[int] | None = None) -> ProcessFacts:
    from hydra.live.ptrace import task_ids

    facts = ProcessFacts(pid)
    for tid in tids if tids is not None else task_ids(pid):
        facts.threads.append(thread_facts(pid, tid))
    facts.process = process_figures(pid)
    facts.machine = machine_figures()
    if with_environment:
        facts.environment = environment(pid)
    return facts


def apply(facts: ProcessFacts, crash) -> None:
    """Thread names, states and kernel stacks, and the figures, into a crash model."""
    by_tid = {t.tid: t for t in facts.threads}
    for thread in crash.threads:
        known = by_tid.get(thread.tid)
        if known is None:
            continue
        thread.name = known.name or thread.name
        if known.state:
            thread.state = known.state
        if known.kernel_stack:
            thread.kernel_frames = list(known.kernel_stack)
    crash.system["process"] = dict(facts.process)
    crash.system["machine"] = dict(facts.machine)
    if facts.environment is not None:
        crash.system["environment"] = dict(facts.environment)
