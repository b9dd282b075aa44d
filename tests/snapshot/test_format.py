"""The .hsnap format: round trips, versions, laziness, corrupt files."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

import msgpack
import pytest

from hydra.model import BadInput
from hydra.report.backtrace import format_json
from hydra.snapshot.format import FORMAT_VERSION, HEADER, MAGIC, read_snapshot, write_snapshot


@pytest.fixture(scope="module")
def saved(crashed, capture, tmp_path_factory):
    crash = capture(crashed("null_deref.c", "-O0"))
    path = tmp_path_factory.mktemp("snap") / "null.hsnap"
    write_snapshot(crash, str(path))
    return crash, path


def test_round_trip_gives_the_same_backtrace(saved):
    crash, path = saved
    again = read_snapshot(str(path))
    assert format_json(again, full=True) == format_json(crash, full=True)


def test_round_trip_keeps_memory_sources_and_registers(saved):
    crash, path = saved
    again = read_snapshot(str(path))
    for region in crash.memory.regions:
        assert again.memory.read(region.start, region.size) == region.data
    assert again.sources.keys() == crash.sources.keys()
    for name, source in crash.sources.items():
        assert again.sources[name].text == source.text
    assert again.crashed_thread.registers == crash.crashed_thread.registers
    assert again.crashed_thread.frames[1].registers == crash.crashed_thread.frames[1].registers


def test_snapshot_is_small_next_to_the_core(saved, crashed):
    """Against the bytes of data the core holds (holes left out, whatever the filesystem's
    block accounting): a small crash's snapshot is a small part of it."""
    from hydra.model.files import data_bytes

    crash, path = saved
    with open(crashed("null_deref.c", "-O0").core, "rb") as core:
        data = data_bytes(core.fileno())
    assert 0 < data <= os.path.getsize(crash.process.core_path)
    assert os.path.getsize(path) < 0.1 * data


def test_blobs_are_not_read_on_open(saved, monkeypatch):
    _crash, path = saved
    from hydra.snapshot import format as snapshot_format

    calls = []
    original = snapshot_format._decompress

    def counting(data, raw, codec):
        calls.append(codec)
        return original(data, raw, codec)

    monkeypatch.setattr(snapshot_format, "_decompress", counting)
    crash = read_snapshot(str(path))
    assert calls == []              # the index only
    small = [r for r in crash.memory.regions if r.size < snapshot_format.SMALL_BLOB_BYTES]
    assert len(small) >= 2
    assert small[0].data
    assert calls == [snapshot_format.CODEC_LZMA]    # the small crash's one shared block
    assert small[1].data
    assert len(calls) == 1          # decompressed once for all its members


def test_many_small_blobs_fill_zlib_blocks_and_large_ones_stand_alone(tmp_path):
    from hydra.model.crash import Crash, Process
    from hydra.model.memory import Memory, MemoryRegion
    from hydra.snapshot import format as snapshot_format

    crash = Crash(origin="core")
    crash.process = Process(pid=1)
    regions = []
    for index in range(40):       # 40 x 48 KiB: more than one block
        data = os.urandom(1024) * 48
        regions.append(MemoryRegion(0x10000 * (index + 1), len(data), "stack", _data=data))
    big = os.urandom(300 << 10)
    regions.append(MemoryRegion(0x1000_0000, len(big), "object", _data=big))
    crash.memory = Memory(regions)
    path = tmp_path / "many.hsnap"
    write_snapshot(crash, str(path))
    raw = path.read_bytes()
    flags = HEADER.unpack_from(raw, 0)[3]
    assert flags & snapshot_format.FLAG_LZMA_INDEX
    again = read_snapshot(str(path))
    for region in regions:
        assert again.memory.read(region.start, region.size) == region.data


def test_a_format_1_0_snapshot_still_opens():
    """Written by Hydra's first format (zlib streams per blob, frames as maps)."""
    from pathlib import Path

    path = Path(__file__).with_name("format_1_0.hsnap")
    assert HEADER.unpack_from(path.read_bytes(), 0)[1:3] == (1, 0)
    crash = read_snapshot(str(path))
    frames = [f.function for f in crash.crashed_thread.frames]
    assert frames[:3] == ["__pthread_kill_implementation", "__GI_raise", "__GI_abort"]
    assert "post" in frames and "main" in frames
    post = next(f for f in crash.crashed_thread.frames if f.function == "post")
    assert post.file.endswith("ledger_assert.c") and post.line == 12
    assert [v.name for v in post.args] == ["ledger", "memo", "cents"]
    assert any(path.endswith("ledger_assert.c") and "balance" in source.text
               for path, source in crash.sources.items())
    assert crash.memory.read(crash.crashed_thread.registers["rsp"], 8) is not None


def test_readable_after_a_move_without_capture_dependencies(saved, tmp_path):
    _crash, path = saved
    moved = tmp_path / "elsewhere" / "renamed.bin"
    moved.parent.mkdir()
    moved.write_bytes(path.read_bytes())
    # a reader that cannot import drgn, pyelftools or capstone still opens it
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, *a):\n"
        "        if name.split('.')[0] in ('drgn', '_drgn', 'elftools', 'capstone'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from hydra.cli import main\n"
        f"raise SystemExit(main(['bt', {str(moved)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "lookup_price" in result.stdout


def _rewrite_version(path, target, major, minor):
    data = bytearray(path.read_bytes())
    magic, _major, _minor, flags, offset, length, raw = HEADER.unpack_from(data, 0)
    HEADER.pack_into(data, 0, magic, major, minor, flags, offset, length, raw)
    target.write_bytes(bytes(data))


def test_newer_major_version_is_refused_clearly(saved, tmp_path):
    _crash, path = saved
    newer = tmp_path / "newer.hsnap"
    _rewrite_version(path, newer, FORMAT_VERSION[0] + 1, 0)
    with pytest.raises(BadInput, match="newer"):
        read_snapshot(str(newer))


def test_newer_minor_version_is_read(saved, tmp_path):
    _crash, path = saved
    newer = tmp_path / "minor.hsnap"
    _rewrite_version(path, newer, FORMAT_VERSION[0], 7)
    assert read_snapshot(str(newer)).crashed_thread.frames[0].function == "lookup_price"


@pytest.mark.parametrize("cut", [10, 40, 1000, -50])
def test_truncated_snapshots_are_bad_input(saved, tmp_path, cut):
    _crash, path = saved
    data = path.read_bytes()
    broken = tmp_path / "broken.hsnap"
    broken.write_bytes(data[:cut])
    with pytest.raises(BadInput):
        read_snapshot(str(broken))


def test_hostile_index_sizes_do_not_allocate(tmp_path):
    index = zlib.compress(msgpack.packb({"threads": []}))
    hostile = tmp_path / "hostile.hsnap"
    header = HEADER.pack(MAGIC, 1, 0, 0, HEADER.size, len(index), 1 << 40)
    hostile.write_bytes(header + index)
    with pytest.raises(BadInput):
        read_snapshot(str(hostile))


def test_wrong_types_in_the_index_are_bad_input(tmp_path):
    index = zlib.compress(msgpack.packb({"process": {}, "threads": [{"tid": "x", "frames": 5}]}))
    hostile = tmp_path / "types.hsnap"
    raw_length = len(zlib.decompress(index))
    hostile.write_bytes(HEADER.pack(MAGIC, 1, 0, 0, HEADER.size, len(index), raw_length) + index)
    with pytest.raises(BadInput):
        read_snapshot(str(hostile))


def test_write_is_atomic(saved, tmp_path, monkeypatch):
    crash, _path = saved
    target = tmp_path / "out.hsnap"

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(msgpack, "packb", fail)
    with pytest.raises(OSError):
        write_snapshot(crash, str(target))
    assert not target.exists()
    assert not list(tmp_path.iterdir())


def test_a_blob_that_inflates_beyond_its_kind_is_cut_where_a_writer_would_stop(saved, tmp_path):
    import copy
    import resource

    from hydra.model.crash import SourceFile
    from hydra.snapshot.format import MAX_SOURCE_BYTES

    crash = copy.deepcopy(saved[0])
    crash.sources["/bomb.c"] = SourceFile("/bomb.c", _text="a" * (MAX_SOURCE_BYTES * 4))   # 64 MiB, 64 KiB packed
    path = tmp_path / "bomb.hsnap"
    write_snapshot(crash, str(path))
    assert path.stat().st_size < 1 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    source = read_snapshot(str(path)).sources["/bomb.c"]
    assert len(source.text) == MAX_SOURCE_BYTES
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 3 * MAX_SOURCE_BYTES >> 10   # KiB
