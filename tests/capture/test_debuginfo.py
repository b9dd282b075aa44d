"""How capture opens the debug files it reads with libdw (capture/debuginfo.py)."""

from __future__ import annotations

import gc
import os
import threading
from collections import Counter

import pytest

from hydra.capture import walker
from hydra.capture.engine import CaptureOptions, capture_core
from hydra.report.backtrace import format_json
from hydra.symbols import dwarf

UNCACHED = CaptureOptions(debug_cache=None, scope_cache=None)


def _report(crash) -> dict:
    report = format_json(crash, full=True)
    report["process"].pop("capture_time")
    return report


def test_the_stopped_in_modules_are_opened_once_on_another_thread_while_drgn_loads(crashed, monkeypatch):
    program = crashed("threads_many.c", "-O0")
    opened: Counter = Counter()
    threads: dict[str, str] = {}
    original = dwarf.DebugFile.__init__

    def counting(self, path, share=None):
        if share is None:       # a handle of its own: libdw reads (and inflates) the file again
            opened[path] += 1
            threads.setdefault(path, threading.current_thread().name)
        original(self, path, share)

    monkeypatch.setattr(dwarf.DebugFile, "__init__", counting)
    crash = capture_core(program.core, UNCACHED)
    assert any(frame.line for thread in crash.threads for frame in thread.frames)
    assert set(opened.values()) == {1}, opened
    # the debug files of the modules the threads stopped in (the program, the C library)
    debug_files = {module.path: module.debug_file for module in crash.modules}
    stopped_in = {debug_files.get(thread.frames[0].module) for thread in crash.threads if thread.frames}
    stopped_in.discard(None)
    assert program.exe in stopped_in
    assert {path: threads.get(path) for path in stopped_in} == dict.fromkeys(stopped_in, "hydra-debug-files")


def test_a_file_not_opened_ahead_is_opened_by_the_walker(crashed, monkeypatch):
    program = crashed("threads_many.c", "-O0")
    reference = capture_core(program.core, UNCACHED)
    original = dwarf.DebugFile.__init__

    def failing_ahead(self, path, share=None):
        original(self, path, share)
        if threading.current_thread().name == "hydra-debug-files":
            self.close()            # as when no descriptor is left: a handle without DWARF

    monkeypatch.setattr(dwarf.DebugFile, "__init__", failing_ahead)
    assert _report(capture_core(program.core, UNCACHED)) == _report(reference)


def test_a_capture_that_fails_while_walking_closes_its_debug_files(crashed, monkeypatch):
    program = crashed("threads_many.c", "-O0")
    capture_core(program.core, UNCACHED)          # what a capture loads once per process

    def failing(self, threads, info):
        raise RuntimeError("walking fails")

    monkeypatch.setattr(walker.FrameWalker, "capture", failing)
    gc.collect()                # what earlier captures left to the collector closes now
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(RuntimeError, match="walking fails"):
        capture_core(program.core, UNCACHED)
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) == before
