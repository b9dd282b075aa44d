"""Every frame shown keeps the code around its pc, the program's own up to the end of its
text (read from the binary, whose last page the file does not fill)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("source", ["stack_overflow.c", "null_deref.c", "smashed_stack.c"])
def test_code_around_every_shown_pc(crashed, capture, source):
    crash = capture(crashed(source, "-O0", extra=("-fno-stack-protector",) if source == "smashed_stack.c" else ()))
    executable = crash.process.executable
    checked = 0
    for thread in crash.threads:
        for frame in thread.frames:
            if frame.module != executable or frame.inline:
                continue
            before = frame.pc - (0 if frame.trust == "context" else 1)
            assert crash.memory.read(before, 1) is not None, (thread.tid, frame.index, frame.function)
            checked += 1
    assert checked >= 2
