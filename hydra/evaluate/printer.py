"""Values printed as gdb's `print` prints them: scalars in their C spelling, pointers with
`<symbol+offset>` and strings, structs and arrays in braces with gdb's limits (200
elements, runs of more than ten as `<repeats N times>`), and the formats /x /d /u /o /t /c
/a /s /z /f."""

from __future__ import annotations

from hydra.evaluate.errors import EvalError
from hydra.evaluate.typenames import tuple_like, type_name
from hydra.evaluate.values import Unavailable, Value, to_float, to_int, unqualified, value_bytes
from hydra.model.crash import OPTIMIZED_OUT, PRINT_ELEMENTS, REPEAT_THRESHOLD, UNAVAILABLE
from hydra.model.gdbstyle import (MAX_VALUE_SIZE, char_array_literal, char_literal, c_string_literal, eflags_text,
                                  flags_text, float_text, half_float_text, wide_float_text)
from hydra.model.types import Charset, Kind, Type

FORMATS = "xduotcasfzi"
TYPEDEF_CHARSETS = {"wchar_t": Charset.WIDE, "char16_t": Charset.UTF16, "char32_t": Charset.UTF32}


def charset_of(table, index) -> str:
    """How a type's values read as characters; in C, wchar_t is a typedef of int that gdb
    still prints as a wide character."""
    for _ in range(16):
        type_ = table.get(index)
        if type_ is None:
            return Charset.NONE
        if type_.kind == Kind.TYPEDEF:
            if type_.name in TYPEDEF_CHARSETS:
                return TYPEDEF_CHARSETS[type_.name]
            index = type_.target
            continue
        return type_.charset if type_.kind == Kind.INT else Charset.NONE
    return Charset.NONE
MAX_DEPTH = 12


RUST_SLICES = ("&[", "&mut [", "&str", "&mut str")     # fat pointers gdb prints as their elements


def rust_variant(session, value: Value, type_: Type):
    """The variant of a Rust enum's value: the one whose value the discriminant holds (as
    wide as the discriminant's type), else the one for every other value; None when no
    variant is that value's."""
    if type_.discriminant is None:
        return type_.variants[0] if len(type_.variants) == 1 else None
    # memory the snapshot did not keep (Unavailable: `<unavailable>`) and memory the
    # process had not mapped (EvalError: gdb's words) are the caller's to show
    number = to_int(session.member_value(value, type_, type_.discriminant), session.table, session.memory)
    width = 8 * min(unqualified(session.table, type_.discriminant.type).size or 8, 16)
    mask = (1 << width) - 1
    chosen = next((v for v in type_.variants if v.value is not None and v.value & mask == number & mask), None)
    return chosen or next((v for v in type_.variants if v.value is None), None)


class Printer:
    def __init__(self, session):
        self.session = session
        self.table = session.table
        self.memory = session.memory
        self.elements = 0          # elements printed in this value (gdb's limit is per value)

    # ------------------------------------------------------------ entry

    def top(self, value: Value, fmt: str | None = None) -> str:
        """`print`'s text for a value (what follows `$N = `)."""
        self.elements = 0
        if value.text is not None and value.data is None and value.address is None:
            return value.text
        if value.optimized_out:
            return OPTIMIZED_OUT
        type_ = unqualified(self.table, value.type)
        if value.missing and type_.kind not in Kind.COMPOUND:
            return OPTIMIZED_OUT
        if type_.kind in Kind.REFERENCES:
            try:
                target = self.session.dereference(value)
            except EvalError as error:
                return f"<error: {error.message}>"
            prefix = "" if fmt else f"({type_name(self.table, value.type)}) "
            return f"{prefix}@0x{target.address:x}: {self.value(target, fmt)}"
        if fmt in (None, "s") and type_.kind == Kind.POINTER:
            if not charset_of(self.table, type_.target):
                try:
                    text = self.value(value, fmt)
                except Unavailable:
                    return UNAVAILABLE
                return f"({type_name(self.table, value.type)}) {text}"
        if type_.kind == Kind.FUNCTION and fmt not in (None, "s"):
            raise EvalError("Value can't be converted to integer.")
        if type_.kind == Kind.FUNCTION:
            label = self.session.label(value.address) if value.address is not None else None
            return f"{{{type_name(self.table, value.type)}}} 0x{value.address or 0:x}" + (f" {label}" if label else "")
        return self.value(value, fmt)

    # ------------------------------------------------------------ any value

    def value(self, value: Value, fmt: str | None = None, depth: int = 0) -> str:
        if value.optimized_out:
            return OPTIMIZED_OUT
        if value.text is not None and value.data is None and value.address is None:
            return value.text
        if depth > MAX_DEPTH:
            return "{...}"
        type_ = unqualified(self.table, value.type)
        kind = type_.kind
        if value.missing and kind not in Kind.COMPOUND:
            return OPTIMIZED_OUT
        try:
            if kind in Kind.COMPOUND:
                return self.compound(value, type_, fmt, depth)
            if kind == Kind.ARRAY:
                return self.array(value, type_, fmt, depth)
            if kind in Kind.REFERENCES:
                target = self.session.dereference(value)
                return f"@0x{target.address:x}: {self.value(target, fmt, depth + 1)}"
            if kind == Kind.FUNCTION:
                label = self.session.label(value.address or 0)
                return f"{{{type_name(self.table, value.type)}}} 0x{value.address or 0:x}" + \
                    (f" {label}" if label else "")
            return self.scalar(value, type_, fmt)
        except Unavailable:
            return UNAVAILABLE

    # ------------------------------------------------------------ scalars

    def scalar(self, value: Value, type_: Type, fmt: str | None) -> str:
        if type_.kind == Kind.VOID:
            return "void"
        if fmt and fmt not in "sai" or (fmt == "a" and type_.kind != Kind.FLOAT):
            return self.formatted(value, type_, fmt)
        if type_.kind == Kind.FLOAT:
            data = value_bytes(value, self.table, self.memory)
            if type_.size == 2:
                return half_float_text(data, bfloat=type_.name == "bfloat16")
            if type_.size in (4, 8):
                return float_text(to_float(value, self.table, self.memory), type_.size)
            return wide_float_text(data, self.session.architecture) or str(to_float(value, self.table, self.memory))
        if type_.kind == Kind.POINTER:
            return self.pointer(value, type_)
        if type_.kind == Kind.MEMBER_POINTER:
            return self.member_pointer(value, type_)
        number = to_int(value, self.table, self.memory)
        if type_.name == "i386_eflags":
            return eflags_text(number)
        if type_.kind == Kind.BOOL:
            return {0: "false", 1: "true"}.get(number, str(number))
        if type_.kind == Kind.ENUM:
            return self.enumerator(type_, number)
        charset = charset_of(self.table, value.type)
        if charset:
            return f"{number} {self.character(number, charset)}"
        return str(number)

    def member_pointer(self, value: Value, type_: Type) -> str:
        """gdb's `&Class::member` for a pointer to a data member (its offset), and
        `(TYPE) 0x... <Class::method()>` for a pointer to a method."""
        data = value_bytes(value, self.table, self.memory)
        owner = self.table.get(self.table.strip_typedefs(type_.containing)) if type_.containing is not None else None
        target = self.table.get(type_.target)
        if target is not None and target.kind == Kind.FUNCTION:
            # the Itanium ABI's pair: the function's address (or 1 + its vtable offset) and
            # the adjustment of `this`
            pointer = int.from_bytes(data[:8], "little")
            adjustment = int.from_bytes(data[8:16], "little", signed=True) if len(data) >= 16 else 0
            if pointer == 0:
                return "NULL"
            if pointer & 1 and owner is not None:
                text = f"&virtual table offset {(pointer - 1) // 8}"
            else:
                label = self.session.label(pointer)
                text = f"({type_name(self.table, value.type)}) 0x{pointer:x}" + (f" {label}" if label else "")
            return text + (f", this adjustment {adjustment}" if adjustment else "")
        offset = int.from_bytes(data[:8], "little", signed=True)
        if offset == -1:
            return "NULL"
        if owner is not None:
            for member in owner.members:
                if member.offset == offset and member.name and not member.base and not member.static:
                    return f"&{owner.name}::{member.name}"
        return str(offset)

    @staticmethod
    def character(number: int, charset: str) -> str:
        prefix = {Charset.WIDE: "L", Charset.UTF16: "u", Charset.UTF32: "U"}.get(charset, "")
        return prefix + char_literal(number if not prefix else number & 0xFFFFFFFF)

    def enumerator(self, type_: Type, number: int) -> str:
        for name, value in type_.enumerators:
            if value == number:
                return self.enumerator_name(type_, name)
        if type_.flag_enum:
            return flags_text(number, [(self.enumerator_name(type_, n), v) for n, v in type_.enumerators])
        return str(number)

    @staticmethod
    def enumerator_name(type_: Type, name: str) -> str:
        if type_.language != "c++" or not type_.name:
            return name
        if type_.scoped:
            return f"{type_.name}::{name}"
        scope = type_.name.rsplit("::", 1)[0] if "::" in type_.name else ""
        return f"{scope}::{name}" if scope else name

    def pointer(self, value: Value, type_: Type) -> str:
        address = to_int(value, self.table, self.memory)
        text = f"0x{address:x}"
        charset = charset_of(self.table, type_.target)
        if charset and address:
            return f"{text} {self.string_at(address, unqualified(self.table, type_.target), charset)}"
        label = self.session.label(address) if address else None
        return f"{text} {label}" if label else text

    def string_at(self, address: int, char_type: Type, charset: str) -> str:
        """A C string at address, as gdb prints it after a char pointer: 200 characters at most."""
        width = char_type.size or 1
        units = []
        for index in range(PRINT_ELEMENTS + 1):
            try:
                raw = self.memory.read(address + index * width, width)
            except Unavailable:
                if not units:
                    return UNAVAILABLE
                break
            except EvalError as error:
                if not units:
                    return f"<error: {error.message}>"
                break
            unit = int.from_bytes(raw, "little")
            if unit == 0:
                break
            units.append(unit)
        truncated = len(units) > PRINT_ELEMENTS
        units = units[:PRINT_ELEMENTS]
        prefix = {Charset.WIDE: "L", Charset.UTF16: "u", Charset.UTF32: "U"}.get(charset, "")
        try:
            text = "".join(map(chr, units))
        except ValueError:
            text = "".join(chr(u & 0xFF) for u in units)
        return c_string_literal(text, len(text), truncated, prefix)

    def formatted(self, value: Value, type_: Type, fmt: str) -> str:
        if fmt == "f":
            if type_.kind == Kind.FLOAT:
                return self.scalar(value, type_, None)
            return str(to_int(value, self.table, self.memory))
        if type_.kind == Kind.FLOAT and fmt in "xzot":
            # gdb shows a floating-point value's bits for these formats
            number = int.from_bytes(value_bytes(value, self.table, self.memory)[:type_.size or 8], "little")
        else:
            number = to_int(value, self.table, self.memory)
        size = type_.size or 8
        if value.bit_size:
            size = (value.bit_size + 7) // 8
        unsigned = number & ((1 << (8 * size)) - 1)
        if fmt == "x":
            return f"0x{unsigned:x}"
        if fmt == "z":
            return f"0x{unsigned:0{2 * size}x}"
        if fmt == "o":
            return f"0{unsigned:o}" if unsigned else "0"
        if fmt == "t":
            return f"{unsigned:b}"
        if fmt == "d":
            signed = unsigned - (1 << (8 * size)) if unsigned >> (8 * size - 1) else unsigned
            return str(signed)
        if fmt == "u":
            return str(unsigned)
        if fmt == "c":
            code = unsigned & 0xFF
            signed_char = code - 256 if code > 127 else code
            return f"{signed_char} {char_literal(code)}"
        if fmt == "a":
            label = self.session.label(unsigned)
            return f"0x{unsigned:x}" + (f" {label}" if label else "")
        return str(number)

    @staticmethod
    def _pointee_of(table, type_: Type) -> Type | None:
        if type_.target is None:
            return None
        return unqualified(table, type_.target)

    def _pointee(self, type_: Type) -> Type | None:
        try:
            return self._pointee_of(self.table, type_)
        except EvalError:
            return None

    # ------------------------------------------------------------ aggregates

    def array(self, value: Value, type_: Type, fmt: str | None, depth: int) -> str:
        element_index = type_.target
        element = unqualified(self.table, element_index)
        length = type_.length or 0
        charset = charset_of(self.table, element_index)
        if charset and fmt in (None, "s"):
            width = element.size or 1
            data = value_bytes(value, self.table, self.memory)
            if width == 1:
                return char_array_literal(data[:length])
            units = [int.from_bytes(data[i:i + width], "little") for i in range(0, length * width, width)]
            try:
                text = "".join(map(chr, units))
            except ValueError:
                text = "".join(chr(u & 0xFF) for u in units)
            prefix = {Charset.WIDE: "L", Charset.UTF16: "u", Charset.UTF32: "U"}.get(charset, "")
            return char_array_literal(text, prefix)
        size = element.size or 0
        parts: list[str] = []
        index = 0
        while index < length:
            if self.elements >= PRINT_ELEMENTS:
                parts.append("...")
                break
            item = self.element(value, element_index, index, size)
            raw = self._raw(item)
            run = 1 if size else length - index      # elements of no size are all alike
            while index + run < length and raw is not None and \
                    self._raw(self.element(value, element_index, index + run, size)) == raw:
                run += 1
            text = self.value(item, fmt, depth + 1)
            if run > REPEAT_THRESHOLD:
                parts.append(f"{text} <repeats {run} times>")
                self.elements += REPEAT_THRESHOLD
                index += run
            else:
                parts.append(text)
                self.elements += 1
                index += 1
        body = ", ".join(parts)
        return "{" + body.replace(", ...", "...") + "}"

    def element(self, value: Value, element_index: int, index: int, size: int) -> Value:
        if value.data is not None and len(value.data) >= (index + 1) * size:
            return Value(element_index, None if value.address is None else value.address + index * size,
                         value.data[index * size:(index + 1) * size])
        if value.address is None:
            raise Unavailable(None)
        return Value(element_index, value.address + index * size)

    def _raw(self, value: Value) -> bytes | None:
        try:
            return value_bytes(value, self.table, self.memory)
        except EvalError:
            return None

    def compound(self, value: Value, type_: Type, fmt: str | None, depth: int) -> str:
        if type_.incomplete:
            return "<incomplete type>"
        if type_.language == "rust" and type_.kind == Kind.STRUCT and type_.name:
            return self.rust_struct(value, type_, fmt, depth)
        parts = []
        for member in type_.members:
            if member.static:
                shown = self.static_member(type_, member, fmt, depth)
                parts.append(f"static {member.name} = {shown}")
                continue
            text = self.member_text(value, type_, member, fmt, depth)
            if member.base:
                parts.append(f"<{type_name(self.table, member.type)}> = {text}")
            elif member.name is None:
                parts.append(text)
            else:
                parts.append(f"{member.name} = {text}")
        if not parts or all(part.startswith("<") and "> = " in part for part in parts) and \
                not any(not m.base for m in type_.members):
            parts.append("<No data fields>")
        return "{" + ", ".join(parts) + "}"

    def member_text(self, value: Value, type_: Type, member, fmt: str | None, depth: int) -> str:
        try:
            child = self.session.member_value(value, type_, member)
        except Unavailable:
            return UNAVAILABLE
        except EvalError as error:
            return f"<error: {error.message}>"
        return self.value(child, fmt, depth + 1)

    def rust_struct(self, value: Value, type_: Type, fmt: str | None, depth: int) -> str:
        """gdb's Rust spelling: `Name {a: 1, b: 2}`, a tuple struct `Name (1, 2)`, a struct
        without fields `Name`; a slice `&[u32] [1, 2]` and a `&str` as its text."""
        if type_.name.startswith(RUST_SLICES):
            shown = self.rust_slice(value, type_, fmt, depth)
            if shown is not None:
                return shown
        if type_.variants:
            return self.rust_enum(value, type_, fmt, depth)
        fields = [member for member in type_.members if not member.static]
        texts = [self.member_text(value, type_, member, fmt, depth) for member in fields]
        if not fields:
            return type_.name
        if tuple_like(fields):
            return f"{type_.name} ({', '.join(texts)})"
        return f"{type_.name} {{{', '.join(f'{member.name}: {text}' for member, text in zip(fields, texts))}}}"

    def rust_enum(self, value: Value, type_: Type, fmt: str | None, depth: int) -> str:
        """The variant the discriminant names, as gdb writes it: `Option<u32>::Some(1)`,
        `Shape::Rect{w: 3, h: 4}`, `Option<u32>::None`."""
        try:
            variant = rust_variant(self.session, value, type_)
        except Unavailable:
            raise
        except EvalError as error:
            return f"<error: {error.message}>"
        if variant is None:
            return f"{type_.name}::<unknown variant>"
        name = f"{type_.name}::{variant.member.name}"
        try:
            inner = self.session.member_value(value, type_, variant.member)
        except Unavailable:
            return f"{name}({UNAVAILABLE})"
        inner_type = unqualified(self.table, variant.member.type)
        fields = [member for member in inner_type.members if not member.static]
        if not fields:
            return name
        texts = [self.member_text(inner, inner_type, member, fmt, depth) for member in fields]
        if tuple_like(fields):
            return f"{name}({', '.join(texts)})"
        return f"{name}{{{', '.join(f'{member.name}: {text}' for member, text in zip(fields, texts))}}}"

    def rust_slice(self, value: Value, type_: Type, fmt: str | None, depth: int) -> str | None:
        """A slice's elements (or a `&str`'s text), where its data pointer leads; None when
        it is not the {data_ptr, length} pair rustc describes."""
        members = {member.name: member for member in type_.members if not member.static}
        if set(members) != {"data_ptr", "length"}:
            return None
        pointer_type = unqualified(self.table, members["data_ptr"].type)
        if pointer_type.kind != Kind.POINTER or pointer_type.target is None:
            return None
        try:
            address = to_int(self.session.member_value(value, type_, members["data_ptr"]), self.table, self.memory)
            length = to_int(self.session.member_value(value, type_, members["length"]), self.table, self.memory)
        except (EvalError, Unavailable):
            return None
        if length < 0:
            return None
        size = (unqualified(self.table, pointer_type.target).size or 0) * length
        if size > MAX_VALUE_SIZE and not type_.name.endswith("str"):
            return f"{type_.name} <error reading variable: value requires {size} bytes, which is more than " \
                   f"max-value-size>"                        # as gdb refuses it
        try:
            if type_.name.endswith("str"):
                shown = min(length, PRINT_ELEMENTS)
                data = self.memory.read(address, shown) if shown else b""
                return char_array_literal(data.decode("latin-1")) + ("..." if length > shown else "")
            if size:
                self.memory.read(address, size)              # at once: the elements are read one by one
            array = self.session.array_of(pointer_type.target, length)
            elements = self.array(Value(array, address), unqualified(self.table, array), fmt, depth + 1)
        except Unavailable:
            raise
        except EvalError as error:
            return f"<error: {error.message}>"
        return f"{type_.name} [{elements[1:-1]}]"

    def static_member(self, type_: Type, member, fmt: str | None, depth: int) -> str:
        symbol = self.session.symbols.named(f"{type_.name}::{member.name}") if type_.name else None
        if symbol is None:
            return OPTIMIZED_OUT
        try:
            return self.value(Value(member.type, symbol.address), fmt, depth + 1)
        except EvalError as error:
            return f"<error: {error.message}>"
