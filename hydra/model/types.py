"""Types as data: the type table a snapshot keeps, so expressions can be evaluated, values
printed and types shown without the binaries (gdb's `print`, `ptype`, `whatis`).

A table is a list of Type records; a record refers to others by their index in the table
(`target`, a member's `type`), so it holds cycles (a list node pointing to its own kind)
and serializes as plain lists. Names are spelled as gdb spells them: qualified C++ names
(`std::string`, `ns::Base`), `struct node` for C tags.
"""

from __future__ import annotations

from hydra.model.record import field, record


class Kind:
    """What a type is; the names are what the snapshot stores."""

    VOID = "void"
    INT = "int"                  # integers, including char, wchar_t, char16_t, char32_t
    BOOL = "bool"
    FLOAT = "float"
    POINTER = "pointer"
    REFERENCE = "reference"
    RVALUE_REFERENCE = "rvalue_reference"
    ARRAY = "array"
    STRUCT = "struct"
    CLASS = "class"
    UNION = "union"
    ENUM = "enum"
    TYPEDEF = "typedef"
    FUNCTION = "function"
    MEMBER_POINTER = "member_pointer"

    ALL = (VOID, INT, BOOL, FLOAT, POINTER, REFERENCE, RVALUE_REFERENCE, ARRAY, STRUCT, CLASS, UNION, ENUM,
           TYPEDEF, FUNCTION, MEMBER_POINTER)
    COMPOUND = (STRUCT, CLASS, UNION)
    REFERENCES = (REFERENCE, RVALUE_REFERENCE)


class Charset:
    """How an integer type's values read as characters: none, or the literal prefix gdb uses."""

    NONE = ""
    CHAR = "char"                # char, signed char, unsigned char: 'A'
    WIDE = "L"                   # wchar_t: L'A'
    UTF16 = "u"                  # char16_t: u'A'
    UTF32 = "U"                  # char32_t: U'A'


@record
class Member:
    name: str | None             # None for an anonymous struct or union member
    type: int
    offset: int = 0              # bytes from the start of the containing object
    bit_size: int = 0            # a bit-field's width (0: not a bit-field)
    bit_offset: int = 0          # a bit-field's first bit, counted from `offset`'s lowest bit
    base: bool = False           # a base class (`<Base> = {...}`)
    virtual: bool = False        # a virtual base: its offset is found at run time
    static: bool = False         # a static data member: `address`, not part of the object
    address: int | None = None
    artificial: bool = False     # _vptr.Base and the like
    access: str = ""             # public, private, protected (C++; "" in C)


@record
class Variant:
    """One variant of a Rust enum: the one its value is when the discriminant equals
    `value` (None: the variant of every value no other one names, as rustc's niches)."""
    value: int | None
    member: Member               # named after the variant; its type holds the variant's fields


@record
class Method:
    name: str
    type: int                    # a function type, `this` left out
    virtual: bool = False
    static: bool = False
    const: bool = False
    artificial: bool = False     # made by the compiler (copy constructors, ...)
    access: str = ""


@record
class Type:
    kind: str
    name: str | None = None      # the type's own name: `int`, `node`, `ns::Base`, a typedef's
    size: int | None = None      # bytes; None when unknown (incomplete, void, functions)
    target: int | None = None    # pointee, referee, element, typedef's type, enum's integer type,
    #                              function's return type (None: void), member pointer's member type
    const: bool = False
    volatile: bool = False
    signed: bool = True          # INT, and an ENUM's values
    charset: str = Charset.NONE
    length: int | None = None    # ARRAY: elements (None: unknown, as `int []`)
    members: list[Member] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)
    enumerators: list[tuple[str, int]] = field(default_factory=list)
    scoped: bool = False         # ENUM: `enum class` (enumerators are named `E::A`)
    flag_enum: bool = False      # ENUM: gdb prints combinations of its values as `(A | B)`
    parameters: list[int] = field(default_factory=list)    # FUNCTION
    variadic: bool = False       # FUNCTION: `...`
    prototyped: bool = True      # FUNCTION: `int (void)` rather than `int ()`
    incomplete: bool = False     # a declaration without a definition
    containing: int | None = None    # MEMBER_POINTER: the class
    template_parameters: list[tuple[str, int]] = field(default_factory=list)   # (T, int): ptype's [with T = int]
    language: str = "c"          # c, c++, rust, other: decides how names and values are spelled
    # a Rust enum (DW_TAG_variant_part): the member that tells which variant a value is, and
    # the variants
    discriminant: Member | None = None
    variants: list[Variant] = field(default_factory=list)

    def spelled(self) -> str | None:
        """The name as gdb writes the type: `struct node` in C (the tag's keyword is part of
        it), `node` in C++."""
        if self.name is None:
            return None
        if self.kind in TAGGED and self.language == "c":
            return f"{TAGGED[self.kind]} {self.name}"
        return self.name


TAGGED = {Kind.STRUCT: "struct", Kind.CLASS: "class", Kind.UNION: "union", Kind.ENUM: "enum"}


class TypeTable:
    """The types of a snapshot, by index, with lookups by name."""

    def __init__(self, types: list[Type] | None = None):
        self.types: list[Type] = types or []
        self._by_name: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.types)

    def __getitem__(self, index: int) -> Type:
        return self.types[index]

    def get(self, index: int | None) -> Type | None:
        if index is None or not 0 <= index < len(self.types):
            return None
        return self.types[index]

    def add(self, type_: Type) -> int:
        self.types.append(type_)
        self._by_name = None
        return len(self.types) - 1

    def find(self, name: str) -> int | None:
        """The index of the type spelled `name` (`int`, `struct node`, `node` in C++, a
        typedef), preferring a complete definition over a declaration."""
        if self._by_name is None:
            index: dict[str, int] = {}
            for number, type_ in enumerate(self.types):
                if type_.name is None or type_.const or type_.volatile:
                    continue
                for spelling in _spellings(type_):
                    known = index.get(spelling)
                    if known is None or (self.types[known].incomplete and not type_.incomplete):
                        index[spelling] = number
            self._by_name = index
        return self._by_name.get(name)

    def strip_typedefs(self, index: int | None) -> int | None:
        """Through typedefs to the type itself (qualifiers kept on the way are dropped)."""
        seen = 0
        while index is not None and seen < 64:
            type_ = self.get(index)
            if type_ is None or type_.kind != Kind.TYPEDEF:
                return index
            index = type_.target
            seen += 1
        return index


def _spellings(type_: Type) -> list[str]:
    """How an expression may name the type: C needs the keyword, C++ takes either."""
    name = type_.name or ""
    if type_.kind in TAGGED:
        keyword = TAGGED[type_.kind]
        if type_.language == "c":
            return [f"{keyword} {name}"]
        return [name, f"{keyword} {name}"] + (["struct " + name] if keyword == "class" else [])
    return [name]
