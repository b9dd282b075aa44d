"""Function scopes remembered between captures: the same answers as libdw, never another
file's, and nothing from a damaged cache file."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import msgpack
import pytest

from hydra.capture import parallel
from hydra.capture.engine import CaptureOptions, capture_core
from hydra.report.backtrace import format_json
from hydra.symbols import demangle, dwarf, scopecache
from hydra.symbols.dwarf import DebugFile, FunctionScope
from hydra.symbols.scopecache import ScopeCache

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oracle.gdb import gdb_view  # noqa: E402
from capture.compare import missing_frames  # noqa: E402

SCOPES = [FunctionScope("ns::inner", "_ZN2ns5innerEv", ["a", "b"], True, "x.h", 12, 0x1130),
          FunctionScope("main", None, [], False, None, None, 0x1100)]


def _report(crash) -> dict:
    report = format_json(crash, full=True)
    report["process"].pop("capture_time")
    return report


@pytest.fixture
def debug_file(tmp_path):
    path = tmp_path / "libthing.so.debug"
    path.write_bytes(b"\x7fELF not really")
    return str(path)


def test_saved_scopes_come_back_equal(tmp_path, debug_file):
    cache = ScopeCache(str(tmp_path / "scopes"))
    assert cache.get(debug_file, 0x1134) is None
    cache.put(debug_file, 0x1134, SCOPES)
    cache.put(debug_file, 0x2000, [])                                   # nothing there
    cache.put(debug_file, 0x3000, [FunctionScope(None, None, [], False)])  # unnamed: not kept
    cache.save()
    again = ScopeCache(str(tmp_path / "scopes"))
    assert again.get(debug_file, 0x1134) == SCOPES
    assert again.get(debug_file, 0x2000) == []
    assert again.get(debug_file, 0x3000) is None
    assert again.get(debug_file, 0x1135) is None


def test_a_changed_debug_file_is_not_answered_from_the_old_entries(tmp_path, debug_file):
    cache = ScopeCache(str(tmp_path / "scopes"))
    cache.put(debug_file, 0x1134, SCOPES)
    cache.save()
    os.utime(debug_file, ns=(1, 1))
    rebuilt = ScopeCache(str(tmp_path / "scopes"))
    assert rebuilt.get(debug_file, 0x1134) is None
    rebuilt.put(debug_file, 0x40, SCOPES[1:])
    rebuilt.save()
    assert len(list((tmp_path / "scopes").iterdir())) == 1        # replaced, not piled up
    assert ScopeCache(str(tmp_path / "scopes")).get(debug_file, 0x40) == SCOPES[1:]
    moved = debug_file + ".moved"
    shutil.copy(debug_file, moved)
    assert ScopeCache(str(tmp_path / "scopes")).get(moved, 0x1134) is None


def test_two_captures_saving_at_once_keep_both_entries(tmp_path, debug_file):
    first, second = ScopeCache(str(tmp_path / "scopes")), ScopeCache(str(tmp_path / "scopes"))
    first.put(debug_file, 0x10, SCOPES[:1])
    second.put(debug_file, 0x20, SCOPES[1:])
    first.save()
    second.save()
    merged = ScopeCache(str(tmp_path / "scopes"))
    assert merged.get(debug_file, 0x10) == SCOPES[:1]
    assert merged.get(debug_file, 0x20) == SCOPES[1:]


@pytest.mark.parametrize("content", [
    b"",
    b"\xc1" * 100,                                           # not msgpack
    msgpack.packb([1, 2, 3]),
    msgpack.packb({"version": 99, "identity": None, "scopes": []}),
    "identity-ok-bad-scope",
    "identity-ok-bad-types",
    "identity-ok-deep",
])
def test_a_damaged_cache_file_is_ignored_and_replaced(tmp_path, debug_file, content):
    root = tmp_path / "scopes"
    cache = ScopeCache(str(root))
    cache.put(debug_file, 0x10, SCOPES)
    cache.save()
    [location] = root.iterdir()
    identity = msgpack.unpackb(location.read_bytes())["identity"]
    if content == "identity-ok-bad-scope":
        content = msgpack.packb({"version": scopecache.VERSION, "identity": identity, "scopes": [[0x10, [[1, 2]]]]})
    elif content == "identity-ok-bad-types":
        content = msgpack.packb({"version": scopecache.VERSION, "identity": identity,
                                 "scopes": [[0x10, [["[red]x", None, [7], False, None, None, None]]]]})
    elif content == "identity-ok-deep":
        packed = msgpack.packb({"version": scopecache.VERSION, "identity": identity, "scopes": 0})
        content = packed[:-1] + b"\x91" * 5000 + b"\x01"      # lists 5,000 deep
    location.write_bytes(content)
    damaged = ScopeCache(str(root))
    assert damaged.get(debug_file, 0x10) is None
    damaged.put(debug_file, 0x30, SCOPES[1:])
    damaged.save()
    assert ScopeCache(str(root)).get(debug_file, 0x30) == SCOPES[1:]


def test_a_file_keeps_the_newest_entries_within_its_bounds(tmp_path, debug_file, monkeypatch):
    monkeypatch.setattr(scopecache, "MAX_ENTRIES", 10)
    cache = ScopeCache(str(tmp_path / "scopes"))
    for address in range(25):
        cache.put(debug_file, address, SCOPES)
    cache.save()
    again = ScopeCache(str(tmp_path / "scopes"))
    assert [a for a in range(25) if again.get(debug_file, a)] == list(range(15, 25))
    again.put(debug_file, 99, SCOPES)
    again.save()
    assert [a for a in range(100) if ScopeCache(str(tmp_path / "scopes")).get(debug_file, a)] == \
        list(range(16, 25)) + [99]
    monkeypatch.setattr(scopecache, "MAX_FILE_BYTES", 600)
    big = ScopeCache(str(tmp_path / "big"))
    for address in range(10):
        big.put(debug_file, address, SCOPES)
    big.save()
    [written] = (tmp_path / "big").iterdir()
    assert written.stat().st_size <= 600
    assert ScopeCache(str(tmp_path / "big")).get(debug_file, 9) == SCOPES


def test_the_folder_keeps_the_files_saved_most_recently(tmp_path, monkeypatch):
    monkeypatch.setattr(scopecache, "MAX_FILES", 3)
    paths = []
    for number in range(5):
        path = tmp_path / f"lib{number}.debug"
        path.write_bytes(b"x")
        paths.append(str(path))
        cache = ScopeCache(str(tmp_path / "scopes"))
        cache.put(str(path), 0x10, SCOPES)
        cache.save()
        os.utime(next(p for p in (tmp_path / "scopes").iterdir() if p.name.startswith(f"lib{number}")),
                 ns=(number * 10**9, number * 10**9))
    kept = ScopeCache(str(tmp_path / "scopes"))
    assert [kept.get(path, 0x10) is not None for path in paths] == [False, False, True, True, True]


def test_something_else_in_the_files_place_does_not_stall_a_capture(tmp_path, debug_file):
    cache = ScopeCache(str(tmp_path / "scopes"))
    cache.put(debug_file, 0x10, SCOPES)
    cache.save()
    [location] = (tmp_path / "scopes").iterdir()
    location.unlink()
    os.mkfifo(location)
    assert ScopeCache(str(tmp_path / "scopes")).get(debug_file, 0x10) is None


def test_leftovers_of_a_killed_save_are_removed(tmp_path, debug_file):
    root = tmp_path / "scopes"
    root.mkdir()
    old, fresh = root / ".scopes-old", root / ".scopes-writing"
    old.write_bytes(b"x" * 100)
    fresh.write_bytes(b"x")
    os.utime(old, (1, 1))
    cache = ScopeCache(str(root))
    cache.put(debug_file, 0x10, SCOPES)
    cache.save()
    assert not old.exists() and fresh.exists()


def test_an_unwritable_cache_folder_costs_nothing_but_the_entries(tmp_path, debug_file):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ScopeCache(str(blocker / "scopes"))
    cache.put(debug_file, 0x10, SCOPES)
    cache.save()
    assert ScopeCache(str(blocker / "scopes")).get(debug_file, 0x10) is None


@pytest.mark.parametrize("source", ["inline_chain.c", "exception.cpp"])
def test_the_second_capture_reads_scopes_from_the_cache_and_says_what_gdb_says(crashed, tmp_path, monkeypatch,
                                                                               source):
    program = crashed(source, "-O2")
    reference = capture_core(program.core)
    options = CaptureOptions(scope_cache=str(tmp_path / "scopes"))
    first = capture_core(program.core, options)
    assert any(tmp_path.joinpath("scopes").iterdir())

    def no_lookups(self, address):
        raise AssertionError("a remembered scope was looked up again")

    monkeypatch.setattr(DebugFile, "function_scopes", no_lookups)
    second = capture_core(program.core, options)
    assert _report(first) == _report(reference) == _report(second)
    oracle = gdb_view(program.exe, program.core)
    for gdb_thread in oracle["threads"]:
        assert not missing_frames(second.thread(gdb_thread["tid"]), gdb_thread)


def test_scopes_found_by_the_forked_half_are_remembered_too(crashed, tmp_path, monkeypatch):
    program = crashed("threads_many.c", "-O0")
    monkeypatch.setattr(parallel, "MIN_THREADS", 2)
    options = CaptureOptions(scope_cache=str(tmp_path / "scopes"))
    first = capture_core(program.core, options)
    monkeypatch.setattr(DebugFile, "function_scopes", lambda self, address: pytest.fail("looked up again"))
    monkeypatch.setattr(parallel, "MIN_THREADS", 10**6)
    second = capture_core(program.core, options)
    assert _report(first) == _report(second)


def test_the_cache_follows_the_debug_cache_switch(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert scopecache.directory() == str(tmp_path / "hydra" / "scopes")
    monkeypatch.setenv("HYDRA_DEBUG_CACHE", "0")
    assert scopecache.directory() is None


@pytest.mark.parametrize("module", [dwarf, demangle])
def test_the_finders_state_is_part_of_the_identity(tmp_path, debug_file, monkeypatch, module):
    cache = ScopeCache(str(tmp_path / "scopes"))
    cache.put(debug_file, 0x10, SCOPES)
    cache.save()
    assert ScopeCache(str(tmp_path / "scopes")).get(debug_file, 0x10) == SCOPES
    changed = tmp_path / "changed.py"
    changed.write_text("# another finder\n")
    monkeypatch.setattr(module, "__file__", str(changed))
    assert ScopeCache(str(tmp_path / "scopes")).get(debug_file, 0x10) is None
