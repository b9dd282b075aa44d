"""Inflated copies of compressed debug files: made once, found by build-id, same results."""

from __future__ import annotations

import os
import subprocess

from elftools.elf.elffile import ELFFile

from hydra.capture.engine import CaptureOptions, capture_core
from hydra.report.backtrace import format_json
from hydra.symbols import debugcache

SHF_COMPRESSED = 0x800


def _debug_sections(path) -> dict[str, int]:
    with open(path, "rb") as handle:
        return {s.name: s["sh_flags"] for s in ELFFile(handle).iter_sections() if s.name.startswith(".debug_")}


def _report(crash) -> dict:
    report = format_json(crash, full=True)
    report["process"].pop("capture_time")
    return report


def _separate_debug_file(program, folder) -> tuple[str, str]:
    """The program split as distributions ship it: a stripped binary, and its DWARF
    compressed in a debug file under folder/.build-id. (binary, debug file)."""
    exe = folder / "stripped"
    subprocess.run(["objcopy", "--strip-debug", program.exe, str(exe)], check=True)
    with open(exe, "rb") as handle:
        note = ELFFile(handle).get_section_by_name(".note.gnu.build-id")
        build_id = next(note.iter_notes())["n_desc"]
    debug = folder / "debug" / ".build-id" / build_id[:2] / (build_id[2:] + ".debug")
    debug.parent.mkdir(parents=True)
    subprocess.run(["objcopy", "--only-keep-debug", "--compress-debug-sections=zlib", program.exe, str(debug)],
                   check=True)
    return str(exe), str(debug)


def test_a_compressed_debug_file_is_kept_inflated_and_used_next_time(crashed, tmp_path, monkeypatch):
    program = crashed("null_deref.c", "-O0")
    exe, debug = _separate_debug_file(program, tmp_path)
    assert any(flags & SHF_COMPRESSED for flags in _debug_sections(debug).values())
    options = {"exe": exe, "debug_dirs": [str(tmp_path / "debug")]}
    root = str(tmp_path / "cache")
    without = capture_core(program.core, CaptureOptions(**options))
    assert next(m for m in without.modules if m.path == program.exe).debug_file == debug

    used = []
    original = debugcache.original_path
    monkeypatch.setattr(debugcache, "original_path", lambda path, root: used.append(path) or original(path, root))
    first = capture_core(program.core, CaptureOptions(**options, debug_cache=root))
    main = next(m for m in first.modules if m.path == program.exe)
    copy = tmp_path / "cache" / ".build-id" / main.build_id[:2] / (main.build_id[2:] + ".debug")
    assert copy.is_file()
    sections = _debug_sections(copy)
    assert sections.keys() == _debug_sections(debug).keys()
    assert not any(flags & SHF_COMPRESSED for flags in sections.values())
    assert (copy.parent / (copy.name + ".source")).read_text() == debug
    # found in the build-id layout, it was inflated before drgn and libdw opened it: the
    # first capture already read the copy ...
    assert str(copy) in used
    assert main.debug_file == debug               # ... and the snapshot names the original

    used.clear()
    second = capture_core(program.core, CaptureOptions(**options, debug_cache=root))
    assert str(copy) in used
    main = next(m for m in second.modules if m.path == program.exe)
    assert main.debug_file == debug
    assert _report(second) == _report(first) == _report(without)
    assert any(f.function == "lookup_price" and f.line for f in second.crashed_thread.frames)


def test_a_debug_file_found_by_debuglink_is_kept_after_the_capture(crashed, tmp_path, monkeypatch):
    # a build of its own, split in place after the crash: the core names a stripped binary
    # whose .gnu_debuglink points at a compressed debug file beside it
    program = crashed("null_deref.c", "-O0", ("-DSPLIT_BY_DEBUGLINK",))
    beside = program.exe + ".debug"
    if not os.path.exists(beside):
        subprocess.run(["objcopy", "--only-keep-debug", "--compress-debug-sections=zlib", program.exe, beside],
                       check=True)
        subprocess.run(["objcopy", "--strip-debug", f"--add-gnu-debuglink={beside}", program.exe], check=True)
    used = []
    original = debugcache.original_path
    monkeypatch.setattr(debugcache, "original_path", lambda path, root: used.append(path) or original(path, root))
    options = CaptureOptions(debug_cache=str(tmp_path / "cache"))
    first = capture_core(program.core, options)
    assert beside in used
    main = next(m for m in first.modules if m.path == program.exe)
    copy = tmp_path / "cache" / ".build-id" / main.build_id[:2] / (main.build_id[2:] + ".debug")
    assert copy.is_file()
    used.clear()
    second = capture_core(program.core, options)
    assert str(copy) in used
    assert next(m for m in second.modules if m.path == program.exe).debug_file == beside
    assert _report(second) == _report(first)
    assert any(f.function == "lookup_price" and f.line for f in second.crashed_thread.frames)


def test_binaries_are_not_copied(crashed, tmp_path):
    program = crashed("null_deref.c", "-O0", ("-gz=zlib",))
    assert any(flags & SHF_COMPRESSED for flags in _debug_sections(program.exe).values())
    assert debugcache.store(str(tmp_path), program.exe, "ab" * 20) is None


def test_nothing_is_kept_for_uncompressed_or_unreadable_files(crashed, tmp_path):
    program = crashed("null_deref.c", "-O0")
    root = str(tmp_path / "debug")
    assert debugcache.store(root, program.exe, "ab" * 20) is None      # nothing compressed
    assert debugcache.store(root, str(tmp_path / "missing"), "ab" * 20) is None
    assert debugcache.store(root, program.exe, "../../etc") is None     # not a build-id
    assert not (tmp_path / "debug" / ".build-id").exists() or \
        not any((tmp_path / "debug" / ".build-id").rglob("*.debug"))


def test_the_cache_can_be_turned_off(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert debugcache.directory() == str(tmp_path / "hydra" / "debug")
    monkeypatch.setenv("HYDRA_DEBUG_CACHE", "0")
    assert debugcache.directory() is None
    monkeypatch.delenv("HYDRA_DEBUG_CACHE")
    config = tmp_path / "config" / "hydra"
    config.mkdir(parents=True)
    (config / "config.toml").write_text("debug_cache = false\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert debugcache.directory() is None
