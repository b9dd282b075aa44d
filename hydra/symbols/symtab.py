"""An ELF symbol table read once and searched by address, with drgn's answers.

drgn looks a module's symbols up by address with a scan of its whole symbol table: 0.2 ms a
lookup in a program with 55,000 symbols, and a capture asks about every address its
snapshot points at. This reads the table once (sorted, with the largest end so far at each
place) and answers each lookup with a binary search and a short walk back.

The answers are drgn's (libdrgn/elf_symtab.c): every symbol that holds the address, in
table order, leaving out undefined, section, file and TLS symbols; when none does, the
nearest sizeless symbol before it (assembly often has no size), if nothing sized reaches
past that symbol and the address lies in its section. A symbol's value takes the module's
bias when that lands inside the module.
"""

from __future__ import annotations

import array
import bisect
import itertools
import os
import struct
import sys

from hydra.model.files import open_regular
from hydra.model.record import record
from hydra.symbols.elffile import section_table

SHT_SYMTAB = 2
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SKIPPED_TYPES = {3, 4, 6}             # STT_SECTION, STT_FILE, STT_TLS
MAX_TABLE_BYTES = 1 << 30             # a symbol table larger than this is not read
_PRECEDENCE = {1: 3, 10: 3, 2: 2}     # global = unique > weak > local


@record(frozen=True)
class ElfSymbol:
    name: str                         # the linkage name, as the table spells it
    address: int                      # with the module's bias
    size: int
    kind: int                         # STT_*, which drgn.SymbolKind numbers alike
    binding: int                      # STB_*
    order: int                        # its index in the table


class SymbolIndex:
    """Entries are (address, size, order), sorted; the rest of a symbol is read from the
    table when it is an answer."""

    def __init__(self, data: bytes, strings: bytes, sections: tuple, bias: int, module_range: tuple[int, int],
                 entries: list[tuple[int, int, int]]):
        entries.sort()
        self._bias = bias
        self._range = module_range
        self._data = data
        self._strings = strings
        self._sections = sections
        self._entries = entries
        self._starts = [entry[0] for entry in entries]
        self._furthest = list(itertools.accumulate((start + size for start, size, _ in entries), max))
        self._sizeless = [entry for entry in entries if not entry[1]]
        self._sizeless_starts = [entry[0] for entry in self._sizeless]

    def containing(self, address: int) -> list[ElfSymbol]:
        """The symbols drgn's Program.symbols(address) gives, in the same order."""
        end = bisect.bisect_right(self._starts, address)
        found = []
        index = end - 1
        while index >= 0 and self._furthest[index] > address:
            start, size, order = self._entries[index]
            if size and address < start + size:
                found.append(order)
            index -= 1
        if found:
            return [self._symbol(order) for order in sorted(found)]
        sizeless = self._nearest_sizeless(address)
        if sizeless is None or end == 0 or sizeless[0] < self._furthest[end - 1]:
            return []
        return [self._symbol(sizeless[2])] if self._in_section(sizeless, address) else []

    def _nearest_sizeless(self, address: int):
        """The sizeless symbol starting nearest before address; of several at one address,
        the one of highest binding, then the first in the table."""
        index = bisect.bisect_right(self._sizeless_starts, address) - 1
        if index < 0:
            return None
        start = self._sizeless_starts[index]
        while index > 0 and self._sizeless_starts[index - 1] == start:
            index -= 1
        best = None
        while index < len(self._sizeless) and self._sizeless_starts[index] == start:
            entry = self._sizeless[index]
            rank = (precedence(self._field(entry[2])[1] >> 4), -entry[2])
            if best is None or rank > best[0]:
                best = (rank, entry)
            index += 1
        return best[1] if best else None

    def _field(self, order: int) -> tuple:
        """(st_name, st_info, st_other, st_shndx, st_value, st_size) of a symbol."""
        return struct.unpack_from("<IBBHQQ", self._data, order * 24)

    def _in_section(self, entry, address: int) -> bool:
        _name, _info, _other, shndx, value, _size = self._field(entry[2])
        if shndx == SHN_UNDEF or shndx >= SHN_LORESERVE or shndx >= len(self._sections):
            return False
        section = self._sections[shndx]
        unbiased = address - (entry[0] - value)      # the bias this symbol took
        return section.address <= unbiased < section.address + section.size

    def _symbol(self, order: int) -> ElfSymbol:
        name_offset, info, _other, _shndx, value, size = self._field(order)
        end = self._strings.find(b"\0", name_offset)
        name = self._strings[name_offset:end if end >= 0 else None].decode("utf-8", "surrogateescape")
        return ElfSymbol(name, self._biased(value), size, info & 0xF, info >> 4, order)

    def _biased(self, value: int) -> int:
        low, high = self._range
        return value + self._bias if low <= value + self._bias < high else value


def precedence(binding: int) -> int:
    """How drgn ranks an STB_ binding between symbols alike: global = unique > weak > local."""
    return _PRECEDENCE.get(binding, 1)


def read_symbol_index(path: str, bias: int, module_range: tuple[int, int]) -> SymbolIndex | None:
    """The .symtab of a 64-bit little-endian executable or shared object as a SymbolIndex;
    None when it has none (drgn then reads the .dynsym and .gnu_debugdata, whose choice
    this does not repeat) or it cannot be read."""
    table = section_table(path)
    if table is None or table.file_type not in (2, 3):
        return None
    sections = table.by_index
    chosen = next((s for s in sections if s.kind == SHT_SYMTAB), None)
    if chosen is None or not 0 < chosen.link < len(sections) or chosen.size > MAX_TABLE_BYTES:
        return None
    strtab = sections[chosen.link]
    if strtab.size > MAX_TABLE_BYTES:
        return None
    try:
        fd = open_regular(path)
        try:
            length = os.fstat(fd).st_size
            if chosen.offset + chosen.size > length or strtab.offset + strtab.size > length:
                return None          # sizes the file cannot hold: never allocated
            data = os.pread(fd, chosen.size, chosen.offset)
            strings = os.pread(fd, strtab.size, strtab.offset)
        finally:
            os.close(fd)
    except OSError:
        return None
    # each entry is three little-endian words: name, info, other and shndx packed in the
    # first, then st_value and st_size; read as an array (C speed), filtered in one pass
    words = array.array("Q", data[:len(data) // 24 * 24])
    if sys.byteorder != "little":
        words.byteswap()
    low, high = module_range
    limit = len(strings)
    entries = [(value + bias if low <= value + bias < high else value, size, order)
               for order, (first, value, size) in enumerate(zip(words[0::3], words[1::3], words[2::3]))
               if order and first >> 48 != SHN_UNDEF and ((first >> 32) & 0xF) not in SKIPPED_TYPES
               and first & 0xFFFFFFFF < limit]
    return SymbolIndex(data, strings, sections, bias, module_range, entries)
