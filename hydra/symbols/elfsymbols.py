"""Symbols and CFI for a minidump module from local ELF files: DWARF lines and inline chains
(libdw), the ELF symbol table, and `.eh_frame`/`.debug_frame` rules turned into Breakpad's
`STACK CFI` spelling so one evaluator serves both."""

from __future__ import annotations

import bisect

from hydra.symbols.breakpad import SymbolFrame
from hydra.symbols.demangle import function_name
from hydra.symbols.dwarf import DebugFile
from hydra.symbols.elffile import open_image

# DWARF register numbers to names, as Breakpad's CFI rules spell them.
DWARF_REGISTERS = {
    "x86_64": {0: "$rax", 1: "$rdx", 2: "$rcx", 3: "$rbx", 4: "$rsi", 5: "$rdi", 6: "$rbp",
               7: "$rsp", **{n: f"$r{n}" for n in range(8, 16)}, 16: "$rip"},
    "aarch64": {**{n: f"x{n}" for n in range(31)}, 31: "sp"},
}
RETURN_REGISTER = {"x86_64": 16, "aarch64": 30}


class ElfSymbols:
    def __init__(self, binary: str, debug: str, machine: str = "x86_64"):
        self.binary = binary
        self.debug = debug
        self.machine = machine
        image = open_image(binary) or open_image(debug)
        loads = [start for start, _size, _offset in image.segments] if image else []
        self.link_base = (min(loads) & ~0xFFF) if loads else 0
        self.dwarf = DebugFile(debug)
        self._symbols: tuple[list[int], list[tuple[int, int, str]]] | None = None
        self._cfi: tuple[list[int], list] | None = None
        self.has_functions = True

    def symbolize(self, offset: int) -> list[SymbolFrame]:
        address = offset + self.link_base
        scopes = self.dwarf.function_scopes(address)
        if not scopes:
            symbol = self._symbol(address)
            if symbol is None:
                return []
            start, _size, name = symbol
            return [SymbolFrame(function_name(name), start - self.link_base, None, None, None, False)]
        file, line, line_start = self.dwarf.source_line(address)
        frames = []
        for scope in scopes:
            base = (scope.entry - self.link_base) if scope.entry is not None else offset
            frames.append(SymbolFrame(scope.name or "<unknown>", base, file, line,
                                      None if line_start is None else line_start - self.link_base,
                                      scope.inlined))
            if scope.inlined:
                file, line, line_start = scope.call_file or file, scope.call_line, None
        return frames

    def _symbol(self, address: int) -> tuple[int, int, str] | None:
        if self._symbols is None:
            entries: list[tuple[int, int, str]] = []
            for path in dict.fromkeys((self.debug, self.binary)):
                entries += _function_symbols(path)
            entries.sort()
            self._symbols = ([e[0] for e in entries], entries)
        starts, entries = self._symbols
        index = bisect.bisect_right(starts, address) - 1
        if index >= 0:
            start, size, name = entries[index]
            if address < start + max(size, 1):
                return entries[index]
        return None

    def cfi_rules(self, offset: int) -> str | None:
        if self._cfi is None:
            self._cfi = _load_cfi(self.binary, self.debug, self.machine)
        starts, fdes = self._cfi
        address = offset + self.link_base
        index = bisect.bisect_right(starts, address) - 1
        if index < 0:
            return None
        start, end, fde = fdes[index]
        if not start <= address < end:
            return None
        return _rules_text(fde, address, self.machine, self.link_base)

    def windows_frame_info(self, offset: int):
        return None

    def parameter_size(self, offset: int) -> int | None:
        return None


def _function_symbols(path: str) -> list[tuple[int, int, str]]:
    try:
        from elftools.elf.elffile import ELFFile
        from elftools.elf.sections import SymbolTableSection

        with open(path, "rb") as handle:
            elf = ELFFile(handle)
            out = []
            for section in elf.iter_sections():
                if isinstance(section, SymbolTableSection):
                    for symbol in section.iter_symbols():
                        if symbol["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC") and symbol["st_value"]:
                            out.append((symbol["st_value"], symbol["st_size"], symbol.name))
            return out
    except Exception:   # a damaged local file only costs its symbols
        return []


def _load_cfi(binary: str, debug: str, machine: str) -> tuple[list[int], list]:
    from elftools.dwarf.callframe import FDE

    fdes = []
    for path in dict.fromkeys((binary, debug)):
        try:
            from elftools.elf.elffile import ELFFile

            handle = open(path, "rb")
            elf = ELFFile(handle)
            dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False)
            entries = dwarf.EH_CFI_entries() if dwarf.has_EH_CFI() else (
                dwarf.CFI_entries() if dwarf.has_CFI() else [])
            for entry in entries:
                if isinstance(entry, FDE):
                    start = entry.header["initial_location"]
                    fdes.append((start, start + entry.header["address_range"], entry))
        except Exception:
            continue
        if fdes:
            break
    fdes.sort(key=lambda item: item[0])
    return [f[0] for f in fdes], fdes


def _rules_text(fde, address: int, machine: str, link_base: int) -> str | None:
    from elftools.dwarf.callframe import RegisterRule

    names = DWARF_REGISTERS.get(machine, {})
    try:
        table = fde.get_decoded().table
    except Exception:
        return None
    row = None
    for candidate in table:
        if candidate["pc"] <= address:
            row = candidate
        else:
            break
    if row is None:
        return None
    cfa = row["cfa"]
    if cfa.expr is not None or cfa.reg not in names:
        return None
    parts = [f".cfa: {names[cfa.reg]} {cfa.offset} +"]
    ra = RETURN_REGISTER.get(machine)
    for number, rule in row.items():
        if not isinstance(number, int):
            continue
        target = ".ra" if number == ra else names.get(number)
        if target is None:
            continue
        if rule.type == RegisterRule.OFFSET:
            parts.append(f"{target}: .cfa {rule.arg} + ^")
        elif rule.type == RegisterRule.VAL_OFFSET:
            parts.append(f"{target}: .cfa {rule.arg} +")
        elif rule.type == RegisterRule.REGISTER and rule.arg in names:
            parts.append(f"{target}: {names[rule.arg]}")
        elif rule.type == RegisterRule.UNDEFINED:
            parts.append(f"{target}: .undef")
    if ra is not None and ra not in row and machine == "aarch64":
        parts.append(".ra: x30")
    return " ".join(parts)
