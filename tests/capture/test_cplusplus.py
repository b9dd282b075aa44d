"""Re-tagging C++ references and base classes in .debug_abbrev (hydra/capture/cplusplus.py)."""

from __future__ import annotations

import hashlib
import subprocess

from hydra.capture.cplusplus import retag_positions
from hydra.symbols.elffile import section_header


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _entry(code: int, tag: int, attributes: list[tuple[int, int, int | None]]) -> bytes:
    out = _uleb(code) + _uleb(tag) + b"\x00"
    for attribute, form, constant in attributes:
        out += _uleb(attribute) + _uleb(form) + (_uleb(constant) if constant is not None else b"")
    return out + b"\x00\x00"


def _sequential(data: bytes) -> list[int]:
    """Tag positions of references and constant-offset bases, by reading every entry in turn."""
    found, position = [], 0

    def uleb(at):
        value = shift = 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, at

    while position < len(data):
        code, position = uleb(position)
        if code == 0:
            continue
        tag_position = position
        tag, position = uleb(position)
        position += 1
        location = None
        attributes = set()
        while True:
            attribute, position = uleb(position)
            form, position = uleb(position)
            if attribute == form == 0:
                break
            if form == 0x21:
                _, position = uleb(position)
            if attribute == 0x38:
                location = form
            attributes.add(attribute)
        if tag in (0x10, 0x42) or (tag == 0x1C and location in (None, 0x05, 0x06, 0x07, 0x0B, 0x0D, 0x0F, 0x21)) \
                or (tag == 0x0D and 0x3C in attributes and not attributes & {0x38, 0x6B}):
            found.append(tag_position)
    return found


def test_every_reference_and_fixed_base_is_found_and_nothing_else():
    table = b"".join([
        _entry(1, 0x11, [(0x25, 0x0E, None)]),                       # compile unit
        _entry(2, 0x10, [(0x0B, 0x21, 0), (0x49, 0x13, None)]),      # reference, implicit_const 0
        _entry(3, 0x13, [(0x03, 0x08, None), (0x0B, 0x0B, None)]),   # structure
        _entry(4, 0x1C, [(0x49, 0x13, None), (0x38, 0x0B, None)]),   # base at a fixed offset
        _entry(5, 0x1C, [(0x49, 0x13, None), (0x38, 0x18, None), (0x4C, 0x0B, None)]),  # virtual base
        _entry(200, 0x42, [(0x0B, 0x0B, None), (0x49, 0x13, None)]), # rvalue reference, 2-byte code
        _entry(6, 0x0F, [(0x0B, 0x21, 0)]),                          # pointer, ends in implicit_const 0
        _entry(7, 0x0D, [(0x03, 0x08, None), (0x3C, 0x19, None)]),   # DWARF 4 static member
        _entry(8, 0x0D, [(0x03, 0x08, None), (0x38, 0x0B, None)]),   # a field: left alone
    ]) + b"\x00" + b"".join([                                        # a second unit's table
        _entry(1, 0x10, [(0x49, 0x13, None)]),
        _entry(2, 0x1C, [(0x49, 0x13, None)]),                       # base without an offset: at 0
    ]) + b"\x00"
    found = retag_positions(table)
    assert sorted(position for position, _ in found) == _sequential(table)
    assert len(found) == 6
    new_tags = {table[position]: tag for position, tag in found}
    assert new_tags == {0x10: 0x0F, 0x42: 0x0F, 0x1C: 0x0D, 0x0D: 0x34}


def test_real_compiler_output_matches_a_sequential_read(tmp_path):
    source = tmp_path / "bases.cpp"
    source.write_text("""
        #include <string>
        #include <map>
        struct A { int a; virtual ~A() {} };
        struct B : virtual A { int b; };
        struct C : B { std::map<std::string, int> m; int f(const std::string &s, int &&r); };
        int C::f(const std::string &s, int &&r) { return (int)s.size() + r + b; }
        int main() { C c; std::string s = "x"; return c.f(s, 1); }
    """)
    exe = tmp_path / "bases"
    subprocess.run(["g++", "-g", "-gdwarf-4", "-O1", "-o", str(exe), str(source)], check=True)
    header = section_header(str(exe), ".debug_abbrev")
    assert header is not None and not header.flags & 0x800
    data = exe.read_bytes()[header.offset: header.offset + header.size]
    found = retag_positions(data)
    assert sorted(position for position, _ in found) == _sequential(data)
    assert any(tag == 0x0D for _, tag in found) and any(tag == 0x0F for _, tag in found)


def test_capture_leaves_the_binary_unchanged(crashed):
    from hydra.capture.engine import capture_core

    program = crashed("cxx_values.cpp", "-O0")
    before = hashlib.sha256(open(program.exe, "rb").read()).hexdigest()
    crash = capture_core(program.core)
    assert any(v.type.endswith("&") for f in crash.crashed_thread.frames for v in f.args)
    assert hashlib.sha256(open(program.exe, "rb").read()).hexdigest() == before


def test_a_drgn_it_was_not_made_for_is_left_alone_and_said(crashed, monkeypatch):
    """The re-tagging writes into drgn 0.3's private mappings of the debug files: under
    another release the capture goes on without it and says so."""
    import drgn
    import pytest

    from hydra.capture.cplusplus import UntestedDrgn, check_drgn
    from hydra.capture.engine import capture_core

    check_drgn(drgn.__version__)            # the installed one is in the range pyproject pins
    with pytest.raises(UntestedDrgn):
        check_drgn("0.4.0")
    program = crashed("cxx_values.cpp", "-O0")
    monkeypatch.setattr(drgn, "__version__", "0.4.0")
    crash = capture_core(program.core)
    assert [w for w in crash.warnings if "C++ references and base classes not read" in w] == [
        "C++ references and base classes not read: UntestedDrgn: made for drgn 0.3, not 0.4.0"]
    assert crash.crashed_thread.frames
