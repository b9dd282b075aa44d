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
    # -I: the interpreter imports nothing from the working folder or the environment
    command = [sys.executable, "-I", "-m", "hydra", "coresnap", "handle", "--dir", directory]
    if config_file:
        command += ["--config", config_file]
    # the kernel splits the line at spaces and has no quoting: paths must not hold spaces
    for part in command:
        if " " in part:
            raise ValueError(f"{part!r} holds a space, which core_pattern cannot pass")
    line = "|" + " ".join(command) + " %P %I %s %t %u %g %E"
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


def _own_config() -> str:
    """This user's config, found through the user database, not HOME or XDG_CONFIG_HOME
    (which `sudo -E` or `su` carry over from the user who asked)."""
    import pwd

    from hydra.config import config_dir

    if os.geteuid() != 0:
        return os.path.join(config_dir(), "config.toml")
    return os.path.join(pwd.getpwuid(0).pw_dir, ".config", "hydra", "config.toml")


def install(settings) -> tuple[str, list[str]]:
    """Point core_pattern at the handler. The archive is made (root-owned, 0700) or checked
    first; the config the handler is to read is named on its line: the one given, else the
    user's, if there is one (the kernel runs the handler with HOME=/)."""
    from hydra.coresnap.archive import Archive

    directory = settings.directory
    config_file = settings.config_file
    default = _own_config()
    if config_file is None and os.path.isfile(default):
        config_file = default
    if config_file is not None:
        from hydra.coresnap.folder import open_trusted_file

        os.close(open_trusted_file(config_file))     # refused unless it is the administrator's
    line = handler_line(directory, os.path.abspath(config_file) if config_file else None)
    previous = read_pattern()
    notes = check_setup(previous)
    archive = Archive(directory, create=True)
    try:
        if not previous.startswith("|" + sys.executable) or "hydra coresnap" not in previous:
            if not archive.root.exists(SAVED):
                archive.root.write_atomic(SAVED, (previous + "\n").encode())
    finally:
        archive.close()
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
    from hydra.coresnap.archive import Archive

    previous = "core"
    try:
        archive = Archive(directory)
    except FileNotFoundError:
        archive = None
    if archive is not None:
        try:
            previous = archive.root.read(SAVED, 4096).decode("utf-8", "replace").strip() or "core"
        except FileNotFoundError:
            pass
    with open(CORE_PATTERN, "w") as handle:
        handle.write(previous + "\n")
    if archive is not None:
        archive.root.remove(SAVED)
        archive.close()
    return previous
