"""capstone's C library, called through ctypes: the calls Hydra makes and nothing else.

The capstone package's Python binding takes 20 to 40 ms to import (inspect, ctypes.util with
subprocess, pathlib, importlib.resources, and eighteen architectures' modules) where reading
a small minidump takes 3: most of a command's start, and of each batch worker's. Loading its
library and declaring the few structures read here takes about 3 ms. The package is still
the dependency: its wheel carries the library, and the tests hold this module's answers to
the binding's.

The layouts are capstone 5's (`cs_insn`, `cs_detail`, `cs_x86`); `load()` checks the
library's major version and gives None for any other, as when capstone is missing.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

ARCH_ARM, ARCH_ARM64, ARCH_X86 = 0, 1, 3
MODE_ARM, MODE_32, MODE_64, MODE_THUMB = 0, 1 << 2, 1 << 3, 1 << 4
OP_REG, OP_IMM, OP_MEM = 1, 2, 3                 # x86 operand types
ACCESS_READ, ACCESS_WRITE = 1, 2
_OPT_SYNTAX, _OPT_DETAIL, _OPT_ON, _SYNTAX_ATT = 1, 2, 3, 2
_MAJOR = 5


class _Memory(ctypes.Structure):
    _fields_ = (("segment", ctypes.c_uint), ("base", ctypes.c_uint), ("index", ctypes.c_uint),
                ("scale", ctypes.c_int), ("disp", ctypes.c_int64))


class _Value(ctypes.Union):
    _fields_ = (("reg", ctypes.c_uint), ("imm", ctypes.c_int64), ("mem", _Memory))


class _Operand(ctypes.Structure):
    _fields_ = (("type", ctypes.c_uint), ("value", _Value), ("size", ctypes.c_uint8),
                ("access", ctypes.c_uint8), ("avx_bcast", ctypes.c_uint), ("avx_zero_opmask", ctypes.c_bool))


class _X86(ctypes.Structure):
    _fields_ = (("prefix", ctypes.c_uint8 * 4), ("opcode", ctypes.c_uint8 * 4), ("rex", ctypes.c_uint8),
                ("addr_size", ctypes.c_uint8), ("modrm", ctypes.c_uint8), ("sib", ctypes.c_uint8),
                ("disp", ctypes.c_int64), ("sib_index", ctypes.c_uint), ("sib_scale", ctypes.c_int8),
                ("sib_base", ctypes.c_uint), ("xop_cc", ctypes.c_uint), ("sse_cc", ctypes.c_uint),
                ("avx_cc", ctypes.c_uint), ("avx_sae", ctypes.c_bool), ("avx_rm", ctypes.c_uint),
                ("flags", ctypes.c_uint64), ("op_count", ctypes.c_uint8), ("operands", _Operand * 8),
                ("encoding", ctypes.c_uint8 * 5))


class _Detail(ctypes.Structure):
    # the architectures' union starts with x86's layout here: only x86 details are read, and
    # the union's alignment (8) is x86's own
    _fields_ = (("regs_read", ctypes.c_uint16 * 20), ("regs_read_count", ctypes.c_uint8),
                ("regs_write", ctypes.c_uint16 * 20), ("regs_write_count", ctypes.c_uint8),
                ("groups", ctypes.c_uint8 * 8), ("groups_count", ctypes.c_uint8),
                ("writeback", ctypes.c_bool), ("x86", _X86))


class _Insn(ctypes.Structure):
    _fields_ = (("id", ctypes.c_uint), ("address", ctypes.c_uint64), ("size", ctypes.c_uint16),
                ("bytes", ctypes.c_uint8 * 24), ("mnemonic", ctypes.c_char * 32),
                ("op_str", ctypes.c_char * 160), ("detail", ctypes.POINTER(_Detail)))


_Registers = ctypes.c_uint16 * 64


class Operand:
    """One x86 operand; register names are capstone's (`eax`, `r8d`), None where absent."""
    __slots__ = ("type", "size", "access", "reg", "segment", "base", "index", "scale", "disp")

    def __init__(self, type_, size, access, reg=None, segment=None, base=None, index=None, scale=1, disp=0):
        self.type, self.size, self.access, self.reg = type_, size, access, reg
        self.segment, self.base, self.index, self.scale, self.disp = segment, base, index, scale, disp


class Instruction:
    """One decoded instruction with its details (x86)."""
    __slots__ = ("address", "size", "mnemonic", "op_str", "groups", "read", "written", "operands")

    def __init__(self, address, size, mnemonic, op_str):
        self.address, self.size, self.mnemonic, self.op_str = address, size, mnemonic, op_str
        self.groups: set[str] = set()
        self.read: list[str] | None = None        # None when capstone could not tell
        self.written: list[str] | None = None
        self.operands: list[Operand] = []


def _texts(raw: _Insn) -> tuple[str, str]:
    """An instruction's mnemonic and operands (capstone writes ASCII)."""
    return raw.mnemonic.decode("ascii", "replace"), raw.op_str.decode("ascii", "replace")


class Disassembler:
    """A capstone handle for one architecture and mode."""

    def __init__(self, library, architecture: int, mode: int, att: bool = False, detail: bool = False):
        self._lib = library
        self._handle = ctypes.c_size_t()
        if library.cs_open(architecture, mode, ctypes.byref(self._handle)) != 0:
            raise OSError(f"capstone cannot open architecture {architecture} mode {mode}")
        if att:
            library.cs_option(self._handle, _OPT_SYNTAX, _SYNTAX_ATT)
        if detail:
            library.cs_option(self._handle, _OPT_DETAIL, _OPT_ON)

    def __del__(self, _byref=ctypes.byref):
        # byref bound here: a handle freed while the interpreter shuts down finds the
        # module's globals already gone
        lib = getattr(self, "_lib", None)
        if lib is not None and self._handle.value:
            lib.cs_close(_byref(self._handle))

    def _decode(self, code: bytes, address: int, count: int):
        found = ctypes.POINTER(_Insn)()
        data = bytes(code)
        total = self._lib.cs_disasm(self._handle, data, len(data), address, count, ctypes.byref(found))
        return found, total

    def disasm_lite(self, code: bytes, address: int, count: int = 0):
        """(address, size, mnemonic, operands) of each instruction, as capstone's binding gives:
        a generator, so a caller that stops early converts no more."""
        found, total = self._decode(code, address, count)
        try:
            for n in range(total):
                raw = found[n]
                yield (raw.address, raw.size, *_texts(raw))
        finally:
            if total:
                self._lib.cs_free(found, total)

    def first(self, code: bytes, address: int) -> Instruction | None:
        """The first instruction of code with its details (made with detail=True, x86)."""
        found, total = self._decode(code, address, 1)
        if not total:
            return None
        try:
            raw = found[0]
            out = Instruction(raw.address, raw.size, *_texts(raw))
            if not raw.detail:
                return out
            detail = raw.detail.contents
            out.groups = {self.group_name(g) for g in detail.groups[:detail.groups_count]}
            read, read_count, written, written_count = _Registers(), ctypes.c_uint8(), _Registers(), ctypes.c_uint8()
            if self._lib.cs_regs_access(self._handle, found, ctypes.byref(read), ctypes.byref(read_count),
                                        ctypes.byref(written), ctypes.byref(written_count)) == 0:
                out.read = [self.register_name(r) for r in read[:read_count.value]]
                out.written = [self.register_name(r) for r in written[:written_count.value]]
            x86 = detail.x86
            for operand in x86.operands[:min(x86.op_count, 8)]:
                if operand.type == OP_MEM:
                    memory = operand.value.mem
                    out.operands.append(Operand(OP_MEM, operand.size, operand.access, None,
                                                self.register_name(memory.segment), self.register_name(memory.base),
                                                self.register_name(memory.index), memory.scale, memory.disp))
                elif operand.type == OP_REG:
                    out.operands.append(Operand(OP_REG, operand.size, operand.access, self.register_name(operand.value.reg)))
                else:
                    out.operands.append(Operand(operand.type, operand.size, operand.access))
            return out
        finally:
            self._lib.cs_free(found, total)

    def register_name(self, register: int) -> str | None:
        if not register:
            return None
        name = self._lib.cs_reg_name(self._handle, register)
        return name.decode("ascii", "replace") if name else None

    def group_name(self, group: int) -> str | None:
        name = self._lib.cs_group_name(self._handle, group)
        return name.decode("ascii", "replace") if name else None


def _library_names() -> list[str]:
    name = {"darwin": "libcapstone.dylib", "win32": "capstone.dll", "cygwin": "capstone.dll"}.get(sys.platform,
                                                                                                  "libcapstone.so")
    found = []
    try:
        from importlib.util import find_spec

        spec = find_spec("capstone")         # finds the package without running it
        for folder in (spec.submodule_search_locations or []) if spec else []:
            found += [os.path.join(folder, "lib", name), os.path.join(folder, "lib", f"{name}.{_MAJOR}")]
    except (ImportError, ValueError):
        pass
    return found + [f"{name}.{_MAJOR}"]         # a system's own capstone 5


@functools.cache
def load():
    """capstone's library with its functions declared, or None when there is none of capstone 5."""
    for path in _library_names():
        if os.sep in path and not os.path.isfile(path):
            continue
        try:
            library = ctypes.CDLL(path, mode=getattr(os, "RTLD_DEEPBIND", 0) | ctypes.RTLD_LOCAL)
        except OSError:
            continue
        if _declared(library):
            return library
    return None


def _declared(library) -> bool:
    """Declare the functions called here; whether the library is capstone 5."""
    size_t, handle = ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)
    insn = ctypes.POINTER(_Insn)
    for name, result, arguments in (
            ("cs_version", ctypes.c_int, (ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))),
            ("cs_open", ctypes.c_int, (ctypes.c_uint, ctypes.c_uint, handle)),
            ("cs_close", ctypes.c_int, (handle,)),
            ("cs_option", ctypes.c_int, (size_t, ctypes.c_int, size_t)),
            ("cs_disasm", size_t, (size_t, ctypes.c_char_p, size_t, ctypes.c_uint64, size_t, ctypes.POINTER(insn))),
            ("cs_free", None, (insn, size_t)),
            ("cs_reg_name", ctypes.c_char_p, (size_t, ctypes.c_uint)),
            ("cs_group_name", ctypes.c_char_p, (size_t, ctypes.c_uint)),
            ("cs_regs_access", ctypes.c_int, (size_t, insn, ctypes.POINTER(_Registers), ctypes.POINTER(ctypes.c_uint8),
                                              ctypes.POINTER(_Registers), ctypes.POINTER(ctypes.c_uint8)))):
        function = getattr(library, name, None)
        if function is None:
            return False
        function.restype, function.argtypes = result, arguments
    major, minor = ctypes.c_int(), ctypes.c_int()
    library.cs_version(ctypes.byref(major), ctypes.byref(minor))
    return major.value == _MAJOR


def disassembler(architecture: int, mode: int, att: bool = False, detail: bool = False) -> Disassembler | None:
    library = load()
    if library is None:
        return None
    try:
        return Disassembler(library, architecture, mode, att, detail)
    except OSError:
        return None
