"""How capture opens the debug files it reads with libdw (capture/debuginfo.py)."""

from __future__ import annotations

import threading
from collections import Counter

from hydra.capture.engine import CaptureOptions, capture_core
from hydra.symbols import dwarf


def test_each_debug_file_is_opened_once_on_another_thread_while_drgn_loads(crashed, monkeypatch):
    program = crashed("threads_many.c", "-O0")
    opened: Counter = Counter()
    threads: set[str] = set()
    original = dwarf.DebugFile.__init__

    def counting(self, path, share=None):
        if share is None:       # a handle of its own: libdw reads (and inflates) the file again
            opened[path] += 1
            threads.add(threading.current_thread().name)
        original(self, path, share)

    monkeypatch.setattr(dwarf.DebugFile, "__init__", counting)
    crash = capture_core(program.core, CaptureOptions(debug_cache=None, scope_cache=None))
    assert any(frame.line for thread in crash.threads for frame in thread.frames)
    assert program.exe in opened
    assert set(opened.values()) == {1}, opened
    assert threads == {"hydra-debug-files"}
