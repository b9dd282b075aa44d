"""A symbol table read once: its entries found by address, and files it cannot use."""

from __future__ import annotations

import drgn

from hydra.symbols.symtab import read_symbol_index


def test_a_function_found_by_an_address_inside_it(crashed):
    program = crashed("null_deref.c", "-O0")
    prog = drgn.Program()
    prog.set_core_dump(program.core)
    try:
        prog.load_default_debug_info()
    except drgn.MissingDebugInfoError:
        pass
    module = next(m for m in prog.modules() if m.name == program.exe)
    index = read_symbol_index(program.exe, module.loaded_file_bias, module.address_range)
    main = prog.symbol("main")
    [found] = index.containing(main.address + 1)
    assert (found.name, found.address, found.size) == ("main", main.address, main.size)


def test_files_without_a_symbol_table(tmp_path):
    not_elf = tmp_path / "junk"
    not_elf.write_bytes(b"\x7fELF" + bytes(100))
    assert read_symbol_index(str(not_elf), 0, (0, 1 << 20)) is None
    assert read_symbol_index(str(tmp_path / "missing"), 0, (0, 1 << 20)) is None


def test_a_size_the_file_cannot_hold_is_not_read(crashed, tmp_path):
    import struct

    from hydra.symbols.elffile import section_table

    program = crashed("null_deref.c", "-O0")
    data = bytearray(open(program.exe, "rb").read())
    table = section_table(program.exe)
    place = next(i for i, s in enumerate(table.by_index) if s.kind == 2)
    struct.pack_into("<Q", data, table.offset + place * 64 + 32, 1 << 29)     # sh_size
    hostile = tmp_path / "hostile"
    hostile.write_bytes(bytes(data))
    assert read_symbol_index(str(hostile), 0, (0, 1 << 40)) is None
    assert read_symbol_index(program.exe, 0, (0, 1 << 40)) is not None
