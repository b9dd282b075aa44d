"""Breakpad .sym files: every record kind, lenient reading, hostile lines, the on-disk cache."""

from __future__ import annotations

import os

import pytest

from hydra.symbols import breakpad
from hydra.symbols.breakpad import open_symbols

SYM = """MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 app
INFO CODE_ID 67452301AB89EFCD
FILE 0 /src/app.c
FILE 1 /src/inl.h
INLINE_ORIGIN 0 helper_inlined
FUNC 1000 40 0 outer_function
INLINE 0 12 0 0 1010 10
1000 10 10 0
1010 10 3 1
1020 20 14 0
FUNC m 2000 10 8 folded one
2000 10 20 0
PUBLIC 3000 0 public_symbol
PUBLIC m 3100 4 other_public
STACK CFI INIT 1000 40 .cfa: $rsp 8 + .ra: .cfa -8 + ^
STACK CFI 1001 .cfa: $rsp 16 + $rbp: .cfa -16 + ^
STACK WIN 4 1000 40 5 0 8 4 10 0 1 $T0 $ebp = $eip $T0 4 + ^ =
STACK WIN 0 2000 10 1 0 4 0 0 0 0 1
FUNC 4000 10 0 last_without_newline
4000 10 99 0"""


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def write(tmp_path, text: str, name: str = "app.sym") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return str(path)


def test_records(tmp_path):
    symbols = open_symbols(write(tmp_path, SYM))
    assert (symbols.module, symbols.debug_id, symbols.os, symbols.arch) == (
        "app", "0123456789ABCDEF0123456789ABCDEF0", "Linux", "x86_64")
    inner, outer = symbols.symbolize(0x1014)
    assert (inner.function, inner.file, inner.line, inner.inline, inner.function_base) == (
        "helper_inlined", "/src/inl.h", 3, True, 0x1010)
    assert (outer.function, outer.file, outer.line, outer.inline, outer.function_base) == (
        "outer_function", "/src/app.c", 12, False, 0x1000)
    [plain] = symbols.symbolize(0x1025)
    assert (plain.function, plain.line, plain.line_base) == ("outer_function", 14, 0x1020)
    assert symbols.symbolize(0x2004)[0].function == "folded one"
    assert symbols.parameter_size(0x2004) == 8
    assert symbols.symbolize(0x3050)[0].function == "public_symbol"
    assert symbols.symbolize(0x3104)[0].function == "other_public"
    assert symbols.symbolize(0x4004)[0].line == 99             # the last line had no newline
    assert symbols.symbolize(0x500) == []


def test_public_symbols_end_at_the_next_function(tmp_path):
    symbols = open_symbols(write(tmp_path, "PUBLIC 100 0 early\nFUNC 200 10 0 f\n200 10 1 0\n"))
    assert symbols.symbolize(0x150)[0].function == "early"
    assert symbols.symbolize(0x250) == []                      # past f, and early ended at f


def test_cfi_rules_overlay(tmp_path):
    symbols = open_symbols(write(tmp_path, SYM))
    assert symbols.cfi_rules(0x1000) == ".cfa: $rsp 8 + .ra: .cfa -8 + ^"
    assert symbols.cfi_rules(0x1005).endswith(".cfa: $rsp 16 + $rbp: .cfa -16 + ^")
    assert symbols.cfi_rules(0x1040) is None


def test_windows_frame_info(tmp_path):
    symbols = open_symbols(write(tmp_path, SYM))
    data = symbols.windows_frame_info(0x1004)
    assert (data.type, data.parameter_size, data.saved_register_size, data.local_size) == (4, 8, 4, 0x10)
    assert data.program.startswith("$T0 $ebp =")
    fpo = symbols.windows_frame_info(0x2004)
    assert fpo.type == 0 and fpo.allocates_base_pointer and fpo.program == ""


def test_windows_line_endings_and_old_inline_records(tmp_path):
    text = ("MODULE windows x86 ABC0 a.pdb\r\nFILE 0 c:\\a.cc\r\nINLINE_ORIGIN 0 0 inl()\r\n"
            "FUNC 10 20 0 f\r\nINLINE 0 7 0 14 4\r\n10 20 5 0\r\n")
    symbols = open_symbols(write(tmp_path, text))
    inner, outer = symbols.symbolize(0x15)
    assert (inner.function, inner.line, outer.function, outer.line, outer.file) == ("inl()", 5, "f", 7, "c:\\a.cc")


def test_hostile_lines_are_skipped_with_a_warning(tmp_path):
    hostile = ("FUNC zz 10 0 bad\nINLINE 0\nSTACK WIN 4\nFUNC 10 ffffffffffffffffffff 0 huge\n"
               "GARBAGE\n" + "X" * (2 << 20) + "\nFUNC 100 10 0 good\n100 10 1 0\n\x00\xff\n")
    symbols = open_symbols(write(tmp_path, hostile))
    assert symbols.symbolize(0x104)[0].function == "good"
    assert symbols.warnings and any("could not be read" in w or "line" in w for w in symbols.warnings)


def test_thousands_of_inline_records_at_one_address_give_one_chain(tmp_path):
    records = "".join(f"INLINE {depth % 100} {depth} 0 0 100 200\n" for depth in range(20_000))
    symbols = open_symbols(write(tmp_path, "FILE 0 a.c\nINLINE_ORIGIN 0 inl\nFUNC 100 200 0 main\n"
                                           "100 200 1 0\n" + records))
    frames = symbols.symbolize(0x150)
    # one inline frame per depth (the first record of each), and no more than 64 in all
    assert len(frames) == breakpad.MAX_INLINE_DEPTH + 1 and frames[-1].function == "main"
    assert [f.inline for f in frames] == [True] * breakpad.MAX_INLINE_DEPTH + [False]


def test_line_records_are_found_by_bisection_in_any_order(tmp_path):
    count = 200_000
    lines = [f"{0x100 + 2 * n:x} 2 {n + 1} 0\n" for n in range(count)]
    lines.reverse()
    symbols = open_symbols(write(tmp_path, f"FILE 0 a.c\nFUNC 100 {2 * count:x} 0 main\n" + "".join(lines)))
    for n in range(0, count, 97):            # a scan per lookup would take minutes
        [frame] = symbols.symbolize(0x100 + 2 * n + 1)
        assert (frame.line, frame.line_base) == (n + 1, 0x100 + 2 * n)


def test_thousands_of_cfi_rows_and_inline_ranges_are_looked_up(tmp_path):
    cfi = "".join(f"STACK CFI {0x140 + n % 16:x} $rbx: $rbx {n} +\n" for n in range(20_000))
    ranges = " ".join(f"{0x100 + 4 * n:x} 2" for n in range(97))
    inlines = "".join(f"INLINE {depth % 8} {depth} 0 0 {ranges}\n" for depth in range(20_000))
    symbols = open_symbols(write(tmp_path, "FILE 0 a.c\nINLINE_ORIGIN 0 inl\nFUNC 100 f000 0 main\n100 f000 1 0\n"
                                           + inlines + "STACK CFI INIT 140 20 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
                                           + cfi))
    for address in range(0x100, 0x300):
        frames = symbols.symbolize(address)
        assert frames[-1].function == "main" and len(frames) <= 9
        rules = symbols.cfi_rules(address)
        assert rules is None or rules.startswith(".cfa: $rsp 8 +")
    assert [f.inline for f in symbols.symbolize(0x100)] == [True] * 8 + [False]
    assert symbols.symbolize(0x102) == [symbols.symbolize(0x102)[-1]]           # between ranges
    # only the first rows after an INIT are kept, in address order
    kept = symbols.cfi_rules(0x14f).split(" $rbx: ")[1:]
    assert len(kept) == breakpad.MAX_CFI_DELTAS


def test_a_second_open_reads_the_cache(tmp_path, monkeypatch):
    path = write(tmp_path, SYM)
    open_symbols(path)
    built = []
    monkeypatch.setattr(breakpad, "build_cache", lambda *a: built.append(a))
    again = open_symbols(path)
    assert built == [] and again.symbolize(0x1025)[0].line == 14


def test_an_edited_sym_file_is_parsed_again(tmp_path):
    path = write(tmp_path, SYM)
    assert open_symbols(path).symbolize(0x4004)[0].function == "last_without_newline"
    write(tmp_path, SYM.replace("last_without_newline", "renamed_function"))
    os.utime(path, (1, 1))
    assert open_symbols(path).symbolize(0x4004)[0].function == "renamed_function"


def test_unwritable_cache_still_works(tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert open_symbols(write(tmp_path, SYM)).symbolize(0x1025)[0].function == "outer_function"


def test_a_damaged_cache_is_rebuilt_or_survived(tmp_path):
    from hydra.symbols.breakpad import SymbolFile, cache_directory

    path = write(tmp_path, SYM)
    open_symbols(path)
    [cache] = list(__import__("pathlib").Path(cache_directory()).rglob("*.hsym"))
    data = bytearray(cache.read_bytes())
    data[40:400] = b"\xc1" * 360              # records hit, arrays and index intact
    cache.write_bytes(bytes(data))
    damaged = SymbolFile(str(cache))
    for address in (0x1004, 0x1014, 0x2004, 0x3050, 0x4004, 0x500):
        damaged.symbolize(address)             # answers or nothing; never an exception
        damaged.cfi_rules(address)
        damaged.windows_frame_info(address)
    cache.write_bytes(b"HYDRASYM" + b"\xff" * 50)
    assert open_symbols(path).symbolize(0x1025)[0].line == 14    # unreadable: built again


def _rewrite(cache, meta_change=None, records=None) -> None:
    """The cache with its meta changed, and records replaced: {(section, index): value}."""
    import marshal
    import struct

    data = bytearray(cache.read_bytes())
    version, meta_offset, meta_size = struct.unpack_from("<IQQ", data, 8)
    meta = marshal.loads(bytes(data[meta_offset:meta_offset + meta_size]))
    for (section, index), value in (records or {}).items():
        offset, count = meta["sections"][section]
        blob = marshal.dumps(value)
        struct.pack_into("<QQ", data, offset + 8 * count + 24 * index + 8, len(data), len(blob))
        data += blob
    if meta_change:
        meta_change(meta)
    blob = marshal.dumps(meta)
    struct.pack_into("<IQQ", data, 8, version, len(data), len(blob))
    cache.write_bytes(bytes(data + blob))


@pytest.mark.parametrize("damage", ["warnings", "debug_id", "section", "public", "func", "line"])
def test_a_cache_of_the_wrong_shapes_is_no_symbol_and_no_error(tmp_path, damage):
    """A damaged cache marshal still reads: the wrong types in its meta make it built
    again; in a record, that record is no symbol."""
    import pathlib

    from hydra.symbols.breakpad import SymbolFile, cache_directory

    path = write(tmp_path, SYM)
    open_symbols(path)
    [cache] = list(pathlib.Path(cache_directory()).rglob("*.hsym"))
    meta_changes = {"warnings": lambda m: m.update(warnings=5), "debug_id": lambda m: m.update(debug_id=7),
                    "section": lambda m: m["sections"].update(func=(10, 1 << 40))}
    records = {"public": {("public", 0): ["x", "f", 0]}, "func": {("func", 0): [0x1000, 0x40, 0, 12345, [], []]},
               "line": {("func", 0): [0x1000, 0x40, 0, "outer_function", [0x1000, 0x40, "14", 0], []]}}
    _rewrite(cache, meta_changes.get(damage), records.get(damage))
    if damage in meta_changes:
        with pytest.raises(ValueError):
            SymbolFile(str(cache))
        assert open_symbols(path).symbolize(0x1025)[0].line == 14       # built again
        return
    damaged = SymbolFile(str(cache))
    frames = damaged.symbolize(0x3000 if damage == "public" else 0x1025)
    assert frames == [] or all(isinstance(f.function, str) and isinstance(f.function_base, int)
                               and isinstance(f.line, (int, type(None)))
                               for f in frames)


def test_a_cache_someone_else_may_have_written_is_made_again(tmp_path):
    """Caches are read with marshal: one another user wrote, or may write, is not read."""
    import pathlib

    from hydra.symbols.breakpad import cache_directory

    path = write(tmp_path, SYM)
    open_symbols(path)
    [cache] = list(pathlib.Path(cache_directory()).rglob("*.hsym"))
    planted = cache.read_bytes().replace(b"outer_function", b"planted_functi")
    for change in ("mode", "owner") if os.geteuid() == 0 else ("mode",):
        cache.write_bytes(planted)
        if change == "mode":
            cache.chmod(0o666)
        else:
            os.chown(cache, 65534, 65534)
        assert open_symbols(path).symbolize(0x1025)[0].function == "outer_function"
        [cache] = list(pathlib.Path(cache_directory()).rglob("*.hsym"))
        assert cache.stat().st_mode & 0o022 == 0 and cache.stat().st_uid == os.geteuid()
    cache.write_bytes(planted)
    cache.chmod(0o644)              # the user's own: read as it is
    assert open_symbols(path).symbolize(0x1025)[0].function == "planted_functi"


def test_nested_stack_win_ranges_resolve_to_the_innermost(tmp_path):
    text = ("STACK WIN 4 100 50 0 0 8 0 0 0 1 outer\n"
            "STACK WIN 4 110 10 0 0 8 4 0 0 1 inner\n"
            "STACK WIN 4 130 8 0 0 8 8 0 0 1 second\n")
    symbols = open_symbols(write(tmp_path, text))
    assert [symbols.windows_frame_info(a).program for a in (0x105, 0x112, 0x125, 0x132, 0x14f)] == [
        "outer", "inner", "outer", "second", "outer"]
    assert symbols.windows_frame_info(0x150) is None


def test_ranges_at_the_top_of_the_address_space(tmp_path):
    text = ("FUNC ffffffffffffffff 10 0 top\nFILE 18446744073709551615 x\n"
            "STACK CFI INIT ffffffffffffff00 1000 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
            "STACK WIN 4 ffffffffffffff00 1000 0 0 0 0 0 0 1 $eip 0 =\n")
    symbols = open_symbols(write(tmp_path, text))
    assert symbols.symbolize(0xFFFFFFFFFFFFFFFF - 1) == [] or symbols.symbolize(0xFFFFFFFFFFFFFFFE)
    assert symbols.cfi_rules(0xFFFFFFFFFFFFFF10).startswith(".cfa")


def test_hostile_elf_headers_are_no_image(tmp_path):
    import struct

    from hydra.symbols.elffile import open_image

    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<HQ", header, 18, 62, 0)
    struct.pack_into("<Q", header, 32, 1 << 63)          # program headers at an impossible offset
    struct.pack_into("<HH", header, 54, 56, 3)
    (tmp_path / "evil").write_bytes(bytes(header))
    assert open_image(str(tmp_path / "evil")) is None
