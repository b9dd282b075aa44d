"""Free key/value attributes of a capture: the user's, the environment's, the host's."""

from __future__ import annotations

import os


def parse_pairs(pairs: list[str], what: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} expects KEY=VALUE, got {pair!r}")
        result[key.strip()] = value
    return result


def host_attributes(application: str | None) -> dict[str, str]:
    uname = os.uname()
    attributes = {
        "hostname": uname.nodename,
        "uname.sysname": uname.sysname,
        "uname.release": uname.release,
        "uname.version": uname.version,
        "uname.machine": uname.machine,
    }
    if application:
        attributes["application"] = application
    return attributes


def environment_attributes() -> dict[str, str]:
    text = os.environ.get("HYDRA_ATTRIBUTES", "")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return parse_pairs(lines, "HYDRA_ATTRIBUTES")
