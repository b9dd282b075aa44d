"""Snapshots made hostile by editing a real one's index: each is refused in one line with
exit status 2, or opens with a warning, in bounded memory and work."""

from __future__ import annotations

import lzma
import resource
import subprocess
import zlib

import msgpack
import pytest

from hydra.model.types import Kind

from hydra.model import BadInput
from hydra.snapshot.format import FLAG_LZMA_INDEX, HEADER, LZMA_FILTERS, MAGIC, read_snapshot, write_snapshot
from tests.conftest import hydra_command

MEMORY_LIMIT = 1 << 30       # address space for a hydra process reading a hostile file


@pytest.fixture(scope="module")
def original(crashed, capture, tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "original.hsnap"
    write_snapshot(capture(crashed("null_deref.c", "-O0")), str(path))
    return path


def read_index(path) -> tuple[bytes, dict]:
    data = path.read_bytes()
    _magic, _major, _minor, flags, offset, length, raw_length = HEADER.unpack_from(data, 0)
    compressed = data[offset:offset + length]
    if flags & FLAG_LZMA_INDEX:
        raw = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=LZMA_FILTERS).decompress(compressed)
    else:
        raw = zlib.decompress(compressed)
    return data[:offset], msgpack.unpackb(raw, raw=False, strict_map_key=False)


def with_index(original, tmp_path, change, name="edited.hsnap", raw_index: bytes | None = None,
               claimed: int | None = None):
    body, document = read_index(original)
    if raw_index is None:
        change(document)
        raw_index = msgpack.packb(document, use_bin_type=True)
    index = zlib.compress(raw_index, 9)
    header = HEADER.pack(MAGIC, 2, 0, 0, len(body), len(index), len(raw_index) if claimed is None else claimed)
    path = tmp_path / name
    path.write_bytes(header + body[HEADER.size:] + index)
    return path


def run_limited(args) -> subprocess.CompletedProcess:
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(hydra_command() + args, capture_output=True, text=True, timeout=300, preexec_fn=limit)


def nested(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("field", ["attributes", "warnings", "system", "signal name", "classifiers",
                                   "module path", "memory map", "globals", "kernel frames"])
def test_fields_nested_a_thousand_deep_are_corruption(original, tmp_path, field):
    deep = nested(1000)

    def change(document):
        if field == "attributes":
            document["attributes"]["x"] = deep
        elif field == "warnings":
            document["warnings"] = [deep]
        elif field == "system":
            document["system"] = {"x": deep}
        elif field == "signal name":
            document["signal"]["name"] = deep
        elif field == "classifiers":
            document["classifiers"] = [[deep, "x"]]
        elif field == "module path":
            document["modules"][0]["path"] = deep
        elif field == "memory map":
            document["memory_map"][0][4] = deep
        elif field == "globals":
            document["globals"] = [["g", "int", deep, "global", None, None, None, [], 0]]
        elif field == "kernel frames":
            document["threads"][0]["kernel_frames"] = [deep]

    path = with_index(original, tmp_path, change)
    for args in (["bt", str(path)], ["bt", "--json", "--full", str(path)], ["fingerprint", str(path)]):
        done = run_limited(args)
        assert done.returncode == 2, (field, args, done.stderr[-500:])
        assert done.stderr.count("\n") == 1 and "corrupt snapshot" in done.stderr, done.stderr


def test_an_index_of_a_billion_nils_is_refused_at_once(original, tmp_path):
    raw = b"\xdd" + (1 << 30).to_bytes(4, "big") + b"\xc0" * (8 << 20)      # an array header, then nils
    path = with_index(original, tmp_path, None, raw_index=raw, claimed=1 << 30)
    done = run_limited(["bt", str(path)])
    assert done.returncode == 2 and "more than a writer makes" in done.stderr
    # claiming less than it holds: the index is cut where it claims to end, and is corrupt there
    path = with_index(original, tmp_path, None, raw_index=raw, claimed=1 << 20, name="lying.hsnap")
    done = run_limited(["bt", str(path)])
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "corrupt snapshot" in done.stderr
    assert not done.stderr.rstrip().endswith(": "), done.stderr        # a reason is given


def test_a_million_frames_are_refused_and_a_hundred_thousand_cut(original, tmp_path):
    def frames(count):
        def change(document):
            document["threads"][0]["frames"] = [document["threads"][0]["frames"][0]] * count
        return change

    done = run_limited(["bt", str(with_index(original, tmp_path, frames(1_000_000), name="million.hsnap"))])
    assert done.returncode == 2 and "more than a writer makes" in done.stderr
    path = with_index(original, tmp_path, frames(100_000))
    crash = read_snapshot(str(path))
    assert len(crash.threads[0].frames) == 1 << 15
    assert any("more frames than a capture keeps" in w for w in crash.warnings)
    done = run_limited(["bt", str(path)])
    assert done.returncode == 0 and "more frames than a capture keeps" in done.stderr


def test_fingerprinting_hostile_names_is_bounded(original, tmp_path, monkeypatch):
    from hydra.analysis import fingerprint as fp

    def change(document):
        frame = list(document["threads"][0]["frames"][0])
        frame[2] = "__cxa_" + ".isra" * 817 + "x"
        document["threads"][0]["frames"] = [frame] * 5_000

    crash = read_snapshot(str(with_index(original, tmp_path, change)))
    calls = []
    original_normalize = fp.normalize
    monkeypatch.setattr(fp, "normalize", lambda name, rules: calls.append(len(name)) or original_normalize(name, rules))
    digest, frames = fp.fingerprint(crash, fp.default_rules())
    assert len(calls) <= fp.MAX_FRAMES_EXAMINED and max(calls) <= fp.MAX_NAME
    # rules that backtrack exponentially in Python's re run in linear time here
    rules = fp.parse_rules("skip (a+)+b\nrename (x+x+)+y => z\n")
    assert fp.normalize("a" * 4000, rules) == "a" * 4000 and not fp._matches(rules.skips, "a" * 4000)


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", " 12 ", ""])
def test_a_hostile_faulting_thread_attribute(original, tmp_path, value):
    path = with_index(original, tmp_path, lambda d: d["attributes"].__setitem__("_mod_faulting_tid", value))
    done = subprocess.run(hydra_command() + ["fingerprint", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_reason_is_never_empty():
    with pytest.raises(BadInput) as caught:
        read_snapshot("x.hsnap", HEADER.pack(MAGIC, 2, 0, 0, HEADER.size, 3, 10) + b"\xdd\xff\xff")
    assert not caught.value.reason.rstrip().endswith(":")


@pytest.mark.parametrize("missing", ["x", [[0, 99]], [[-1, 1]], [[1, 0]], [[0, "1"]], [[0, 1, 2]], [[0, 1]] * 100000,
                                     [[True, 1]]])
def test_hostile_missing_ranges_are_left_out(missing):
    from hydra.snapshot.format import _variable_in

    variable = _variable_in(["v", "T", "?", "local", None, None, None, [], 0, 3, b"ab", None, missing])
    assert variable.raw == b"ab"
    assert all(0 <= start < end <= 2 for start, end in variable.missing) and len(variable.missing) <= 64


@pytest.mark.parametrize("variants", ["x", [["a"]], [[0, "member"]], [[0, [None] * 11]], [[0, [None] * 3]]])
def test_hostile_enum_variants_are_corruption(variants):
    from hydra.snapshot.format import _types_in

    row = [Kind.STRUCT, "E", 8, None, False, False, True, "", None, [], [], [], False, False, [], False, True, False,
           None, "rust", [], None, variants]
    with pytest.raises((ValueError, TypeError)):
        _types_in([row])
