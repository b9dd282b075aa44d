"""DWARF scope facts the unwinding engine does not expose: which names are parameters,
and the qualified name of each (inlined) function, spelled as gdb spells it.

Uses libdw through ctypes: the copy bundled with drgn's wheel, else the system's.
libdw indexes lazily, so each lookup costs one CU scan in C, not a walk of all DWARF.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from dataclasses import dataclass

DW_TAG_class_type = 0x02
DW_TAG_formal_parameter = 0x05
DW_TAG_structure_type = 0x13
DW_TAG_union_type = 0x17
DW_TAG_inlined_subroutine = 0x1D
DW_TAG_subprogram = 0x2E
DW_TAG_namespace = 0x39
DW_TAG_lexical_block = 0x0B
DW_TAG_try_block = 0x32
DW_TAG_catch_block = 0x25
DW_AT_abstract_origin = 0x31
DW_AT_specification = 0x47
DW_AT_linkage_name = 0x6E
DW_AT_MIPS_linkage_name = 0x2007

FUNCTION_TAGS = (DW_TAG_subprogram, DW_TAG_inlined_subroutine)
# Scopes with code ranges; descended only when they contain the pc.
CODE_SCOPES = FUNCTION_TAGS + (DW_TAG_lexical_block, DW_TAG_try_block, DW_TAG_catch_block)


class _Die(ctypes.Structure):
    _fields_ = [("addr", ctypes.c_void_p), ("cu", ctypes.c_void_p),
                ("abbrev", ctypes.c_void_p), ("padding", ctypes.c_long)]


class _Attribute(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint), ("form", ctypes.c_uint),
                ("valp", ctypes.c_void_p), ("cu", ctypes.c_void_p)]


_DieP = ctypes.POINTER(_Die)


def _load_libdw():
    candidates = []
    try:
        import drgn

        libs = os.path.join(os.path.dirname(os.path.dirname(drgn.__file__)), "drgn.libs")
        candidates += sorted(glob.glob(os.path.join(libs, "libdw-*.so*")))
    except ImportError:
        pass
    system = ctypes.util.find_library("dw")
    if system:
        candidates.append(system)
    for candidate in candidates:
        try:
            lib = ctypes.CDLL(candidate)
        except OSError:
            continue
        lib.dwarf_begin.restype = ctypes.c_void_p
        lib.dwarf_begin.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.dwarf_end.argtypes = [ctypes.c_void_p]
        lib.dwarf_addrdie.restype = _DieP
        lib.dwarf_addrdie.argtypes = [ctypes.c_void_p, ctypes.c_uint64, _DieP]
        lib.dwarf_getscopes.restype = ctypes.c_int
        lib.dwarf_getscopes.argtypes = [_DieP, ctypes.c_uint64, ctypes.POINTER(_DieP)]
        lib.dwarf_getscopes_die.restype = ctypes.c_int
        lib.dwarf_getscopes_die.argtypes = [_DieP, ctypes.POINTER(_DieP)]
        lib.dwarf_tag.restype = ctypes.c_int
        lib.dwarf_tag.argtypes = [_DieP]
        lib.dwarf_diename.restype = ctypes.c_char_p
        lib.dwarf_diename.argtypes = [_DieP]
        lib.dwarf_child.restype = ctypes.c_int
        lib.dwarf_child.argtypes = [_DieP, _DieP]
        lib.dwarf_siblingof.restype = ctypes.c_int
        lib.dwarf_siblingof.argtypes = [_DieP, _DieP]
        lib.dwarf_attr.restype = ctypes.POINTER(_Attribute)
        lib.dwarf_attr.argtypes = [_DieP, ctypes.c_uint, ctypes.POINTER(_Attribute)]
        lib.dwarf_attr_integrate.restype = ctypes.POINTER(_Attribute)
        lib.dwarf_attr_integrate.argtypes = [_DieP, ctypes.c_uint, ctypes.POINTER(_Attribute)]
        lib.dwarf_formref_die.restype = _DieP
        lib.dwarf_formref_die.argtypes = [ctypes.POINTER(_Attribute), _DieP]
        lib.dwarf_formstring.restype = ctypes.c_char_p
        lib.dwarf_formstring.argtypes = [ctypes.POINTER(_Attribute)]
        lib.dwarf_dieoffset.restype = ctypes.c_uint64
        lib.dwarf_dieoffset.argtypes = [_DieP]
        lib.dwarf_haspc.restype = ctypes.c_int
        lib.dwarf_haspc.argtypes = [_DieP, ctypes.c_uint64]
        return lib
    return None


_libdw = None
_libdw_loaded = False
_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]


def libdw():
    global _libdw, _libdw_loaded
    if not _libdw_loaded:
        _libdw = _load_libdw()
        _libdw_loaded = True
    return _libdw


@dataclass
class FunctionScope:
    """One function-like scope around a pc, innermost first."""

    name: str | None            # qualified as gdb prints it
    linkage_name: str | None
    parameters: list[str]
    inlined: bool


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", "replace") if raw is not None else None


class DebugFile:
    """One opened debug file; lookups by file-relative address."""

    def __init__(self, path: str):
        self.lib = libdw()
        self.fd = -1
        self.dwarf = None
        if self.lib is None:
            return
        try:
            self.fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        self.dwarf = self.lib.dwarf_begin(self.fd, 0)
        self._names: dict[int, str | None] = {}

    def close(self) -> None:
        if self.dwarf:
            self.lib.dwarf_end(self.dwarf)
            self.dwarf = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def function_scopes(self, address: int) -> list[FunctionScope]:
        """The concrete chain of functions around address, innermost first.

        (libdw's own dwarf_getscopes continues into an inline's abstract origin instead
        of its caller, so the chain is found by descending from the CU.)
        """
        if not self.dwarf:
            return []
        lib = self.lib
        cu = _Die()
        if not lib.dwarf_addrdie(self.dwarf, address, ctypes.byref(cu)):
            return []
        chain: list[tuple[_Die, int]] = []
        self._descend(cu, address, chain, depth=0)
        return [
            FunctionScope(
                name=self._qualified_name(die),
                linkage_name=self._linkage_name(die),
                parameters=self._parameters(die),
                inlined=tag == DW_TAG_inlined_subroutine,
            )
            for die, tag in reversed(chain)
        ]

    def _descend(self, parent: _Die, address: int, chain: list, depth: int) -> None:
        lib = self.lib
        child = _Die()
        if depth > 64 or lib.dwarf_child(ctypes.byref(parent), ctypes.byref(child)) != 0:
            return
        while True:
            tag = lib.dwarf_tag(ctypes.byref(child))
            if tag in CODE_SCOPES:
                if lib.dwarf_haspc(ctypes.byref(child), address) == 1:
                    if tag in FUNCTION_TAGS:
                        chain.append((child, tag))
                    self._descend(child, address, chain, depth + 1)
                    return
            elif tag == DW_TAG_namespace:
                before = len(chain)
                self._descend(child, address, chain, depth + 1)
                if len(chain) > before:
                    return
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                return
            child = following

    def _parameters(self, die: _Die) -> list[str]:
        lib = self.lib
        names = []
        child = _Die()
        if lib.dwarf_child(ctypes.byref(die), ctypes.byref(child)) != 0:
            return names
        while True:
            if lib.dwarf_tag(ctypes.byref(child)) == DW_TAG_formal_parameter:
                name = _text(lib.dwarf_diename(ctypes.byref(child)))
                if name:
                    names.append(name)
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                return names
            child = following

    def _origin(self, die: _Die) -> _Die:
        """Follow abstract_origin and specification to the declaring DIE."""
        lib = self.lib
        current = die
        for _ in range(8):
            attribute = _Attribute()
            target = _Die()
            for code in (DW_AT_abstract_origin, DW_AT_specification):
                if lib.dwarf_attr(ctypes.byref(current), code, ctypes.byref(attribute)):
                    if lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(target)):
                        break
            else:
                return current
            current = target
        return current

    def _linkage_name(self, die: _Die) -> str | None:
        attribute = _Attribute()
        for code in (DW_AT_linkage_name, DW_AT_MIPS_linkage_name):
            if self.lib.dwarf_attr_integrate(ctypes.byref(die), code, ctypes.byref(attribute)):
                return _text(self.lib.dwarf_formstring(ctypes.byref(attribute)))
        return None

    def _qualified_name(self, die: _Die) -> str | None:
        lib = self.lib
        origin = self._origin(die)
        key = lib.dwarf_dieoffset(ctypes.byref(origin))
        if key in self._names:
            return self._names[key]
        name = _text(lib.dwarf_diename(ctypes.byref(origin)))
        if name is not None:
            scopes = _DieP()
            count = lib.dwarf_getscopes_die(ctypes.byref(origin), ctypes.byref(scopes))
            if count > 0:
                try:
                    prefix = []
                    for index in range(1, count):
                        parent = scopes[index]
                        tag = lib.dwarf_tag(ctypes.byref(parent))
                        parent_name = _text(lib.dwarf_diename(ctypes.byref(parent)))
                        if tag == DW_TAG_namespace:
                            prefix.append(parent_name or "(anonymous namespace)")
                        elif tag in (DW_TAG_class_type, DW_TAG_structure_type, DW_TAG_union_type) and parent_name:
                            prefix.append(parent_name)
                        else:
                            break
                    if prefix:
                        name = "::".join(reversed(prefix)) + "::" + name
                finally:
                    _libc.free(scopes)
        self._names[key] = name
        return name
