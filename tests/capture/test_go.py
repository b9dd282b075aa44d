"""Go cores (GOTRACEBACK=crash): every thread ends where gdb's does, and the crashed one goes
on through Go's signal frame into the goroutine that panicked, which gdb does not reach."""

from __future__ import annotations

import pytest

from hydra.model.crash import SIGNAL_HANDLER_CALLED


@pytest.fixture(scope="module", params=["-O0", "-O2"])
def go_crash(request, crashed, capture):
    return capture(crashed("go_panic.go", request.param)), request.param


def test_the_crashed_thread_reaches_the_panicking_method(go_crash):
    crash, _ = go_crash
    names = [frame.function for frame in crash.crashed_thread.frames]
    assert SIGNAL_HANDLER_CALLED in names
    after = names[names.index(SIGNAL_HANDLER_CALLED) + 1:]
    # named as gdb names Go functions: package, receiver type, method
    assert "runtime.gopanic" in after and "main.(*Indexer).add" in after and "main.main" in after
    assert after.index("main.(*Indexer).add") < after.index("main.main")
    assert names[-1] == "runtime.goexit"          # a goroutine's first frame: nothing called it
    add = next(f for f in crash.crashed_thread.frames if f.function == "main.(*Indexer).add")
    assert add.file.endswith("go_panic.go") and add.line == 19


def test_other_threads_end_at_a_return_address_of_zero(go_crash):
    crash, _ = go_crash
    for thread in crash.threads:
        assert thread.frames, thread.tid
        assert thread.unwind_note is None, (thread.tid, thread.unwind_note)
        if not thread.crashed:
            assert thread.frames[-1].pc == 0 and thread.frames[-1].display_name == "??"
            assert all(frame.pc for frame in thread.frames[:-1])


def test_locals_of_go_frames(crashed, capture):
    # unoptimized (-gcflags=all='-N -l'): main's locals, a Go string as gdb's Go prints it
    crash = capture(crashed("go_panic.go", "-O0"))
    main = next(f for f in crash.crashed_thread.frames if f.function == "main.main")
    ix = next(v for v in main.locals if v.name == "ix")
    target = ix.children[0] if ix.children else None
    assert target is not None and any(c.name == "name" and c.value == '"main"' for c in target.children)
