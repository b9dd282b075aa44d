"""DWARF scope facts the unwinding engine does not expose: which names are parameters,
and the qualified name of each (inlined) function, spelled as gdb spells it.

Uses libdw through ctypes: the copy bundled with drgn's wheel, else the system's.
libdw indexes lazily, so each lookup costs one CU scan in C, not a walk of all DWARF.
"""

from __future__ import annotations

import ctypes
import glob
import os
import re
import threading

from hydra.model.crash import MAX_RAW_BYTES
from hydra.model.record import field, record
from hydra.symbols.demangle import demangle, strip_parameters

DW_TAG_class_type = 0x02
DW_TAG_formal_parameter = 0x05
DW_TAG_structure_type = 0x13
DW_TAG_union_type = 0x17
DW_TAG_inlined_subroutine = 0x1D
DW_TAG_subprogram = 0x2E
DW_TAG_namespace = 0x39
DW_TAG_lexical_block = 0x0B
DW_TAG_variable = 0x34
DW_TAG_typedef = 0x16
DW_TAG_const_type = 0x26
DW_TAG_volatile_type = 0x35
DW_TAG_reference_type = 0x10
DW_TAG_rvalue_reference_type = 0x42
DW_AT_type = 0x49
DW_UT_skeleton = 0x04
DW_TAG_try_block = 0x32
DW_TAG_catch_block = 0x25
DW_AT_abstract_origin = 0x31
DW_AT_call_file = 0x58
DW_AT_call_line = 0x59
DW_AT_specification = 0x47
DW_AT_linkage_name = 0x6E
DW_AT_MIPS_linkage_name = 0x2007
DW_AT_location = 0x02
DW_AT_const_value = 0x1C
DW_AT_comp_dir = 0x1B
DW_AT_frame_base = 0x40
DW_OP_reg0 = 0x50
DW_OP_reg31 = 0x6F
DW_OP_breg0 = 0x70
DW_OP_breg31 = 0x8F
DW_OP_fbreg = 0x91
DW_OP_call_frame_cfa = 0x9C
DW_OP_regx = 0x90
DW_OP_addr = 0x03
DW_OP_deref = 0x06
DW_OP_constu = 0x10
DW_OP_dup = 0x12
DW_OP_minus = 0x1C
DW_OP_plus = 0x22
DW_OP_plus_uconst = 0x23
DW_OP_piece = 0x93
DW_OP_stack_value = 0x9F
DW_OP_implicit_value = 0x9E
DW_OP_implicit_pointer = 0xA0
DW_OP_GNU_implicit_pointer = 0xF2
DW_OP_entry_value = 0xA3
DW_OP_GNU_entry_value = 0xF3
DW_OP_lit0 = 0x30
DW_OP_lit31 = 0x4F
# operations that push one constant: DW_OP_const1u .. DW_OP_const8s, DW_OP_constu, DW_OP_consts
DW_OP_CONSTANTS = {0x08: 1, 0x09: 1, 0x0A: 2, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8, 0x0F: 8, 0x10: 8, 0x11: 8}
FRAME_BASE_CFA = -1          # a frame base that is the CFA (FunctionScope.places)

# the parts of a value held outside memory (FunctionScope.held): (kind, number, size), a
# size of 0 being the whole value
PIECE_REGISTER = 0           # number: the register's DWARF number
PIECE_CONSTANT = 1           # number: the value (DW_OP_stack_value)
PIECE_MISSING = 2            # optimized out (an empty piece, or an implicit pointer)

EV_CURRENT = 1
ELF_C_READ_MMAP = 8
DWARF_C_READ = 0

DW_LANG_Rust = 0x1C
C_LANGUAGES = {0x1, 0x2, 0xC, 0x1D, 0x2C}   # DW_LANG_C89, C, C99, C11, C17: no namespaces
FUNCTION_TAGS = (DW_TAG_subprogram, DW_TAG_inlined_subroutine)
MAX_DECLARATIONS = 20000    # DIEs looked at for one scope's parameters and locals
MAX_WALKED_DIES = 500000    # DIEs looked at to find a function nested in namespaces
# Scopes with code ranges; descended only when they contain the pc.
CODE_SCOPES = FUNCTION_TAGS + (DW_TAG_lexical_block, DW_TAG_try_block, DW_TAG_catch_block)
# DIEs without addresses that may hold function definitions
CONTAINER_TAGS = (DW_TAG_namespace, DW_TAG_class_type, DW_TAG_structure_type, DW_TAG_union_type)


class _Die(ctypes.Structure):
    _fields_ = [("addr", ctypes.c_void_p), ("cu", ctypes.c_void_p),
                ("abbrev", ctypes.c_void_p), ("padding", ctypes.c_long)]


class _Attribute(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint), ("form", ctypes.c_uint),
                ("valp", ctypes.c_void_p), ("cu", ctypes.c_void_p)]


_DieP = ctypes.POINTER(_Die)


class DwarfOp(ctypes.Structure):
    _fields_ = [("atom", ctypes.c_uint8), ("number", ctypes.c_uint64), ("number2", ctypes.c_uint64),
                ("offset", ctypes.c_uint64)]


def _load_libdw():
    candidates = []
    try:
        from hydra.symbols import drgnsetup

        drgnsetup.prepare()
        import drgn

        libs = os.path.join(os.path.dirname(os.path.dirname(drgn.__file__)), "drgn.libs")
        candidates += sorted(glob.glob(os.path.join(libs, "libdw-*.so*")))
    except ImportError:
        pass
    candidates.append("libdw.so.1")
    for candidate in candidates:
        try:
            lib = ctypes.CDLL(candidate)
        except OSError:
            continue
        lib.elf_version.restype = ctypes.c_uint
        lib.elf_version.argtypes = [ctypes.c_uint]
        lib.elf_begin.restype = ctypes.c_void_p
        lib.elf_begin.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        lib.elf_end.argtypes = [ctypes.c_void_p]
        lib.dwarf_begin_elf.restype = ctypes.c_void_p
        lib.dwarf_begin_elf.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.elf_version(EV_CURRENT)
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
        lib.dwarf_offdie.restype = _DieP
        lib.dwarf_offdie.argtypes = [ctypes.c_void_p, ctypes.c_uint64, _DieP]
        lib.dwarf_srclang.restype = ctypes.c_int
        lib.dwarf_srclang.argtypes = [_DieP]
        lib.dwarf_cu_info.restype = ctypes.c_int
        lib.dwarf_cu_info.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), _DieP,
                                      _DieP, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.dwarf_haspc.restype = ctypes.c_int
        lib.dwarf_haspc.argtypes = [_DieP, ctypes.c_uint64]
        lib.dwarf_getsrc_die.restype = ctypes.c_void_p
        lib.dwarf_getsrc_die.argtypes = [_DieP, ctypes.c_uint64]
        lib.dwarf_lineno.restype = ctypes.c_int
        lib.dwarf_lineno.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
        lib.dwarf_lineaddr.restype = ctypes.c_int
        lib.dwarf_lineaddr.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64)]
        lib.dwarf_linesrc.restype = ctypes.c_char_p
        lib.dwarf_linesrc.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.dwarf_getsrclines.restype = ctypes.c_int
        lib.dwarf_getsrclines.argtypes = [_DieP, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
        lib.dwarf_onesrcline.restype = ctypes.c_void_p
        lib.dwarf_onesrcline.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.dwarf_lineendsequence.restype = ctypes.c_int
        lib.dwarf_lineendsequence.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_bool)]
        lib.dwarf_formudata.restype = ctypes.c_int
        lib.dwarf_formudata.argtypes = [ctypes.POINTER(_Attribute), ctypes.POINTER(ctypes.c_uint64)]
        lib.dwarf_diecu.restype = _DieP
        lib.dwarf_diecu.argtypes = [_DieP, _DieP, ctypes.c_void_p, ctypes.c_void_p]
        lib.dwarf_getsrcfiles.restype = ctypes.c_int
        lib.dwarf_getsrcfiles.argtypes = [_DieP, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
        lib.dwarf_filesrc.restype = ctypes.c_char_p
        lib.dwarf_filesrc.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p]
        lib.dwarf_entrypc.restype = ctypes.c_int
        lib.dwarf_entrypc.argtypes = [_DieP, ctypes.POINTER(ctypes.c_uint64)]
        # for reading types (dwarftypes.py)
        lib.dwarf_offdie.restype = _DieP
        lib.dwarf_offdie.argtypes = [ctypes.c_void_p, ctypes.c_uint64, _DieP]
        lib.dwarf_formsdata.restype = ctypes.c_int
        lib.dwarf_formsdata.argtypes = [ctypes.POINTER(_Attribute), ctypes.POINTER(ctypes.c_int64)]
        lib.dwarf_formflag.restype = ctypes.c_int
        lib.dwarf_formflag.argtypes = [ctypes.POINTER(_Attribute), ctypes.POINTER(ctypes.c_bool)]
        lib.dwarf_hasattr.restype = ctypes.c_int
        lib.dwarf_hasattr.argtypes = [_DieP, ctypes.c_uint]
        lib.dwarf_hasattr_integrate.restype = ctypes.c_int
        lib.dwarf_hasattr_integrate.argtypes = [_DieP, ctypes.c_uint]
        lib.dwarf_whatform.restype = ctypes.c_uint
        lib.dwarf_whatform.argtypes = [ctypes.POINTER(_Attribute)]
        lib.dwarf_getlocation.restype = ctypes.c_int
        lib.dwarf_getlocation.argtypes = [ctypes.POINTER(_Attribute), ctypes.POINTER(ctypes.POINTER(DwarfOp)),
                                          ctypes.POINTER(ctypes.c_size_t)]
        # for call sites (callsites.py)
        lib.dwarf_formaddr.restype = ctypes.c_int
        lib.dwarf_formaddr.argtypes = [ctypes.POINTER(_Attribute), ctypes.POINTER(ctypes.c_uint64)]
        lib.dwarf_ranges.restype = ctypes.c_ssize_t
        lib.dwarf_ranges.argtypes = [_DieP, ctypes.c_ssize_t, ctypes.POINTER(ctypes.c_uint64),
                                     ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64)]
        lib.dwarf_lowpc.restype = ctypes.c_int
        lib.dwarf_lowpc.argtypes = [_DieP, ctypes.POINTER(ctypes.c_uint64)]
        lib.dwarf_getlocation_addr.restype = ctypes.c_int
        lib.dwarf_getlocation_addr.argtypes = [ctypes.POINTER(_Attribute), ctypes.c_uint64,
                                               ctypes.POINTER(ctypes.POINTER(DwarfOp)),
                                               ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t]
        lib.dwarf_nextcu.restype = ctypes.c_int
        lib.dwarf_nextcu.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64),
                                     ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_void_p]
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


@record
class FunctionScope:
    """One function-like scope around a pc, innermost first."""

    name: str | None            # qualified as gdb prints it
    linkage_name: str | None
    parameters: list[str]
    inlined: bool
    call_file: str | None = None    # where an inlined function was called from
    call_line: int | None = None
    entry: int | None = None        # the scope's entry address
    # parameters and locals declared as C++ references: name -> "&" or "&&"
    references: dict[str, str] = field(default_factory=dict)
    # the DIE offset of each parameter's and local's type (the innermost declaration of a name)
    types: dict[str, int] = field(default_factory=dict)
    die: int | None = None          # the function's own DIE (its definition, for its type)
    concrete: int | None = None     # a function's (not an inline instance's) DIE here, with its code
    # parameters and locals in memory at a fixed offset from the CFA (FRAME_BASE_CFA) or from
    # a register (its DWARF number: rustc's frame base is rsp) at the address, in gdb's order:
    # name -> (base, offset); where a value drgn cannot build (or find) is read from
    places: dict[str, tuple[int, int]] = field(default_factory=dict)
    # those held in registers or as constants at the address, a piece or more (PIECE_*);
    # one PIECE_MISSING for those kept nowhere there
    held: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    # those in memory at an address computed from registers and memory (rustc's closures:
    # `DW_OP_fbreg 48, DW_OP_deref, DW_OP_plus_uconst 8`): name -> the operations, in
    # COMPUTED_OPERATIONS, the frame base rewritten as a register or the CFA
    computed: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    # every parameter's and local's name visible at the address, in gdb's order
    visible: list[str] = field(default_factory=list)
    # its compilation unit's name and folder (DW_AT_name, DW_AT_comp_dir): how gdb spells
    # the unit's own source (spelled_as_unit)
    unit_name: str | None = None
    unit_folder: str | None = None


def expression(lib, die: _Die, code: int, address: int | None = None) -> tuple | None:
    """An expression attribute's operations, (atom, number, number2) each; for a location
    list, the one at address: () when the list has none there, None when there is no such
    attribute or libdw cannot read it."""
    attribute = _Attribute()
    if not lib.dwarf_attr(ctypes.byref(die), code, ctypes.byref(attribute)):
        return None
    ops = ctypes.POINTER(DwarfOp)()
    length = ctypes.c_size_t()
    if address is None:
        if lib.dwarf_getlocation(ctypes.byref(attribute), ctypes.byref(ops), ctypes.byref(length)) != 0:
            return None
    else:
        found = lib.dwarf_getlocation_addr(ctypes.byref(attribute), address, ctypes.byref(ops),
                                           ctypes.byref(length), 1)
        if found != 1:
            return () if found == 0 else None
    return tuple((ops[i].atom, ops[i].number, ops[i].number2) for i in range(min(length.value, 64)))


def _frame_base(lib, die: _Die) -> int | None:
    """A function's DW_AT_frame_base when it is the CFA (FRAME_BASE_CFA) or one register."""
    ops = expression(lib, die, DW_AT_frame_base)
    if not ops or len(ops) != 1:
        return None
    atom = ops[0][0]
    if atom == DW_OP_call_frame_cfa:
        return FRAME_BASE_CFA
    return atom - DW_OP_reg0 if DW_OP_reg0 <= atom <= DW_OP_reg31 else None


def _place(ops: tuple | None, base: int | None) -> tuple[int, int] | None:
    """(base, offset) of a variable in memory at a fixed offset from its frame base
    (DW_OP_fbreg) or from a register (DW_OP_bregN); None for anything else."""
    if not ops or len(ops) != 1:
        return None
    atom, number, _ = ops[0]
    offset = number - (1 << 64) if number >> 63 else number
    if atom == DW_OP_fbreg and base is not None:
        return base, offset
    if DW_OP_breg0 <= atom <= DW_OP_breg31:
        return atom - DW_OP_breg0, offset
    return None


COMPUTED_OPERATIONS = {DW_OP_deref, DW_OP_plus_uconst, DW_OP_plus, DW_OP_minus, DW_OP_dup, DW_OP_call_frame_cfa,
                       *range(DW_OP_breg0, DW_OP_breg31 + 1), *range(DW_OP_lit0, DW_OP_lit31 + 1), *DW_OP_CONSTANTS}


def frame_base_steps(base: int, offset: int) -> list[tuple[int, int]]:
    """The operations (as FunctionScope.computed's) of the address at offset from a frame
    base: FRAME_BASE_CFA, or a register's DWARF number."""
    start = [(DW_OP_call_frame_cfa, 0)] if base == FRAME_BASE_CFA else [(DW_OP_breg0 + base, 0)]
    return start + [(DW_OP_constu, offset % (1 << 64)), (DW_OP_plus, 0)]


def _computed(ops: tuple | None, base: int | None) -> list[tuple[int, int]] | None:
    """The operations of a location in memory at an address that takes more than a register
    plus an offset to find, with DW_OP_fbreg spelled as its frame base; None for anything
    else (pieces, values held outside memory, operations not in COMPUTED_OPERATIONS)."""
    if not ops or len(ops) > 16:
        return None
    out: list[tuple[int, int]] = []
    for atom, number, _ in ops:
        if atom == DW_OP_fbreg:
            if base is None:
                return None
            out += frame_base_steps(base, number)
        elif atom in COMPUTED_OPERATIONS:
            out.append((atom, number))
        else:
            return None
    return out


def _held(ops: tuple | None) -> list[tuple[int, int, int]] | None:
    """The pieces of a value held in registers or as constants (rustc's and optimized C's
    locations): `DW_OP_regN`, `DW_OP_constu N, DW_OP_stack_value`, `DW_OP_implicit_value`,
    or pieces of those (`DW_OP_reg4, DW_OP_piece 8, DW_OP_piece 8`: the second half
    optimized out), at most MAX_RAW_BYTES in all. None for a location in memory, one
    computed from more than a constant, or none at all."""
    if not ops:
        return None
    pieces: list[tuple[int, int, int]] = []
    current: tuple[int, int] | None = None            # (kind, number) before its DW_OP_piece
    stack: list[int] = []
    total = 0
    for atom, number, number2 in ops:
        if atom == DW_OP_piece:
            total += number
            if not 0 < number <= MAX_RAW_BYTES or total > MAX_RAW_BYTES:
                return None                 # a size the program's DWARF may make up
            pieces.append((*(current or (PIECE_MISSING, 0)), number))
            current, stack = None, []
        elif atom == DW_OP_implicit_value and current is None and not stack:
            if not 0 < number <= 8 or not number2:
                return None
            current = (PIECE_CONSTANT, int.from_bytes(ctypes.string_at(number2, number), "little"))
        elif atom == DW_OP_stack_value and current is not None and current[0] == PIECE_MISSING:
            continue                            # an entry value's
        elif current is not None:
            return None
        elif DW_OP_reg0 <= atom <= DW_OP_reg31:
            current = (PIECE_REGISTER, atom - DW_OP_reg0)
        elif atom == DW_OP_regx:
            current = (PIECE_REGISTER, number)
        elif DW_OP_lit0 <= atom <= DW_OP_lit31:
            stack.append(atom - DW_OP_lit0)
        elif atom in DW_OP_CONSTANTS:
            stack.append(number)
        elif atom == DW_OP_stack_value and len(stack) == 1:
            current = (PIECE_CONSTANT, stack.pop())
        elif atom in (DW_OP_implicit_pointer, DW_OP_GNU_implicit_pointer, DW_OP_entry_value,
                      DW_OP_GNU_entry_value):
            current = (PIECE_MISSING, 0)
        else:
            return None
    if stack:
        return None
    if current is not None:
        if pieces:
            return None
        pieces.append((*current, 0))
    return pieces or None


class _Block(ctypes.Structure):
    _fields_ = [("length", ctypes.c_uint64), ("data", ctypes.POINTER(ctypes.c_uint8))]


def constant_bytes(lib, die: _Die) -> bytes | None:
    """A variable's DW_AT_const_value as the bytes of its value (a block, or a constant)."""
    attribute = _Attribute()
    if not lib.dwarf_attr_integrate(ctypes.byref(die), DW_AT_const_value, ctypes.byref(attribute)):
        return None
    form = lib.dwarf_whatform(ctypes.byref(attribute))
    if form in (0x0A, 0x09, 0x03, 0x04, 0x18):        # block1, block, block2, block4, exprloc
        block = _Block()
        if not hasattr(lib, "_formblock_ready"):
            lib.dwarf_formblock.restype = ctypes.c_int
            lib.dwarf_formblock.argtypes = [ctypes.POINTER(_Attribute), ctypes.POINTER(_Block)]
            lib._formblock_ready = True
        if lib.dwarf_formblock(ctypes.byref(attribute), ctypes.byref(block)) != 0 or block.length > 64:
            return None
        return bytes(block.data[:block.length])
    value = ctypes.c_uint64()
    if lib.dwarf_formudata(ctypes.byref(attribute), ctypes.byref(value)) == 0:
        return value.value.to_bytes(8, "little")
    return None


def spelled_as_unit(file: str, name: str | None, folder: str | None) -> str:
    """The name gdb shows for a line table's relative file: the unit's own name (its
    DW_AT_name) when the file, in the unit's compilation folder, is the unit's source
    (clang lists it under a relative folder); the file as it is otherwise."""
    if name and folder and not os.path.isabs(file) and \
            os.path.normpath(os.path.join(folder, file)) == os.path.normpath(os.path.join(folder, name)):
        return name
    return file


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", "replace") if raw is not None else None


MAX_ZERO_ROWS = 4096        # rows looked back across for a line-0 row's line


class DebugFile:
    """One opened debug file; lookups by file-relative address."""

    def __init__(self, path: str, share: DebugFile | None = None):
        """With share, read the file through that handle's mapping: a second handle for
        another thread, whose pages are not resident (and counted) twice."""
        self.lib = libdw()
        self.fd = -1
        self.elf = None
        self.dwarf = None
        self._names: dict[int, str | None] = {}
        self._lines: dict[int, tuple[str | None, int | None, int | None]] = {}   # threads share pcs
        if self.lib is None:
            return
        if share is not None:
            if share.elf:
                self.dwarf = self.lib.dwarf_begin_elf(share.elf, DWARF_C_READ, None)
            return
        try:
            self.fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        self.elf = self.lib.elf_begin(self.fd, ELF_C_READ_MMAP, None)
        if self.elf:
            self.dwarf = self.lib.dwarf_begin_elf(self.elf, DWARF_C_READ, None)

    def close(self) -> None:
        """Handles sharing this one's mapping must be closed first."""
        if self.dwarf:
            self.lib.dwarf_end(self.dwarf)
            self.dwarf = None
        if self.elf:
            self.lib.elf_end(self.elf)
            self.elf = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def function_scopes(self, address: int) -> list[FunctionScope]:
        """The concrete chain of functions around address, innermost first.

        dwarf_getscopes finds the innermost scope, but past an inline instance it
        continues into the abstract origin, not the caller; the concrete chain is the
        innermost function's DIE and its real parents (dwarf_getscopes_die).
        """
        if not self.dwarf:
            return []
        lib = self.lib
        cu = _Die()
        if not lib.dwarf_addrdie(self.dwarf, address, ctypes.byref(cu)):
            return []
        unit = self._split_unit(cu)
        found = self._scopes_in(unit, address)
        name, folder = self._unit_names(cu)
        for scope in found:
            scope.unit_name, scope.unit_folder = name, folder
        if unit.cu != cu.cu:
            # DIE offsets in a split unit are the .dwo file's: no types are read through them
            for scope in found:
                scope.types, scope.die, scope.concrete = {}, None, None
        return found

    def _scopes_in(self, cu: _Die, address: int) -> list[FunctionScope]:
        lib = self.lib
        scopes = _DieP()
        count = lib.dwarf_getscopes(ctypes.byref(cu), address, ctypes.byref(scopes))
        if count <= 0:
            innermost = self._function_in_namespaces(cu, address)
            return self._chain(innermost, address) if innermost is not None else []
        try:
            innermost = None
            for index in range(count):
                if lib.dwarf_tag(ctypes.byref(scopes[index])) in FUNCTION_TAGS:
                    innermost = _Die.from_buffer_copy(scopes[index])
                    break
        finally:
            _libc.free(scopes)
        if innermost is None:
            innermost = self._function_in_namespaces(cu, address)
        return self._chain(innermost, address) if innermost is not None else []

    def _chain(self, innermost: _Die, address: int) -> list[FunctionScope]:
        lib = self.lib
        if lib.dwarf_tag(ctypes.byref(innermost)) == DW_TAG_subprogram:
            # nothing inlined here
            return [self._scope(innermost, DW_TAG_subprogram, address, _frame_base(lib, innermost))]
        chain = _DieP()
        count = lib.dwarf_getscopes_die(ctypes.byref(innermost), ctypes.byref(chain))
        if count <= 0:
            return []
        try:
            dies = [(_Die.from_buffer_copy(chain[index]), lib.dwarf_tag(ctypes.byref(chain[index])))
                    for index in range(count)]
        finally:
            _libc.free(chain)
        # the inlined code's variables are placed from the frame base of the function it is in
        base = next((_frame_base(lib, die) for die, tag in dies if tag == DW_TAG_subprogram), None)
        return [self._scope(die, tag, address, base) for die, tag in dies if tag in FUNCTION_TAGS]

    def _function_in_namespaces(self, cu: _Die, address: int) -> _Die | None:
        """The innermost function around address, looked for inside namespaces and types too.

        dwarf_getscopes does not enter a DIE without addresses, and Rust (like other LLVM
        languages) nests function definitions in namespace DIEs: `rs::main::{closure#0}` is a
        subprogram inside namespaces `rs` and `main`."""
        lib = self.lib
        if lib.dwarf_srclang(ctypes.byref(cu)) != DW_LANG_Rust:
            return None
        budget = [MAX_WALKED_DIES]

        def search(parent: _Die) -> _Die | None:
            child = _Die()
            if lib.dwarf_child(ctypes.byref(parent), ctypes.byref(child)) != 0:
                return None
            while budget[0] > 0:
                budget[0] -= 1
                tag = lib.dwarf_tag(ctypes.byref(child))
                if tag in CONTAINER_TAGS:
                    found = search(_Die.from_buffer_copy(child))
                    if found is not None:
                        return found
                elif tag in CODE_SCOPES and lib.dwarf_haspc(ctypes.byref(child), address) > 0:
                    here = _Die.from_buffer_copy(child)
                    inner = search(here)
                    return inner if inner is not None else (here if tag in FUNCTION_TAGS else None)
                following = _Die()
                if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                    return None
                child = following
            return None

        return search(cu)

    def _split_unit(self, cu: _Die) -> _Die:
        """With split DWARF (-gsplit-dwarf) the binary holds a skeleton unit; the functions
        are in its split unit (a .dwo file or a .dwp package, which libdw finds)."""
        unit_type = ctypes.c_uint8()
        split = _Die()
        if self.lib.dwarf_cu_info(cu.cu, None, ctypes.byref(unit_type), None, ctypes.byref(split),
                                  None, None, None) == 0 and unit_type.value == DW_UT_skeleton and split.cu:
            return split
        return cu

    def _scope(self, die: _Die, tag: int, address: int, frame_base: int | None = None) -> FunctionScope:
        scope = FunctionScope(
            name=self._qualified_name(die),
            linkage_name=self._linkage_name(die),
            parameters=[],
            inlined=tag == DW_TAG_inlined_subroutine,
        )
        self._declarations(die, scope, address, frame_base)
        scope.die = self.lib.dwarf_dieoffset(ctypes.byref(self._abstract(die)))
        if tag == DW_TAG_subprogram:
            scope.concrete = self.lib.dwarf_dieoffset(ctypes.byref(die))
        entry = ctypes.c_uint64()
        if self.lib.dwarf_entrypc(ctypes.byref(die), ctypes.byref(entry)) == 0:
            scope.entry = entry.value
        if scope.inlined:
            scope.call_line = self._udata(die, DW_AT_call_line)
            index = self._udata(die, DW_AT_call_file)
            if index is not None:
                scope.call_file = self._file_name(die, index)
        return scope

    def _udata(self, die: _Die, code: int) -> int | None:
        attribute = _Attribute()
        value = ctypes.c_uint64()
        if self.lib.dwarf_attr(ctypes.byref(die), code, ctypes.byref(attribute)) and \
                self.lib.dwarf_formudata(ctypes.byref(attribute), ctypes.byref(value)) == 0:
            return value.value
        return None

    def _file_name(self, die: _Die, index: int) -> str | None:
        cu = _Die()
        if not self.lib.dwarf_diecu(ctypes.byref(die), ctypes.byref(cu), None, None):
            return None
        files = ctypes.c_void_p()
        count = ctypes.c_size_t()
        if self.lib.dwarf_getsrcfiles(ctypes.byref(cu), ctypes.byref(files), ctypes.byref(count)) != 0:
            return None
        if index >= count.value:
            return None
        return _text(self.lib.dwarf_filesrc(files, index, None, None))

    def source_line(self, address: int) -> tuple[str | None, int | None, int | None]:
        """(file, line, address where the line starts) at a file-relative address."""
        if address not in self._lines:
            self._lines[address] = self._source_line(address)
        return self._lines[address]

    def _source_line(self, address: int) -> tuple[str | None, int | None, int | None]:
        if not self.dwarf:
            return None, None, None
        lib = self.lib
        cu = _Die()
        if not lib.dwarf_addrdie(self.dwarf, address, ctypes.byref(cu)):
            return None, None, None
        line = lib.dwarf_getsrc_die(ctypes.byref(cu), address)
        if not line:
            return None, None, None
        number = ctypes.c_int()
        start = ctypes.c_uint64()
        lib.dwarf_lineno(line, ctypes.byref(number))
        lib.dwarf_lineaddr(line, ctypes.byref(start))
        if number.value == 0:
            return self.line_before_zero(address)
        return _text(lib.dwarf_linesrc(line, None, None)), number.value or None, start.value

    def unit_spelling(self, address: int, file: str) -> str:
        """The name gdb shows for a line table's relative file (see spelled_as_unit)."""
        cu = _Die()
        if not self.dwarf or os.path.isabs(file) or not self.lib.dwarf_addrdie(self.dwarf, address, ctypes.byref(cu)):
            return file
        return spelled_as_unit(file, *self._unit_names(cu))

    def _unit_names(self, cu: _Die) -> tuple[str | None, str | None]:
        """A compilation unit's DW_AT_name and DW_AT_comp_dir."""
        lib = self.lib
        attribute = _Attribute()
        folder = _text(lib.dwarf_formstring(ctypes.byref(attribute))) \
            if lib.dwarf_attr(ctypes.byref(cu), DW_AT_comp_dir, ctypes.byref(attribute)) else None
        return _text(lib.dwarf_diename(ctypes.byref(cu))), folder

    def line_before_zero(self, address: int) -> tuple[str | None, int | None, int | None]:
        """(file, line, address where the line starts) for an address in a line-0 row, as gdb
        finds it: gdb leaves line-0 rows out of its tables (clang marks merged and hoisted
        code so), so the row before them in the same sequence holds the address; none when
        the sequence starts with them."""
        none = (None, None, None)
        lib = self.lib
        cu = _Die()
        lines = ctypes.c_void_p()
        count = ctypes.c_size_t()
        if not self.dwarf or not lib.dwarf_addrdie(self.dwarf, address, ctypes.byref(cu)) or \
                lib.dwarf_getsrclines(ctypes.byref(cu), ctypes.byref(lines), ctypes.byref(count)) != 0:
            return none
        row_address = ctypes.c_uint64()

        def address_of(index: int) -> int:
            lib.dwarf_lineaddr(lib.dwarf_onesrcline(lines, index), ctypes.byref(row_address))
            return row_address.value

        low, high = 0, count.value        # the first row past address
        while low < high:
            middle = (low + high) // 2
            if address_of(middle) <= address:
                low = middle + 1
            else:
                high = middle
        number = ctypes.c_int()
        ends = ctypes.c_bool()
        for index in range(low - 1, max(-1, low - 1 - MAX_ZERO_ROWS), -1):
            row = lib.dwarf_onesrcline(lines, index)
            if index != low - 1 and (lib.dwarf_lineendsequence(row, ctypes.byref(ends)) != 0 or ends.value):
                return none
            lib.dwarf_lineno(row, ctypes.byref(number))
            if number.value:
                return _text(lib.dwarf_linesrc(row, None, None)), number.value, address_of(index)
        return none

    def _declarations(self, die: _Die, scope: FunctionScope, address: int, base: int | None = None) -> None:
        """The scope's parameter names, and which of the parameters and locals visible at
        address are references: a block's declaration hides an outer one of its name, and
        blocks that do not hold address are not looked into."""
        lib = self.lib
        kinds: dict[str, str | None] = {}
        types: dict[str, int] = {}
        places: dict[str, tuple[int, int]] = {}
        held: dict[str, list[tuple[int, int, int]]] = {}
        computed: dict[str, list[tuple[int, int]]] = {}
        declared_at: dict[str, int] = {}        # name -> the depth of its block
        level = [die]
        looked_at = depth = 0
        while level and depth < 32 and looked_at < MAX_DECLARATIONS:
            inner = []
            for parent in level:
                child = _Die()
                if lib.dwarf_child(ctypes.byref(parent), ctypes.byref(child)) != 0:
                    continue
                while looked_at < MAX_DECLARATIONS:
                    looked_at += 1
                    tag = lib.dwarf_tag(ctypes.byref(child))
                    if tag in (DW_TAG_formal_parameter, DW_TAG_variable):
                        name = _text(lib.dwarf_diename(ctypes.byref(child)))
                        if name:
                            if tag == DW_TAG_formal_parameter and depth == 0:
                                scope.parameters.append(name)
                            kinds[name] = self._reference_kind(child)
                            declared = self._type_offset(child)
                            if declared is not None:
                                types[name] = declared
                            declared_at.pop(name, None)      # an inner one of the name hides the outer
                            declared_at[name] = depth
                            ops = expression(lib, child, DW_AT_location, address)
                            place = _place(ops, base)
                            pieces = _held(ops) if place is None else None
                            constant = constant_bytes(lib, child) if ops is None else None
                            if constant:                      # DW_AT_const_value: the value itself
                                pieces = [(PIECE_CONSTANT, int.from_bytes(constant[at:at + 8], "little"),
                                           len(constant[at:at + 8])) for at in range(0, len(constant), 8)]
                            elif ops == () or (ops is None and not lib.dwarf_hasattr(ctypes.byref(child),
                                                                                     DW_AT_location)):
                                pieces = [(PIECE_MISSING, 0, 0)]     # nowhere at the address
                            steps = _computed(ops, base) if place is None and pieces is None else None
                            places.pop(name, None)
                            held.pop(name, None)
                            computed.pop(name, None)
                            if place is not None:
                                places[name] = place
                            elif pieces is not None:
                                held[name] = pieces
                            elif steps is not None:
                                computed[name] = steps
                    elif tag in (DW_TAG_lexical_block, DW_TAG_try_block, DW_TAG_catch_block) and \
                            lib.dwarf_haspc(ctypes.byref(child), address) > 0:
                        inner.append(_Die.from_buffer_copy(child))
                    following = _Die()
                    if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                        break
                    child = following
            level = inner
            depth += 1
        scope.references = {name: kind for name, kind in kinds.items() if kind}
        scope.types = types
        # in gdb's order: the innermost block's first, each block in declaration order
        scope.visible = sorted(declared_at, key=lambda name: -declared_at[name])
        scope.places = {name: places[name] for name in scope.visible if name in places}
        scope.held = {name: held[name] for name in scope.visible if name in held}
        scope.computed = {name: computed[name] for name in scope.visible if name in computed}

    def _type_offset(self, die: _Die) -> int | None:
        """The DIE offset of a declaration's type (through abstract origins), or None."""
        attribute = _Attribute()
        target = _Die()
        if not self.lib.dwarf_attr_integrate(ctypes.byref(die), DW_AT_type, ctypes.byref(attribute)) or \
                not self.lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(target)):
            return None
        return self.lib.dwarf_dieoffset(ctypes.byref(target))

    def _reference_kind(self, die: _Die) -> str | None:
        """"&" or "&&" when the declared type is a reference (through typedefs and
        qualifiers), else None."""
        lib = self.lib
        current = die
        for _ in range(8):
            attribute = _Attribute()
            target = _Die()
            if not lib.dwarf_attr_integrate(ctypes.byref(current), DW_AT_type, ctypes.byref(attribute)) or \
                    not lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(target)):
                return None
            tag = lib.dwarf_tag(ctypes.byref(target))
            if tag == DW_TAG_reference_type:
                return "&"
            if tag == DW_TAG_rvalue_reference_type:
                return "&&"
            if tag not in (DW_TAG_typedef, DW_TAG_const_type, DW_TAG_volatile_type):
                return None
            current = target
        return None

    def _abstract(self, die: _Die) -> _Die:
        """An inlined instance's abstract DIE; a definition itself (its specification, a
        method's declaration in its class, says less: `this` is not const there)."""
        attribute = _Attribute()
        target = _Die()
        if self.lib.dwarf_attr(ctypes.byref(die), DW_AT_abstract_origin, ctypes.byref(attribute)) and \
                self.lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(target)):
            return target
        return die

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
        """gdb's spelling: the enclosing namespaces and classes, then DW_AT_name.

        The enclosing scopes come from the demangled linkage name when there is one: finding
        a DIE's parents in DWARF means re-reading its CU from the start, which costs
        milliseconds per frame on large binaries.
        """
        lib = self.lib
        origin = self._origin(die)
        key = lib.dwarf_dieoffset(ctypes.byref(origin))
        if key in self._names:
            return self._names[key]
        name = _text(lib.dwarf_diename(ctypes.byref(origin)))
        linkage = self._linkage_name(origin)
        language = self._language(origin)
        if name is not None and language == DW_LANG_Rust:
            # Rust's linkage names are mangled its own way (legacy names look like C++'s)
            name = self._prefix_from_parents(origin, name)
        elif name is not None and linkage and linkage.startswith("_Z"):
            prefix = scope_prefix(strip_parameters(demangle(linkage)))
            if prefix:
                name = f"{prefix}::{name}"
        elif name is not None and not linkage and language not in C_LANGUAGES:
            name = self._prefix_from_parents(origin, name)
        self._names[key] = name
        return name

    def _language(self, die: _Die) -> int:
        """The DW_LANG of the unit holding die (libdw answers only for a unit's own DIE)."""
        cu = _Die()
        if not self.lib.dwarf_diecu(ctypes.byref(die), ctypes.byref(cu), None, None):
            return -1
        return self.lib.dwarf_srclang(ctypes.byref(cu))

    def _prefix_from_parents(self, origin: _Die, name: str) -> str:
        """For functions with no linkage name (extern "C", main): their real parents."""
        lib = self.lib
        scopes = _DieP()
        count = lib.dwarf_getscopes_die(ctypes.byref(origin), ctypes.byref(scopes))
        if count <= 0:
            return name
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
        finally:
            _libc.free(scopes)
        return "::".join(reversed(prefix + [])) + "::" + name if prefix else name


class OpenedAhead:
    """Debug files opened on another thread while the caller goes on: opening one, libdw
    inflates its compressed sections (glibc's separate debug file: 30 ms), which it does
    without the interpreter lock, while drgn loads the same files without it too."""

    def __init__(self):
        self._opened: dict[str, DebugFile] = {}
        self._thread: threading.Thread | None = None

    def start(self, paths: list[str]) -> None:
        libdw()          # loaded here, not by two threads at once

        def open_all():
            for path in dict.fromkeys(paths):
                try:
                    debug_file = DebugFile(path)
                except Exception:     # noqa: BLE001 - the walker opens it when asked
                    continue
                if debug_file.dwarf:
                    self._opened[path] = debug_file
                else:                 # not opened (no descriptor left, not DWARF): the walker tries again
                    debug_file.close()

        thread = threading.Thread(target=open_all, name="hydra-debug-files", daemon=True)
        thread.start()
        self._thread = thread

    def take(self) -> dict[str, DebugFile]:
        """The files opened, now the caller's to close."""
        self._join()
        opened, self._opened = self._opened, {}
        return opened

    def close(self) -> None:
        """Close what was not taken."""
        for debug_file in self.take().values():
            debug_file.close()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None


_LAMBDA = re.compile(r"\{lambda\(([^{}]*)\)#\d+\}")
_FUNCTION_TYPE_SPACE = re.compile(r"(?<=[\w>*&]) \((?=[^()]*\))")


def _has_parameter_list(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        elif char == "(" and depth == 0:
            return True
    return False


def scope_prefix(demangled: str) -> str | None:
    """`ns::Cls<int>::method` -> `ns::Cls<int>`; None for a function-local class (a lambda),
    whose frames gdb names by the bare member."""
    depth = 0
    cut = None
    index = len(demangled) - 1
    while index > 0:
        char = demangled[index]
        if char in ">)":
            depth += 1
        elif char in "<(":
            depth -= 1
        elif char == ":" and depth == 0 and demangled[index - 1] == ":":
            cut = index - 1
            break
        index -= 1
    if cut is None:
        return None
    prefix = demangled[:cut]
    if _has_parameter_list(prefix.replace("(anonymous namespace)", "")):
        return None   # a function-local class: lambdas and local structs
    prefix = _LAMBDA.sub(lambda m: f"<lambda({m.group(1)})>", prefix)
    return _FUNCTION_TYPE_SPACE.sub("(", prefix)
