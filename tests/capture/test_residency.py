"""Handing back drgn's mapped debug-file pages (hydra/capture/residency.py)."""

from __future__ import annotations

import ctypes
import mmap

import drgn

from hydra.capture import cplusplus, residency
from hydra.capture.residency import PAGE, MappedDebugFiles, _without, private_mappings


def _resident(start: int, end: int) -> int:
    """Resident bytes of this process's mapping that starts at start, from smaps."""
    inside = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and not fields[0].endswith(":"):
                low, high = (int(part, 16) for part in fields[0].split("-"))
                inside = low <= start < high
            elif inside and fields[0] == "Rss:":
                return int(fields[1]) * 1024
    raise AssertionError("mapping not found")


def test_ranges_leave_out_the_kept_pages():
    base = 100 * PAGE
    assert _without(base, base + 10 * PAGE, []) == [(base, base + 10 * PAGE)]
    assert _without(base, base + 10 * PAGE, [base + 3 * PAGE, base + 4 * PAGE]) == [
        (base, base + 3 * PAGE), (base + 5 * PAGE, base + 10 * PAGE)]
    assert _without(base, base + 2 * PAGE, [base, base + PAGE]) == []
    assert _without(base, base + 2 * PAGE, [base - PAGE, base + 2 * PAGE]) == [(base, base + 2 * PAGE)]


def test_release_unmaps_what_drgn_read_and_keeps_the_retagged_abbreviations(crashed):
    program = crashed("cxx_values.cpp", "-O0")
    prog = drgn.Program()
    prog.set_core_dump(program.core)
    prog.set_enabled_debug_info_finders(["standard"])
    prog.create_loaded_modules()
    main = prog.main_module()
    main.try_file(program.exe)
    written = cplusplus.teach_drgn(prog)
    assert written, "a C++ program has references to re-tag"
    tags = {address: ctypes.c_ubyte.from_address(address).value for address in written}
    mapped = MappedDebugFiles([main.debug_file_path], written, min_bytes=0)
    (start, end, _offset), = private_mappings([main.debug_file_path])[main.debug_file_path]
    ctypes.string_at(start, end - start)         # every page read, as indexing a large file does
    kept = (end - start) - sum(high - low for low, high in mapped.ranges)
    assert kept >= PAGE and kept <= 8 * PAGE      # the abbreviations' pages, the ELF and section headers
    assert _resident(start, end) > kept

    mapped.release()

    assert _resident(start, end) <= kept
    assert {address: ctypes.c_ubyte.from_address(address).value for address in written} == tags
    # what drgn reads afterwards is the file's bytes, refaulted, and the re-tagging holds
    assert open(program.exe, "rb").read()[:64] == ctypes.string_at(start, 64)
    frame = prog.crashed_thread().stack_trace()[0]
    assert frame.name


def test_capture_values_are_the_same_with_and_without_releasing(crashed, monkeypatch):
    from hydra.capture.engine import capture_core
    from hydra.snapshot.format import encode_threads

    program = crashed("cxx_values.cpp", "-O0")
    released = []
    original = MappedDebugFiles.release

    def counting(self):
        released.append(len(self.ranges))
        original(self)

    monkeypatch.setattr(residency, "MIN_BYTES", 0)
    monkeypatch.setattr(MappedDebugFiles, "release", counting)
    monkeypatch.setattr(MappedDebugFiles, "start", lambda self, interval=0.0: None)
    releasing = capture_core(program.core)
    assert released and all(released)
    monkeypatch.setattr(MappedDebugFiles, "release", lambda self: None)
    keeping = capture_core(program.core)
    assert encode_threads(releasing.threads) == encode_threads(keeping.threads)
    assert any(v.type.endswith("&") for f in releasing.crashed_thread.frames for v in f.args)


def test_files_with_compressed_sections_are_left_mapped(tmp_path):
    """libelf rewrites the header of each section it inflates, in the mapping: a page
    of it released would come back saying the section is still compressed."""
    from conftest import PROGRAMS, compile_program

    exe = compile_program(PROGRAMS / "cxx_values.cpp", tmp_path / "gz", ["-O0", "-gz"])
    plain = compile_program(PROGRAMS / "cxx_values.cpp", tmp_path / "plain", ["-O0"])
    with open(exe, "rb") as a, open(plain, "rb") as b:
        maps = [mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
                for f in (a, b)]
        try:
            assert MappedDebugFiles([str(exe)], min_bytes=0).ranges == []
            assert MappedDebugFiles([str(plain)], min_bytes=0).ranges
            assert MappedDebugFiles([str(plain)]).ranges == []      # small: not worth a thread
        finally:
            for m in maps:
                m.close()
