"""Installing the handler as the kernel's core_pattern, checking the setup, restoring it."""

from __future__ import annotations

import os
import resource
import sys

CORE_PATTERN = "/proc/sys/kernel/core_pattern"
CORE_PIPE_LIMIT = "/proc/sys/kernel/core_pipe_limit"
SAVED = "previous_core_pattern"
MAX_PATTERN = 127              # CORENAME_MAX_SIZE - 1: the kernel cuts longer lines silently
OTHER_HANDLERS = ("apport", "systemd-coredump", "abrt", "kdump")


def handler_line(directory: str, config_file: str | None) -> str:
    command = [sys.executable, "-m", "hydra", "coresnap", "handle", "--dir", directory]
    if config_file:
        command += ["--config", config_file]
    # the kernel splits the line at spaces and has no quoting: paths must not hold spaces
    for part in command:
        if " " in part:
            raise ValueError(f"{part!r} holds a space, which core_pattern cannot pass")
    line = "|" + " ".join(command) + " %P %I %s %t %E"
    if len(line) > MAX_PATTERN:
        raise ValueError(f"the core_pattern line would be {len(line)} characters and the kernel keeps "
                         f"{MAX_PATTERN}: use a shorter archive path (or Python path)")
    return line


def check_setup(pattern: str) -> list[str]:
    notes = []
    soft, _hard = resource.getrlimit(resource.RLIMIT_CORE)
    if soft == 0:
        notes.append("the core size limit of this shell is 0 (ulimit -c): programs started from it make "
                     "no cores; raise it (ulimit -c unlimited, or LimitCORE=infinity for systemd services)")
    for other in OTHER_HANDLERS:
        if other in pattern:
            notes.append(f"another crash handler ({other}) was installed; it is replaced and restored by uninstall")
    return notes


def read_pattern() -> str:
    with open(CORE_PATTERN) as handle:
        return handle.read().strip()


def install(directory: str, config_file: str | None = None) -> tuple[str, list[str]]:
    from hydra.coresnap.archive import Archive

    line = handler_line(os.path.abspath(directory), os.path.abspath(config_file) if config_file else None)
    previous = read_pattern()
    notes = check_setup(previous)
    Archive(directory).ensure()
    saved = os.path.join(directory, SAVED)
    if not previous.startswith("|" + sys.executable + " -m hydra coresnap") and not os.path.exists(saved):
        with open(saved, "w") as handle:
            handle.write(previous + "\n")
    with open(CORE_PATTERN, "w") as handle:
        handle.write(line + "\n")
    try:
        with open(CORE_PIPE_LIMIT) as handle:
            if handle.read().strip() == "0":
                # let /proc/PID live until the handler is done reading it
                with open(CORE_PIPE_LIMIT, "w") as out:
                    out.write("16\n")
    except OSError as error:
        notes.append(f"cannot set core_pipe_limit ({error.strerror}): /proc/PID may vanish before it is read")
    return line, notes


def uninstall(directory: str) -> str:
    saved = os.path.join(directory, SAVED)
    try:
        with open(saved) as handle:
            previous = handle.read().strip() or "core"
    except FileNotFoundError:
        previous = "core"
    with open(CORE_PATTERN, "w") as handle:
        handle.write(previous + "\n")
    if os.path.exists(saved):
        os.unlink(saved)
    return previous
