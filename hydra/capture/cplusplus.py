"""C++ references and base classes for drgn.

drgn (0.3.0) refuses any type built on DW_TAG_reference_type or DW_TAG_rvalue_reference_type
("unknown DWARF type tag 0x10"), and leaves DW_TAG_inheritance out of a class, so a
`const std::string &` argument cannot be read at all and a `std::vector` shows no members
(they live in its base `_Vector_base`).

In DWARF both are shaped like constructs drgn knows: a reference like a pointer (a byte
size and a target type), a base class like an unnamed member (a type and a member
offset). So, once drgn has mapped a debug file and before it indexes it or reads any type
from it, their abbreviations are re-tagged in drgn's own mapping of the file: the mapping is
private (copy on write), so the file on disk is untouched, and only the pages that hold
abbreviations are copied. Which variables were references is read from the unchanged
file by the scope finder (`FunctionScope.references`), so values are still shown as gdb
shows references. A base class whose offset is computed (a virtual base) stays out. DWARF 4's
static data members (members without a place in the object) become variables, which drgn
leaves out of a class instead of reading each as a field at offset 0.
"""

from __future__ import annotations

import ctypes
import re

import drgn

from hydra.capture.residency import private_mappings
from hydra.symbols.elffile import SHF_COMPRESSED, read_file, section_header

# the drgn releases whose mappings and order of reading the re-tagging relies on
DRGN_RELEASES = ("0.3.",)
DW_TAG_pointer_type = 0x0F
DW_TAG_member = 0x0D
DW_TAG_reference_type = 0x10
DW_TAG_rvalue_reference_type = 0x42
DW_TAG_inheritance = 0x1C
DW_TAG_variable = 0x34
DW_AT_data_member_location = 0x38
DW_AT_declaration = 0x3C
DW_AT_data_bit_offset = 0x6B
DW_FORM_implicit_const = 0x21
# constant forms: a base at a fixed offset (exprloc and block forms compute it)
_CONSTANT_FORMS = {0x05, 0x06, 0x07, 0x0B, 0x0D, 0x0F, DW_FORM_implicit_const}
# large_cpp's abbreviations, 366 MB of DWARF, take 1.4 MB: a section this size is copied to
# be read, so a hostile size is not
MAX_ABBREV_BYTES = 64 << 20

# An abbreviation ends with a zero attribute and a zero form, so every entry after the first
# starts right after two zero bytes (elsewhere two zero bytes occur only where an
# implicit_const of 0 meets that end, and then the next byte is zero too, which no code
# is): its code (ULEB128, not zero), its tag, its children flag.
# an abbreviation only C++ has: class, namespace, reference, base class, pointer to member
_CPLUSPLUS = re.compile(rb"\x00\x00(?=[\x80-\xff]{0,3}[\x01-\x7f][\x02\x10\x1c\x1f\x39\x42][\x00\x01])")
_CANDIDATE = re.compile(rb"\x00\x00(?=([\x80-\xff]{0,3}[\x01-\x7f])([\x0d\x10\x1c\x42])[\x00\x01])")


def _uleb(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ValueError("truncated")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, position


def _retag(data: bytes, start: int) -> tuple[int, int] | None:
    """(position of the tag byte, new tag) for the abbreviation at start, or None."""
    try:
        _code, position = _uleb(data, start)
        tag_position = position
        tag, position = _uleb(data, position)
        position += 1
        location_form = None
        attributes = set()
        for _ in range(512):
            attribute, position = _uleb(data, position)
            form, position = _uleb(data, position)
            if attribute == 0 and form == 0:
                break
            if form == DW_FORM_implicit_const:
                _value, position = _uleb(data, position)
            if attribute == DW_AT_data_member_location:
                location_form = form
            attributes.add(attribute)
        else:
            return None
    except ValueError:
        return None
    if tag in (DW_TAG_reference_type, DW_TAG_rvalue_reference_type):
        return tag_position, DW_TAG_pointer_type
    if tag == DW_TAG_inheritance and (location_form is None or location_form in _CONSTANT_FORMS):
        return tag_position, DW_TAG_member
    if tag == DW_TAG_member and DW_AT_declaration in attributes and \
            not attributes & {DW_AT_data_member_location, DW_AT_data_bit_offset}:
        # DWARF 4's static data member: drgn would read it as a field at offset 0
        return tag_position, DW_TAG_variable
    return None


def retag_positions(abbreviations: bytes) -> list[tuple[int, int]]:
    """Where, in a .debug_abbrev section, a tag byte is rewritten, and to what."""
    found = []
    if not _CPLUSPLUS.search(abbreviations):
        return found            # C (libc): nothing to re-tag, and its many members need no look
    starts = [0]
    for match in _CANDIDATE.finditer(abbreviations):
        if match.group(2) == b"\x0d":
            # members are many, static ones few: only an entry that names DW_AT_declaration
            # (a byte no form and no other one-byte attribute has) is read in full
            end = abbreviations.find(b"\x00\x00", match.end(2))
            if b"\x3c" not in abbreviations[match.end(2):end if end >= 0 else None]:
                continue
        starts.append(match.end())
    for start in starts:
        if start < len(abbreviations):
            change = _retag(abbreviations, start)
            if change is not None:
                found.append(change)
    return found


class UntestedDrgn(Exception):
    """A drgn release this re-tagging was not made for."""


def check_drgn(version: str) -> None:
    """Refuse a drgn whose internals may differ: the re-tagging writes into drgn's private
    mappings of the debug files between finding and indexing them, as drgn 0.3 does it
    (pyproject pins the same range)."""
    if not version.startswith(DRGN_RELEASES):
        raise UntestedDrgn(f"made for drgn {', '.join(r.rstrip('.') for r in DRGN_RELEASES)}, not {version}")


def teach_drgn(prog) -> list[int]:
    """Re-tag references and base classes in drgn's mappings of every debug file it has
    loaded; the addresses written."""
    check_drgn(drgn.__version__)
    headers = {}
    for module in prog.modules():
        path = module.debug_file_path
        if path and path not in headers:
            headers[path] = section_header(path, ".debug_abbrev")
    # inflated elsewhere by libelf (nothing to reach), or not a real one
    headers = {path: header for path, header in headers.items() if header is not None and
               not header.flags & SHF_COMPRESSED and header.size <= MAX_ABBREV_BYTES}
    # what to re-tag, from the files: drgn's mappings of them hold the same bytes, and
    # finding the mappings (reading /proc/self/maps) is the dearer part where there is none
    changes = {}
    for path, header in headers.items():
        abbreviations = read_file(path, header.offset, header.size)
        if abbreviations is not None and len(abbreviations) == header.size:
            found = retag_positions(abbreviations)
            if found:
                changes[path] = (abbreviations, found)
    written = []
    for path, mappings in private_mappings(changes).items():
        header = headers[path]
        for start, end, offset in mappings:
            if not (offset <= header.offset and header.offset + header.size <= offset + (end - start)):
                continue
            base = start + header.offset - offset
            original, found = changes[path]
            for position, tag in found:
                byte = ctypes.c_ubyte.from_address(base + position)
                if byte.value == original[position]:        # the mapping holds what the file does
                    byte.value = tag
                    written.append(base + position)
    return written
