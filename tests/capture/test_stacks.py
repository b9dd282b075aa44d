"""The stack memory a snapshot keeps, compared with gdb reading the same core."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oracle.gdb import ensure_gdb  # noqa: E402


def test_an_overflowed_stack_is_kept_when_sp_is_below_it(crashed, capture):
    """The faulting frame moved sp into the gap below the stack before writing there: the
    stack above it is kept all the same, as gdb reads it from the core."""
    program = crashed("big_frames.c", "-O0")
    crash = capture(program)
    thread = crash.crashed_thread
    sp = thread.registers["rsp"]
    assert "stack-overflow" in {c.name for c in crash.classifiers}
    assert crash.memory.read(sp, 8) is None           # in the gap: nothing there to keep
    caller = thread.frames[1]
    text = subprocess.run([ensure_gdb(), "-batch", "-nx", "-ex", f"x/16xg {caller.sp:#x}", program.exe, program.core],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "LC_ALL": "C"}).stdout
    theirs = [int(word, 16) for line in text.splitlines() if re.match(r"0x[0-9a-f]+( <[^>]*>)?:", line)
              for word in line.split(":", 1)[1].split()]
    assert len(theirs) == 16
    ours = crash.memory.read(caller.sp, 128)
    assert ours is not None, "the stack above the overflow was not kept"
    assert [int.from_bytes(ours[i:i + 8], "little") for i in range(0, 128, 8)] == theirs
