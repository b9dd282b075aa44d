"""DWARF types into the model's type table (hydra.model.types), read through libdw.

A type is read when something reaches it (a captured variable, a global, a member of a
type read before), by its DIE offset. Named complete structs, classes, unions and enums are
deduplicated by name (the One Definition Rule: every compile unit's copy of a header's
struct is one type), and everything else by what it is made of, so a table holds each type
once however many units repeat it.

C++ names are qualified as gdb spells them: a class's name comes from its methods' linkage
names when it has any (cheap), else from its enclosing namespaces and classes (libdw walks
the unit to find them, which a time budget bounds on very large binaries).
"""

from __future__ import annotations

import ctypes
import time

from hydra.model.gdbstyle import is_flag_enum
from hydra.model.record import record
from hydra.model.symbols import KEPT_NOWHERE
from hydra.model.types import Charset, Kind, Member, Method, Type, TypeTable, Variant
from hydra.symbols.demangle import demangle, strip_parameters
from hydra.symbols.dwarf import (C_LANGUAGES, DW_AT_const_value, DW_AT_linkage_name, DW_AT_MIPS_linkage_name,
                                 DW_AT_type, DW_LANG_Rust, DW_OP_addr, DW_OP_constu, DW_OP_deref, DW_OP_dup,
                                 DW_OP_minus, DW_OP_plus, DW_OP_plus_uconst, DebugFile, DwarfOp, _Attribute, _Die,
                                 _DieP, _libc, _text, constant_bytes, scope_prefix)

DW_TAG_array_type = 0x01
DW_TAG_class_type = 0x02
DW_TAG_enumeration_type = 0x04
DW_TAG_formal_parameter = 0x05
DW_TAG_member = 0x0D
DW_TAG_pointer_type = 0x0F
DW_TAG_reference_type = 0x10
DW_TAG_structure_type = 0x13
DW_TAG_subroutine_type = 0x15
DW_TAG_typedef = 0x16
DW_TAG_union_type = 0x17
DW_TAG_unspecified_parameters = 0x18
DW_TAG_inheritance = 0x1C
DW_TAG_ptr_to_member_type = 0x1F
DW_TAG_subrange_type = 0x21
DW_TAG_base_type = 0x24
DW_TAG_const_type = 0x26
DW_TAG_enumerator = 0x28
DW_TAG_subprogram = 0x2E
DW_TAG_variable = 0x34
DW_TAG_volatile_type = 0x35
DW_TAG_restrict_type = 0x37
DW_TAG_namespace = 0x39
DW_TAG_unspecified_type = 0x3B
DW_TAG_rvalue_reference_type = 0x42
DW_TAG_atomic_type = 0x47
DW_TAG_template_type_param = 0x2F
DW_TAG_variant = 0x19
DW_TAG_variant_part = 0x33
DW_AT_discr = 0x15
DW_AT_discr_value = 0x16
MAX_VARIANTS = 4096          # variants of one enum read

DW_AT_name = 0x03
DW_AT_byte_size = 0x0B
DW_AT_bit_offset = 0x0C
DW_AT_bit_size = 0x0D
DW_AT_upper_bound = 0x2F
DW_AT_prototyped = 0x27
DW_AT_accessibility = 0x32
DW_AT_artificial = 0x34
DW_AT_count = 0x37
DW_AT_data_member_location = 0x38
DW_AT_declaration = 0x3C
DW_AT_encoding = 0x3E
DW_AT_external = 0x3F
DW_AT_location = 0x02
DW_AT_virtuality = 0x4C
DW_AT_containing_type = 0x1D
DW_AT_object_pointer = 0x64
DW_AT_data_bit_offset = 0x6B
DW_AT_enum_class = 0x6D
DW_AT_lower_bound = 0x22

DW_ATE_boolean = 0x02
DW_ATE_float = 0x04
DW_ATE_signed = 0x05
DW_ATE_signed_char = 0x06
DW_ATE_unsigned = 0x07
DW_ATE_unsigned_char = 0x08
DW_ATE_UTF = 0x10


# gdb's spelling of GCC's base type names
GDB_BASE_NAMES = {"long int": "long", "long unsigned int": "unsigned long", "short int": "short",
                  "short unsigned int": "unsigned short", "long long int": "long long",
                  "long long unsigned int": "unsigned long long"}
COMPOUND_TAGS = {DW_TAG_structure_type: Kind.STRUCT, DW_TAG_class_type: Kind.CLASS, DW_TAG_union_type: Kind.UNION}
QUALIFIER_TAGS = (DW_TAG_const_type, DW_TAG_volatile_type, DW_TAG_restrict_type, DW_TAG_atomic_type)
ACCESS = {1: "public", 2: "protected", 3: "private"}
MAX_MEMBERS = 4096
LIBRARY_SCOPES = ("std::", "__gnu_cxx::", "__cxxabiv1::", "__gnu_debug::")
LIBRARY_NAMESPACES = {"std", "__gnu_cxx", "__cxxabiv1", "__gnu_debug"}
MAX_ENUMERATORS = 16384
MAX_DEPTH = 64
POINTER_SIZE = 8
VIRTUAL_BASE = -1               # Member.offset of a virtual base whose offset the vtable holds


def language_of(code: int) -> str:
    if code in C_LANGUAGES:
        return "c"
    if code == DW_LANG_Rust:
        return "rust"
    if code in (0x4, 0x1A, 0x21, 0x2A, 0x2B) or code == 0x29:     # C++, C++03/11/14/17/20
        return "c++"
    return "other"


class TypeReader:
    """Reads types of one debug file into `table`. `name_budget` is the seconds that may be
    spent finding C++ types' enclosing scopes (shared by every reader of one capture)."""

    def __init__(self, debug_file: DebugFile, table: TypeTable, shared: dict | None = None,
                 name_budget: list[float] | None = None):
        self.file = debug_file
        self.lib = debug_file.lib
        self.table = table
        self.by_offset: dict[int, int] = {}
        # structural keys -> index, shared by the readers of one table
        self.shared = shared if shared is not None else {}
        self.name_budget = name_budget if name_budget is not None else [1.0]
        self._languages: dict[int, str] = {}

    # ------------------------------------------------------------ entry points

    def type_at(self, offset: int, depth: int = 0) -> int | None:
        """The table index of the type whose DIE is at `offset` (None when it cannot be read)."""
        if offset in self.by_offset:
            return self.by_offset[offset]
        if depth > MAX_DEPTH or not self.file.dwarf:
            return None
        die = _Die()
        if not self.lib.dwarf_offdie(self.file.dwarf, offset, ctypes.byref(die)):
            return None
        return self._read(die, offset, depth)

    def type_of(self, die: _Die, depth: int = 0) -> int | None:
        """The type a DIE's DW_AT_type names; None for void (or none)."""
        target = self._ref(die, DW_AT_type)
        if target is None:
            return None
        return self.type_at(self.lib.dwarf_dieoffset(ctypes.byref(target)), depth + 1)

    def function_type_at(self, offset: int) -> int | None:
        """The type of the function whose DIE is at `offset` (a subprogram: `this` included)."""
        die = _Die()
        if not self.file.dwarf or not self.lib.dwarf_offdie(self.file.dwarf, offset, ctypes.byref(die)):
            return None
        return self._function(die, self._language(die), 0, skip_this=False)[0]

    def void(self) -> int:
        return self._intern(("void",), Type(Kind.VOID, "void"))

    # ------------------------------------------------------------ reading one DIE

    def _read(self, die: _Die, offset: int, depth: int) -> int | None:
        lib = self.lib
        tag = lib.dwarf_tag(ctypes.byref(die))
        language = self._language(die)
        if tag == DW_TAG_base_type:
            return self._keep(offset, self._base(die, language))
        if tag in (DW_TAG_pointer_type, DW_TAG_reference_type, DW_TAG_rvalue_reference_type):
            kind = {DW_TAG_pointer_type: Kind.POINTER, DW_TAG_reference_type: Kind.REFERENCE,
                    DW_TAG_rvalue_reference_type: Kind.RVALUE_REFERENCE}[tag]
            target = self.type_of(die, depth)
            if target is None:
                target = self.void()
            size = self._udata(die, DW_AT_byte_size) or POINTER_SIZE
            return self._keep(offset, self._intern((kind, target, size),
                                                   Type(kind, size=size, target=target, language=language)))
        if tag in QUALIFIER_TAGS:
            target = self.type_of(die, depth)
            if target is None:
                target = self.void()
            if tag not in (DW_TAG_const_type, DW_TAG_volatile_type):
                return self._keep(offset, target)      # restrict and _Atomic: gdb shows the type itself
            return self._keep(offset, self._qualified(target, tag == DW_TAG_const_type,
                                                      tag == DW_TAG_volatile_type))
        if tag == DW_TAG_typedef:
            name = self._name(die, language, typed=True)
            target = self.type_of(die, depth)
            if target is None:
                target = self.void()
            return self._keep(offset, self._intern((Kind.TYPEDEF, name, target),
                                                   Type(Kind.TYPEDEF, name, self.table[target].size, target,
                                                        language=language)))
        if tag in COMPOUND_TAGS:
            return self._compound(die, offset, COMPOUND_TAGS[tag], language, depth)
        if tag == DW_TAG_enumeration_type:
            return self._enum(die, offset, language, depth)
        if tag == DW_TAG_array_type:
            return self._array(die, offset, language, depth)
        if tag == DW_TAG_subroutine_type:
            return self._keep(offset, self._function(die, language, depth, skip_this=False)[0])
        if tag == DW_TAG_ptr_to_member_type:
            target = self.type_of(die, depth)
            containing = self._ref(die, DW_AT_containing_type)
            container = self.type_at(lib.dwarf_dieoffset(ctypes.byref(containing)), depth + 1) \
                if containing is not None else None
            size = 16 if target is not None and self.table[target].kind == Kind.FUNCTION else 8
            return self._keep(offset, self._intern(
                (Kind.MEMBER_POINTER, target, container),
                Type(Kind.MEMBER_POINTER, size=size, target=target, containing=container, language=language)))
        if tag == DW_TAG_unspecified_type:       # decltype(nullptr)
            name = self._name(die, language) or "void"
            return self._keep(offset, self._intern(("unspecified", name),
                                                   Type(Kind.POINTER if name != "void" else Kind.VOID,
                                                        "std::nullptr_t" if "nullptr" in name else name,
                                                        size=POINTER_SIZE if name != "void" else None,
                                                        language=language)))
        return None

    def _keep(self, offset: int, index: int | None) -> int | None:
        if index is not None:
            self.by_offset[offset] = index
        return index

    def _intern(self, key: tuple, type_: Type) -> int:
        known = self.shared.get(key)
        if known is not None:
            return known
        index = self.table.add(type_)
        self.shared[key] = index
        return index

    def _qualified(self, target: int, const: bool, volatile: bool) -> int:
        base = self.table[target]
        const, volatile = const or base.const, volatile or base.volatile
        if (const, volatile) == (base.const, base.volatile):
            return target
        unqualified = self.shared.get(("unqualified", target), target)
        key = ("qualified", unqualified, const, volatile)
        if key in self.shared:
            return self.shared[key]
        copy = Type(**{**base.__dict__, "const": const, "volatile": volatile})
        index = self._intern(key, copy)
        self.shared[("unqualified", index)] = unqualified
        return index

    def _base(self, die: _Die, language: str) -> int:
        name = self._name(die, language) or "?"
        name = GDB_BASE_NAMES.get(name, name) if language in ("c", "c++") else name
        size = self._udata(die, DW_AT_byte_size) or 0
        encoding = self._udata(die, DW_AT_encoding) or 0
        kind, signed, charset = Kind.INT, True, Charset.NONE
        if encoding == DW_ATE_boolean:
            kind, signed = Kind.BOOL, False
        elif encoding == DW_ATE_float:
            kind = Kind.FLOAT
        elif encoding in (DW_ATE_unsigned, DW_ATE_unsigned_char):
            signed = False
        if encoding in (DW_ATE_signed_char, DW_ATE_unsigned_char) and size == 1:
            charset = Charset.CHAR
        elif name == "wchar_t":
            charset = Charset.WIDE
        elif encoding == DW_ATE_UTF:
            signed = False
            charset = {1: Charset.CHAR, 2: Charset.UTF16, 4: Charset.UTF32}.get(size, Charset.NONE)
        return self._intern(("base", name, size, kind, signed, charset),
                            Type(kind, name, size, signed=signed, charset=charset, language=language))

    def _compound(self, die: _Die, offset: int, kind: str, language: str, depth: int) -> int:
        lib = self.lib
        name = self._name(die, language, typed=True)
        declaration = self._flag(die, DW_AT_declaration)
        size = self._udata(die, DW_AT_byte_size)
        if name is not None:
            key = ("compound", kind, name, language)
            known = self.shared.get(key)
            if known is not None and (declaration or not self.table[known].incomplete):
                self.by_offset[offset] = known
                return known
            if known is not None:            # a declaration seen first: this is its definition
                index = known
                self.table[index].incomplete = False
                self.table[index].size = size
            else:
                index = self._intern(key, Type(kind, name, size, incomplete=declaration, language=language))
        else:
            index = self.table.add(Type(kind, None, size, incomplete=declaration, language=language))
        self.by_offset[offset] = index
        if declaration:
            return index
        type_ = self.table[index]
        default_access = "private" if kind == Kind.CLASS else "public"
        # the standard library's classes have hundreds of methods, each reaching more types:
        # their data members are read (values need them), their methods are not
        library = name is not None and name.startswith(LIBRARY_SCOPES)
        child = _Die()
        if lib.dwarf_child(ctypes.byref(die), ctypes.byref(child)) != 0:
            return index
        count = 0
        while count < MAX_MEMBERS:
            count += 1
            tag = lib.dwarf_tag(ctypes.byref(child))
            if tag in (DW_TAG_member, DW_TAG_inheritance, DW_TAG_variable):
                member = self._member(child, tag, depth, default_access if language == "c++" else "")
                if member is not None:
                    type_.members.append(member)
            elif tag == DW_TAG_subprogram and language == "c++" and not library:
                method = self._method(child, depth, default_access)
                if method is not None:
                    type_.methods.append(method)
            elif tag == DW_TAG_variant_part and language == "rust":
                self._variant_part(child, type_, depth)
            elif tag == DW_TAG_template_type_param:
                parameter_name = _text(lib.dwarf_diename(ctypes.byref(child)))
                parameter_type = self.type_of(child, depth)
                if parameter_name and parameter_type is not None:
                    type_.template_parameters.append((parameter_name, parameter_type))
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                break
            child = following
        return index

    def _variant_part(self, die: _Die, type_: Type, depth: int) -> None:
        """A Rust enum's variants (DW_TAG_variant_part): its discriminant member (the one
        DW_AT_discr names) and, for each DW_TAG_variant, the value of the discriminant that
        chooses it (none: every other value) and its member, named after the variant."""
        lib = self.lib
        attribute = _Attribute()
        named = _Die()
        discriminant_offset = lib.dwarf_dieoffset(ctypes.byref(named)) \
            if lib.dwarf_attr(ctypes.byref(die), DW_AT_discr, ctypes.byref(attribute)) and \
            lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(named)) else None
        child = _Die()
        if lib.dwarf_child(ctypes.byref(die), ctypes.byref(child)) != 0:
            return
        for _ in range(MAX_VARIANTS):
            tag = lib.dwarf_tag(ctypes.byref(child))
            if tag == DW_TAG_member and lib.dwarf_dieoffset(ctypes.byref(child)) == discriminant_offset:
                type_.discriminant = self._member(child, tag, depth, "")
            elif tag == DW_TAG_variant:
                # compilers write a value in the smallest form it fits: an unsigned
                # discriminant's 200 is a data1 0xc8, which _constant reads as signed
                discriminant = self.table[type_.discriminant.type] if type_.discriminant is not None else None
                value = self._constant(child, DW_AT_discr_value) if discriminant is None or discriminant.signed \
                    else self._udata(child, DW_AT_discr_value)
                inner = _Die()
                if lib.dwarf_child(ctypes.byref(child), ctypes.byref(inner)) == 0 and \
                        lib.dwarf_tag(ctypes.byref(inner)) == DW_TAG_member:
                    member = self._member(inner, DW_TAG_member, depth, "")
                    if member is not None and member.name:
                        type_.variants.append(Variant(value, member))
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                break
            child = following

    def _member(self, die: _Die, tag: int, depth: int, default_access: str) -> Member | None:
        lib = self.lib
        type_index = self.type_of(die, depth)
        if type_index is None:
            return None
        name = _text(lib.dwarf_diename(ctypes.byref(die)))
        access = ACCESS.get(self._udata(die, DW_AT_accessibility) or 0, default_access)
        if tag == DW_TAG_inheritance:
            access = ACCESS.get(self._udata(die, DW_AT_accessibility) or 0,
                                "private" if default_access == "private" else "public")
            offset, virtual = self._member_location(die)
            return Member(None, type_index, offset, base=True, virtual=virtual or
                          bool(self._udata(die, DW_AT_virtuality)), access=access)
        if tag == DW_TAG_variable or (self._flag(die, DW_AT_external) and self._flag(die, DW_AT_declaration)):
            return Member(name, type_index, 0, static=True, access=access)
        offset, _virtual = self._member_location(die)
        member = Member(name, type_index, offset, artificial=self._flag(die, DW_AT_artificial), access=access)
        bit_size = self._udata(die, DW_AT_bit_size)
        if bit_size:
            member.bit_size = bit_size
            data_bit_offset = self._udata(die, DW_AT_data_bit_offset)
            if data_bit_offset is not None:
                member.offset, member.bit_offset = divmod(data_bit_offset, 8)
            else:                      # DWARF 2/3: counted from the storage unit's most significant bit
                storage = self._udata(die, DW_AT_byte_size) or self.table[type_index].size or 4
                legacy = self._udata(die, DW_AT_bit_offset) or 0
                lowest = storage * 8 - legacy - bit_size
                member.offset, member.bit_offset = member.offset + lowest // 8, lowest % 8
        return member

    def _member_location(self, die: _Die) -> tuple[int, bool]:
        """(offset, virtual): a constant, or (for a virtual base) the expression that reads
        the offset from the vtable, whose slot is then kept as a negative offset."""
        lib = self.lib
        attribute = _Attribute()
        if not lib.dwarf_attr(ctypes.byref(die), DW_AT_data_member_location, ctypes.byref(attribute)):
            return 0, False
        value = ctypes.c_uint64()
        if lib.dwarf_formudata(ctypes.byref(attribute), ctypes.byref(value)) == 0:
            return value.value, False
        ops = self._location(attribute)
        if len(ops) == 1 and ops[0].atom == DW_OP_plus_uconst:
            return ops[0].number, False
        atoms = [op.atom for op in ops]
        if atoms == [DW_OP_dup, DW_OP_deref, DW_OP_constu, DW_OP_minus, DW_OP_deref, DW_OP_plus]:
            return -ops[2].number, True            # *(*(object) - N) + object
        return 0, True

    def _location(self, attribute) -> list:
        ops = ctypes.POINTER(DwarfOp)()
        count = ctypes.c_size_t()
        if self.lib.dwarf_getlocation(ctypes.byref(attribute), ctypes.byref(ops), ctypes.byref(count)) != 0:
            return []
        return [ops[i] for i in range(min(count.value, 64))]

    def _method(self, die: _Die, depth: int, default_access: str) -> Method | None:
        name = _text(self.lib.dwarf_diename(ctypes.byref(die)))
        if not name:
            return None
        function, this_const, has_this = self._function(die, "c++", depth, skip_this=True)
        return Method(name, function, virtual=bool(self._udata(die, DW_AT_virtuality)),
                      static=not has_this, const=this_const, artificial=self._flag(die, DW_AT_artificial),
                      access=ACCESS.get(self._udata(die, DW_AT_accessibility) or 0, default_access))

    def _function(self, die: _Die, language: str, depth: int, skip_this: bool) -> tuple[int, bool, bool]:
        """(function type, `this` points to const, has `this`)."""
        lib = self.lib
        result = self.type_of(die, depth)
        parameters: list[int] = []
        variadic = False
        this_const = has_this = False
        child = _Die()
        if lib.dwarf_child(ctypes.byref(die), ctypes.byref(child)) == 0:
            for _ in range(256):
                tag = lib.dwarf_tag(ctypes.byref(child))
                if tag == DW_TAG_formal_parameter:
                    parameter = self.type_of(child, depth)
                    artificial = self._flag(child, DW_AT_artificial)
                    if skip_this and artificial and not has_this and not parameters:
                        has_this = True
                        pointee = self.table.get(self.table[parameter].target) if parameter is not None else None
                        this_const = bool(pointee and pointee.const)
                    elif skip_this and artificial:
                        pass                # __in_chrg and the like: not in the method's signature
                    elif parameter is not None:
                        if artificial and not parameters and language == "c++":
                            # `this`, which gdb makes const where GCC's class declarations
                            # leave it plain (GCC PR 43053): `shop::Register * const`
                            parameter = self._qualified(parameter, True, False)
                        parameters.append(parameter)
                elif tag == DW_TAG_unspecified_parameters:
                    variadic = True
                following = _Die()
                if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                    break
                child = following
        prototyped = self._flag(die, DW_AT_prototyped) or language != "c"
        key = (Kind.FUNCTION, result, tuple(parameters), variadic, prototyped)
        index = self._intern(key, Type(Kind.FUNCTION, target=result, parameters=parameters, variadic=variadic,
                                       prototyped=prototyped, language=language))
        return index, this_const, has_this

    def _enum(self, die: _Die, offset: int, language: str, depth: int) -> int:
        lib = self.lib
        name = self._name(die, language, typed=True)
        size = self._udata(die, DW_AT_byte_size) or 4
        underlying = self.type_of(die, depth)
        signed = self.table[underlying].signed if underlying is not None else None
        enumerators: list[tuple[str, int]] = []
        child = _Die()
        if lib.dwarf_child(ctypes.byref(die), ctypes.byref(child)) == 0:
            while len(enumerators) < MAX_ENUMERATORS:
                if lib.dwarf_tag(ctypes.byref(child)) == DW_TAG_enumerator:
                    value = self._constant(child, DW_AT_const_value)
                    if value is not None:
                        enumerators.append((_text(lib.dwarf_diename(ctypes.byref(child))) or "?", value))
                following = _Die()
                if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                    break
                child = following
        if signed is None:
            signed = any(value < 0 for _, value in enumerators)
        scoped = self._flag(die, DW_AT_enum_class)
        type_ = Type(Kind.ENUM, name, size, target=underlying, signed=signed, enumerators=enumerators,
                     scoped=scoped, flag_enum=is_flag_enum([value for _, value in enumerators]), language=language,
                     incomplete=self._flag(die, DW_AT_declaration))
        if name is None:
            return self._keep(offset, self.table.add(type_))
        return self._keep(offset, self._intern(("enum", name, language, tuple(enumerators)), type_))

    def _array(self, die: _Die, offset: int, language: str, depth: int) -> int | None:
        lib = self.lib
        element = self.type_of(die, depth)
        if element is None:
            return None
        lengths: list[int | None] = []
        child = _Die()
        if lib.dwarf_child(ctypes.byref(die), ctypes.byref(child)) == 0:
            for _ in range(16):
                if lib.dwarf_tag(ctypes.byref(child)) == DW_TAG_subrange_type:
                    count = self._udata(child, DW_AT_count)
                    if count is None:
                        upper = self._constant(child, DW_AT_upper_bound)
                        lower = self._constant(child, DW_AT_lower_bound) or 0
                        count = upper - lower + 1 if upper is not None and upper >= lower else None
                    lengths.append(count)
                following = _Die()
                if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                    break
                child = following
        index = element
        for length in reversed(lengths or [None]):
            element_size = self.table[index].size
            size = element_size * length if element_size is not None and length is not None else None
            index = self._intern((Kind.ARRAY, index, length),
                                 Type(Kind.ARRAY, size=size, target=index, length=length, language=language))
        return self._keep(offset, index)

    # ------------------------------------------------------------ attributes

    def _ref(self, die: _Die, code: int) -> _Die | None:
        attribute = _Attribute()
        target = _Die()
        if self.lib.dwarf_attr_integrate(ctypes.byref(die), code, ctypes.byref(attribute)) and \
                self.lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(target)):
            return target
        return None

    def _udata(self, die: _Die, code: int) -> int | None:
        attribute = _Attribute()
        value = ctypes.c_uint64()
        if self.lib.dwarf_attr_integrate(ctypes.byref(die), code, ctypes.byref(attribute)) and \
                self.lib.dwarf_formudata(ctypes.byref(attribute), ctypes.byref(value)) == 0:
            return value.value
        return None

    def _constant(self, die: _Die, code: int) -> int | None:
        """A signed or unsigned constant as its form says (DW_FORM_sdata, data1..8, udata)."""
        attribute = _Attribute()
        if not self.lib.dwarf_attr(ctypes.byref(die), code, ctypes.byref(attribute)):
            return None
        form = self.lib.dwarf_whatform(ctypes.byref(attribute))
        if form == 0x0D:                                   # DW_FORM_sdata
            value = ctypes.c_int64()
            return value.value if self.lib.dwarf_formsdata(ctypes.byref(attribute), ctypes.byref(value)) == 0 else None
        unsigned = ctypes.c_uint64()
        if self.lib.dwarf_formudata(ctypes.byref(attribute), ctypes.byref(unsigned)) != 0:
            return None
        width = {0x0B: 8, 0x05: 16, 0x06: 32}.get(form)    # data1, data2, data4: signed as gdb reads them
        value = unsigned.value
        if width and value >> (width - 1):
            value -= 1 << width
        return value

    def _flag(self, die: _Die, code: int) -> bool:
        attribute = _Attribute()
        value = ctypes.c_bool()
        return bool(self.lib.dwarf_attr_integrate(ctypes.byref(die), code, ctypes.byref(attribute))
                    and self.lib.dwarf_formflag(ctypes.byref(attribute), ctypes.byref(value)) == 0 and value.value)

    def _language(self, die: _Die) -> str:
        cu = _Die()
        if not self.lib.dwarf_diecu(ctypes.byref(die), ctypes.byref(cu), None, None):
            return "other"
        key = self.lib.dwarf_dieoffset(ctypes.byref(cu))
        if key not in self._languages:
            self._languages[key] = language_of(self.lib.dwarf_srclang(ctypes.byref(cu)))
        return self._languages[key]

    def _name(self, die: _Die, language: str, typed: bool = False) -> str | None:
        """DW_AT_name; for C++ (and Rust) types, qualified with their enclosing scopes."""
        name = _text(self.lib.dwarf_diename(ctypes.byref(die)))
        if name is None or not typed or language not in ("c++", "rust"):
            return name
        prefix = self._prefix_from_methods(die) if language == "c++" else None
        if prefix is None:
            prefix = self._prefix_from_parents(die)
        return f"{prefix}::{name}" if prefix else name

    def _prefix_from_methods(self, die: _Die) -> str | None:
        """A class's enclosing scopes from a method's linkage name (`_ZN2ns4Base1fEv`:
        `ns::Base::f()` names the class ns::Base, whose prefix is ns)."""
        lib = self.lib
        child = _Die()
        if lib.dwarf_child(ctypes.byref(die), ctypes.byref(child)) != 0:
            return None
        for _ in range(MAX_MEMBERS):
            if lib.dwarf_tag(ctypes.byref(child)) == DW_TAG_subprogram:
                attribute = _Attribute()
                for code in (DW_AT_linkage_name, DW_AT_MIPS_linkage_name):
                    if lib.dwarf_attr(ctypes.byref(child), code, ctypes.byref(attribute)):
                        linkage = _text(lib.dwarf_formstring(ctypes.byref(attribute)))
                        if linkage and linkage.startswith("_Z"):
                            owner = scope_prefix(strip_parameters(demangle(linkage)))
                            if owner:               # the class itself: its own prefix is wanted
                                return scope_prefix(owner) or ""
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                return None
            child = following
        return None

    def _prefix_from_parents(self, die: _Die) -> str:
        if self.name_budget[0] <= 0:
            return ""          # a very large binary: names stay as DWARF has them
        started = time.perf_counter()
        lib = self.lib
        scopes = _DieP()
        count = lib.dwarf_getscopes_die(ctypes.byref(die), ctypes.byref(scopes))
        try:
            parts = []
            for index in range(1, max(count, 0)):
                parent = scopes[index]
                tag = lib.dwarf_tag(ctypes.byref(parent))
                if tag == DW_TAG_namespace:
                    parts.append(_text(lib.dwarf_diename(ctypes.byref(parent))) or "(anonymous namespace)")
                elif tag in COMPOUND_TAGS or tag == DW_TAG_subprogram:
                    parent_name = _text(lib.dwarf_diename(ctypes.byref(parent)))
                    if parent_name:
                        parts.append(parent_name)
                else:
                    break
        finally:
            if count > 0:
                _libc.free(scopes)
            self.name_budget[0] -= time.perf_counter() - started
        return "::".join(reversed(parts))


DW_TAG_lexical_block = 0x0B
DW_TAG_compile_unit = 0x11
MAX_GLOBAL_DIES = 200_000        # DIEs looked at for a module's globals (large C++ binaries have millions)


@record
class FunctionDefinition:
    name: str                    # qualified as gdb names a function with debug info
    address: int                 # its entry, file-relative
    die: int


@record
class GlobalVariable:
    name: str                    # as gdb names it: `counter`, `ns::table`, `main::calls` (a function's static)
    address: int                 # file-relative (add the module's bias)
    type_offset: int             # the DIE of its type
    function: str | None = None  # the function whose static it is
    constant: bytes | None = None    # DW_AT_const_value: the compiler kept the value, not an address
    #                                  (KEPT_NOWHERE: neither)


def global_variables(debug_file: DebugFile, limit: int = MAX_GLOBAL_DIES, statics: bool = True,
                     functions: list[FunctionDefinition] | None = None,
                     name_budget: list[float] | None = None,
                     budget: list[int] | None = None) -> tuple[list[GlobalVariable], bool]:
    """Variables with a fixed address: at a unit's top level, in namespaces, and (with
    `statics`) a function's statics; function definitions go to `functions` when given.
    (found, complete): the walk stops after `limit` DIEs, or when `budget` (DIEs left,
    shared by several walks) runs out."""
    lib = debug_file.lib
    dwarf = debug_file.dwarf
    found: list[GlobalVariable] = []
    if not dwarf:
        return found, True
    if functions is not None:
        found_functions = functions
    else:
        found_functions = []
    budget = budget if budget is not None else [limit]
    offset = ctypes.c_uint64(0)
    while budget[0] > 0:
        following = ctypes.c_uint64()
        header = ctypes.c_size_t()
        if lib.dwarf_nextcu(dwarf, offset.value, ctypes.byref(following), ctypes.byref(header), None, None,
                            None) != 0:
            return found, True
        cu = _Die()
        if lib.dwarf_offdie(dwarf, offset.value + header.value, ctypes.byref(cu)):
            language = language_of(lib.dwarf_srclang(ctypes.byref(cu)))
            _walk_globals(lib, cu, [], None if statics else "", language, found, budget, found_functions,
                          name_budget)
        offset = following
    return found, False


def _walk_globals(lib, parent: _Die, prefix: list[str], function: str | None, language: str,
                  found: list[GlobalVariable], budget: list[int], functions: list[FunctionDefinition],
                  name_budget: list[float] | None = None) -> None:
    child = _Die()
    if lib.dwarf_child(ctypes.byref(parent), ctypes.byref(child)) != 0:
        return
    while budget[0] > 0:
        budget[0] -= 1
        tag = lib.dwarf_tag(ctypes.byref(child))
        if tag == DW_TAG_variable:
            address = _fixed_address(lib, child)
            constant = constant_bytes(lib, child) if address is None else None
            if address is None and constant is None and not lib.dwarf_hasattr(ctypes.byref(child), DW_AT_location) \
                    and not lib.dwarf_hasattr(ctypes.byref(child), DW_AT_declaration):
                constant = KEPT_NOWHERE        # defined here, kept nowhere: gdb's <optimized out>
            if constant is not None:
                name = _specification_name(lib, child, name_budget) or _text(lib.dwarf_diename(ctypes.byref(child)))
                type_offset = _type_offset(lib, child)
                if name and type_offset is not None:
                    found.append(GlobalVariable(name if "::" in name else "::".join(prefix + [name]), 0, type_offset,
                                                function, constant))
            if address is not None:
                name = _specification_name(lib, child, name_budget) or _text(lib.dwarf_diename(ctypes.byref(child)))
                type_offset = _type_offset(lib, child)
                if name and type_offset is not None:
                    qualified = name if "::" in name else "::".join(prefix + [name])
                    found.append(GlobalVariable(qualified, address, type_offset, function))
        elif tag == DW_TAG_namespace and not function and \
                (_text(lib.dwarf_diename(ctypes.byref(child))) or "") not in LIBRARY_NAMESPACES:
            # the standard library's namespaces hold thousands of declarations in every
            # unit of a C++ program, and none of the program's globals
            name = _text(lib.dwarf_diename(ctypes.byref(child))) or "(anonymous namespace)"
            _walk_globals(lib, _Die.from_buffer_copy(child), prefix + [name], None, language, found, budget,
                          functions, name_budget)
        elif tag == DW_TAG_subprogram and function is None and lib.dwarf_hasattr(ctypes.byref(child), 0x11):
            # a function's definition (DW_AT_low_pc): its statics are `function::name`; an
            # out-of-line method's name is on its declaration (DW_AT_specification)
            name = _specification_name(lib, child, name_budget) or _text(lib.dwarf_diename(ctypes.byref(child)))
            if name:
                die = _Die.from_buffer_copy(child)
                entry = ctypes.c_uint64()
                if lib.dwarf_entrypc(ctypes.byref(die), ctypes.byref(entry)) == 0:
                    functions.append(FunctionDefinition("::".join(prefix + [name]), entry.value,
                                                        lib.dwarf_dieoffset(ctypes.byref(die))))
                _walk_globals(lib, die, prefix + [name], name, language, found, budget, functions, name_budget)
        elif tag == DW_TAG_lexical_block and function is not None:
            _walk_globals(lib, _Die.from_buffer_copy(child), prefix, function, language, found, budget, functions,
                          name_budget)
        following = _Die()
        if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
            return
        child = following


def _fixed_address(lib, die: _Die) -> int | None:
    """DW_AT_location that is one DW_OP_addr: a variable at a fixed (file-relative) address."""
    attribute = _Attribute()
    if not lib.dwarf_attr(ctypes.byref(die), DW_AT_location, ctypes.byref(attribute)):
        return None
    ops = ctypes.POINTER(DwarfOp)()
    count = ctypes.c_size_t()
    if lib.dwarf_getlocation(ctypes.byref(attribute), ctypes.byref(ops), ctypes.byref(count)) != 0:
        return None
    if count.value == 1 and ops[0].atom == DW_OP_addr:
        return ops[0].number
    return None


def _specification_name(lib, die: _Die, budget: list[float] | None = None) -> str | None:
    """The qualified name of what a definition DIE defines elsewhere (DW_AT_specification):
    C++ declares namespace variables and static members inside their scope and defines them
    at the unit's top level."""
    attribute = _Attribute()
    target = _Die()
    if not (lib.dwarf_attr(ctypes.byref(die), 0x47, ctypes.byref(attribute)) and
            lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(target))):
        return None
    name = _text(lib.dwarf_diename(ctypes.byref(target)))
    if name is None or (budget is not None and budget[0] <= 0):
        return name
    started = time.perf_counter()
    scopes = _DieP()
    count = lib.dwarf_getscopes_die(ctypes.byref(target), ctypes.byref(scopes))
    parts = []
    try:
        for index in range(1, max(count, 0)):
            tag = lib.dwarf_tag(ctypes.byref(scopes[index]))
            if tag not in (DW_TAG_namespace,) and tag not in COMPOUND_TAGS:
                break
            parts.append(_text(lib.dwarf_diename(ctypes.byref(scopes[index]))) or "(anonymous namespace)")
    finally:
        if count > 0:
            _libc.free(scopes)
        if budget is not None:
            budget[0] -= time.perf_counter() - started
    return "::".join(list(reversed(parts)) + [name]) if parts else name


def _type_offset(lib, die: _Die) -> int | None:
    attribute = _Attribute()
    target = _Die()
    if lib.dwarf_attr_integrate(ctypes.byref(die), DW_AT_type, ctypes.byref(attribute)) and \
            lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(target)):
        return lib.dwarf_dieoffset(ctypes.byref(target))
    return None
