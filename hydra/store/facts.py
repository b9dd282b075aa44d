"""The facts a crash is stored and asked about by: one row of the crashes table."""

from __future__ import annotations

import os

from hydra.model.crash import Crash

# the severity tiers in rising order (CASR's), so `severity>=PROBABLY_EXPLOITABLE` compares
SEVERITIES = ("NOT_EXPLOITABLE", "PROBABLY_EXPLOITABLE", "EXPLOITABLE")
TOP_FRAMES = 5
# the columns a query may name, and the attributes a crash's version may come from
FIELDS = ("id", "path", "origin", "program", "version", "host", "os", "arch", "captured", "signal",
          "classifiers", "severity", "severity_rule", "fingerprint", "fingerprint_frames", "top_frames",
          "indexed", "snapshot")
VERSION_ATTRIBUTES = ("version", "app.version", "application.version", "ver")


def crash_facts(crash: Crash, path: str, kind: str, fingerprint: tuple[str, list[str]],
                captured: float) -> dict:
    attributes = crash.attributes
    executable = crash.process.executable or ""
    program = attributes.get("application") or os.path.basename(executable.replace("\\", "/")) or None
    version = next((attributes[key] for key in VERSION_ATTRIBUTES if attributes.get(key)), None)
    severity = attributes.get("severity")
    thread = crash.crashed_thread
    top = [frame.display_name for frame in (thread.frames if thread else [])[:TOP_FRAMES]]
    return {
        "path": path, "origin": kind, "program": program, "version": version,
        "host": attributes.get("hostname") or attributes.get("host"),
        "os": attributes.get("os") or attributes.get("uname.sysname"),
        "arch": crash.process.architecture, "captured": captured,
        "signal": crash.signal.name if crash.signal else None,
        "classifiers": " " + " ".join(c.name for c in crash.classifiers) + " " if crash.classifiers else "",
        "severity": severity,
        "severity_rank": SEVERITIES.index(severity) if severity in SEVERITIES else None,
        "severity_rule": attributes.get("severity.rule"),
        "fingerprint": fingerprint[0], "fingerprint_frames": " | ".join(fingerprint[1]),
        "top_frames": " | ".join(top),
        "attributes": {str(key): str(value) for key, value in attributes.items()},
    }
