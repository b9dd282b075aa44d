"""gdb as the independent oracle: its view of a core, as a dict."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

SCRIPT = os.path.join(os.path.dirname(__file__), "gdb_dump.py")


def ensure_gdb() -> str:
    path = shutil.which("gdb")
    if path is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "gdb"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        path = shutil.which("gdb")
    if path is None:
        raise RuntimeError("gdb is needed as the test oracle; install it (apt-get install gdb)")
    return path


def gdb_view(exe: str, core: str) -> dict:
    result = subprocess.run(
        [ensure_gdb(), "-batch", "-nx", "-x", SCRIPT, exe, core],
        capture_output=True, text=True, timeout=600,
        # gdb prints the bytes of strings in the host's character set; Hydra's spelling is
        # the C locale's (octal escapes above ASCII), whatever the capturing host used
        env={**os.environ, "LC_ALL": "C"},
    )
    for line in result.stdout.splitlines():
        if line.startswith("HYDRA-ORACLE "):
            return json.loads(line[len("HYDRA-ORACLE "):])
    raise RuntimeError(f"gdb gave no answer: {result.stderr[-2000:]}")


COMMANDS = os.path.join(os.path.dirname(__file__), "gdb_commands.py")


def gdb_commands(exe: str, core: str, commands: list[str]) -> list[dict]:
    """What gdb printed for each command (`print EXPR`, `ptype EXPR`, `x/4xw ADDR`), or
    its error: [{"command", "output" | "error"}]. A command may start with `TID FRAME|`."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as handle:
        handle.write("\n".join(commands) + "\n")
        listing = handle.name
    try:
        result = subprocess.run([ensure_gdb(), "-batch", "-nx", "-x", COMMANDS, exe, core], capture_output=True,
                                text=True, timeout=600, env={**os.environ, "LC_ALL": "C", "HYDRA_COMMANDS": listing})
    finally:
        os.unlink(listing)
    for line in result.stdout.splitlines():
        if line.startswith("HYDRA-COMMANDS "):
            return json.loads(line[len("HYDRA-COMMANDS "):])
    raise RuntimeError(f"gdb gave no answer: {result.stderr[-2000:]}")
