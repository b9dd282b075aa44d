"""Broken and hostile minidumps: what is usable shows, with warnings; nothing else escapes."""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess

import pytest

from hydra.minidump.opener import open_minidump
from hydra.model.errors import BadInput
from tests.conftest import hydra_command
from tests.minidump import builder


def write(tmp_path, data: bytes, name: str = "crash.dmp") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_the_built_dump_is_whole(tmp_path):
    crash = open_minidump(write(tmp_path, builder.linux_crash()), [])
    assert not crash.warnings
    thread = crash.crashed_thread
    assert thread.tid == 42 and thread.name == "worker"
    assert crash.attributes["crash_reason"] == "SIGSEGV / SEGV_MAPERR" and crash.signal.address == 0x10
    assert [f.trust for f in thread.frames] == ["context", "scan"]
    assert thread.frames[1].pc == builder.CODE + 0x1234
    assert crash.modules[0].debug_id == "C0BCC3F19827FE653058404B2831D9E60"
    assert "app (C0BCC3F19827FE653058404B2831D9E60)" in crash.attributes["_missing_symbols"]


def test_context_of_the_wrong_size(tmp_path):
    crash = open_minidump(write(tmp_path, builder.linux_crash(context_size=100)), [])
    assert any("context is 100 bytes" in w for w in crash.warnings)
    assert crash.threads and not crash.crashed_thread.frames
    assert crash.modules and crash.attributes["crash_reason"]


def test_counts_larger_than_the_stream(tmp_path):
    crash = open_minidump(write(tmp_path, builder.linux_crash(thread_count=0xFFFFFFF)), [])
    assert any("ThreadList says 268435455 entries" in w for w in crash.warnings)
    assert len(crash.threads) == 1


def test_directory_entry_outside_the_file(tmp_path):
    data = bytearray(builder.linux_crash())
    struct.pack_into("<III", data, 32 + 12 * 4, 5, 0x7FFFFFFF, 0x7FFFFFF0)   # the MemoryList entry
    crash = open_minidump(write(tmp_path, bytes(data)), [])
    assert any("MemoryList stream" in w and "past the end" in w for w in crash.warnings)
    assert crash.modules and crash.threads


def test_streams_that_overlap(tmp_path):
    data = bytearray(builder.linux_crash())
    _kind, size, rva = struct.unpack_from("<III", data, 32 + 12 * 3)       # the module list
    struct.pack_into("<III", data, 32 + 12 * 2, 24, size, rva)              # thread names on top of it
    crash = open_minidump(write(tmp_path, bytes(data)), [])
    assert any("overlap" in w for w in crash.warnings)
    assert crash.modules


def test_directory_past_the_end_is_one_clear_error(tmp_path):
    data = builder.linux_crash()
    broken = data[:8] + struct.pack("<II", 6, len(data) + 100) + data[16:]
    with pytest.raises(BadInput, match="directory"):
        open_minidump(write(tmp_path, broken), [])


@pytest.mark.parametrize("data, message", [
    (b"MDMP\x93\xa7", "truncated minidump"),
    (b"MDMP" + b"\0" * 40, "unknown minidump version"),
    (b"PMDM" + b"\0" * 40, "big-endian"),
])
def test_cli_says_one_line_and_exits_2(tmp_path, data, message):
    path = write(tmp_path, data)
    done = subprocess.run(hydra_command() + ["bt", path], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr and path in done.stderr


def test_hostile_names_reach_the_terminal_escaped(tmp_path):
    path = write(tmp_path, builder.linux_crash(thread_name="[bold red]x\x1b[2J\x07"))
    done = subprocess.run(hydra_command() + ["bt", path], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert '"[bold red]x\\x1b[2J\\x07"' in done.stdout


def test_fuzzed_shared_dumps(dumps, tmp_path):
    """Truncations, flipped bytes and overwritten headers of every shared dump."""
    cases = int(os.environ.get("HYDRA_FUZZ_CASES", "12"))
    rng = random.Random(4)
    paths = sorted(p for p in dumps.rglob("*.dmp") if "microdumps" not in p.parts)
    for index in range(cases * 4):
        source = paths[index % len(paths)].read_bytes()
        data = bytearray(source)
        mode = index % 3
        if mode == 0:
            data = data[: rng.randrange(0, len(data))]
        elif mode == 1:
            for _ in range(rng.randrange(1, 40)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            for _ in range(rng.randrange(1, 8)):
                at = rng.randrange(0, min(len(data), 4096))
                data[at : at + 4] = rng.randbytes(4)
        path = write(tmp_path, bytes(data), f"fuzz{index}.dmp")
        try:
            crash = open_minidump(path, [str(dumps / "breakpad/symbols")])
        except BadInput:
            continue
        for thread in crash.threads:
            assert len(thread.frames) <= 1024


def test_arm64_walks_the_frame_records(tmp_path):
    crash = open_minidump(write(tmp_path, builder.linux_arm64_crash()), [])
    assert crash.process.architecture == "aarch64" and not crash.warnings
    assert crash.attributes["crash_reason"] == "SIGBUS / BUS_ADRERR" and crash.attributes["os"] == "Android"
    frames = crash.crashed_thread.frames
    # rust-minidump's rule: the caller comes from the frame record, not from the link
    # register (0x200 here: stale in a frame that is not a leaf)
    assert [(f.trust, f.pc - builder.CODE) for f in frames] == [
        ("context", 0x100), ("frame_pointer", 0x300)]
    assert frames[1].registers["sp"] == builder.STACK + 0x110


def test_thousands_of_threads_are_capped(tmp_path):
    crash = open_minidump(write(tmp_path, builder.linux_crash(copies=6000)), [])
    assert len(crash.threads) == 4096
    assert any("only the first 4096 threads" in w for w in crash.warnings)


def test_assertion_stream(tmp_path):
    data = builder.linux_crash(assertion=("x != 0", "main", "a.c", 42))
    crash = open_minidump(write(tmp_path, data), [])
    assert crash.attributes["assertion"] == "x != 0 (main at a.c:42)"
    assert not crash.warnings


def _shared_strings_dump(kind: int, count: int) -> bytes:
    """A SystemInfo and one stream whose count entries all point at one long string."""
    b = builder.Builder()
    b.base = 32 + 12 * 2
    b.stream(7, struct.pack("<HHHBBIIIIIHH", 9, 6, 0x4601, 4, 1, 0, 0, 0, 0x8201, 0, 0, 0) + bytes(24))
    if kind == "dictionary":       # Crashpad: count modules sharing one dictionary of count entries
        value = b.place(struct.pack("<I", 60000) + b"A" * 60000)
        key = b.place(struct.pack("<I", 3) + b"key")
        dictionary = b.place(struct.pack("<I", count) + struct.pack("<II", key, value) * count)
        info = b.place(struct.pack("<5I", 0, 0, 0, 4 + 8 * count, dictionary))
        modules = b.place(struct.pack("<I", count) + struct.pack("<III", 0, 20, info) * count)
        b.stream(0x43500001, struct.pack("<I", 1) + bytes(32) + struct.pack("<IIII", 0, 0, 4 + 12 * count, modules))
    elif kind == 0x43500001:       # Crashpad: count modules, each listing count objects
        value = b.place(struct.pack("<I", 60000) + b"A" * 60000)
        name = b.place(struct.pack("<I", 4) + b"name")
        objects = b.place(struct.pack("<I", count) + struct.pack("<IHHI", name, 1, 0, value) * count)
        info = b.place(struct.pack("<7I", 0, 0, 0, 0, 0, 4 + 12 * count, objects))
        modules = b.place(struct.pack("<I", count) + struct.pack("<III", 0, 28, info) * count)
        b.stream(kind, struct.pack("<I", 1) + bytes(32) + struct.pack("<IIII", 0, 0, 4 + 12 * count, modules))
    else:                          # ThreadNames: count tids sharing one 1,000-character name
        name = b.place(struct.pack("<I", 2000) + "n".encode("utf-16-le") * 1000)
        b.stream(kind, struct.pack("<I", count) + b"".join(struct.pack("<IQ", tid, name) for tid in range(count)))
    return b.build()


@pytest.mark.parametrize("kind", [0x43500001, "dictionary", 24])
def test_entries_sharing_one_string_do_not_multiply_it(tmp_path, kind):
    import resource

    path = write(tmp_path, _shared_strings_dump(kind, 200_000 if kind == 24 else 20_000 if kind == "dictionary" else 1000))
    assert os.path.getsize(path) < 4 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from hydra.minidump.format import read_minidump

    dump = read_minidump(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 << 10    # KiB
    if kind != 24:
        assert sum(len(a.value) for a in dump.annotations) <= 8 << 20
        assert any("annotations" in w and "not shown" in w for w in dump.warnings)
    else:
        assert len(dump.thread_names) <= 4096


def test_memory_ranges_sharing_file_bytes_are_read_once(tmp_path):
    count = 5000        # ranges at different addresses, all backed by the same 4 KiB of the file
    entries = struct.pack("<I", count) + b"".join(
        struct.pack("<QII", 0x10000000 + n * 0x10000, 4096, 64) for n in range(count))
    crash = open_minidump(write(tmp_path, builder_with_memory(entries)), [])
    assert sum(region.size for region in crash.memory.regions) <= 2 * 4096       # one range, and the stack
    assert any("point at bytes of the file another range holds" in w for w in crash.warnings)


def builder_with_memory(memory_list: bytes) -> bytes:
    """linux_crash's streams, with its MemoryList replaced."""
    original = builder.linux_crash()
    count, directory = struct.unpack_from("<II", original, 8)
    b = builder.Builder()
    b.base = 32 + 12 * count
    for index in range(count):
        kind, size, rva = struct.unpack_from("<III", original, directory + 12 * index)
        b.stream(kind, memory_list if kind == 5 else original[rva:rva + size])
    return b.build()


def test_a_dump_without_threads_or_exception_is_bad_input(tmp_path):
    """As rust-minidump's invalid-range.dmp and invalid-record-count.dmp (MissingThreadList)."""
    made = builder.Builder()
    made.base = 32 + 12
    made.stream(builder.SYSTEM_INFO, struct.pack("<HHHBBIIIIIHH", 9, 6, 0x4601, 4, 1, 0, 0, 0, 0x8201, 0, 0, 0)
                + bytes(24))
    paths = [write(tmp_path, made.build(), "a.dmp"), write(tmp_path, made.build(), "b.dmp")]
    done = subprocess.run(hydra_command() + ["bt", paths[0]], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "no thread list" in done.stderr
    grouped = subprocess.run(hydra_command() + ["fingerprint", "--json", *paths], capture_output=True, text=True,
                             timeout=60)
    assert grouped.returncode == 2 and json.loads(grouped.stdout) == []


def test_crashes_without_frames_never_share_a_bucket(tmp_path):
    from hydra.analysis.fingerprint import default_rules, fingerprint
    from hydra.model.crash import Crash, Signal, Thread

    crashes = []
    for pid in (1, 2):
        crash = Crash(signal=Signal(4, "SIGILL"), crashed_tid=pid)
        crash.process.pid = pid
        crash.threads = [Thread(tid=pid, registers={"rip": 0x41414141})]
        crashes.append(crash)
    first, second = (fingerprint(c, default_rules())[0] for c in crashes)
    assert first != second
    assert fingerprint(crashes[0], default_rules())[0] == first        # the same crash, the same bucket
