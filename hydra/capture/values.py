"""Turn drgn objects into the model's Variable trees, spelled the way gdb prints values.

Work is bounded: nesting depth, pointer hops, children per node and nodes per frame are
capped, and each object a value lives in is recorded so capture can keep its bytes.
"""

from __future__ import annotations

import bisect
import re
import struct

import drgn
from drgn import TypeKind

from hydra.capture.environment import BLANKED
from hydra.capture.fromtypes import UNKNOWN_TAG
from hydra.capture.literals import is_char, wide_prefix
from hydra.capture.printers import STRING_BYTES, library_value, shown_by_printer
from hydra.capture.programsymbols import ProgramSymbols
from hydra.model.crash import MAX_RAW_BYTES, OPTIMIZED_OUT, PRINT_ELEMENTS, UNREADABLE, Variable, only_bases
from hydra.model.gdbstyle import (MAX_VALUE_SIZE, c_string_literal, char_array_literal, char_literal, flags_text,
                                  float_text, is_flag_enum, wide_float_text, wide_text)
from hydra.capture.options import Limits
from hydra.model.record import field, record
from hydra.symbols.demangle import demangle

# a function's name the compiler defines, with no debug info: gdb shows the symbol as it is
IMPLICIT_STATICS = frozenset({"__PRETTY_FUNCTION__", "__FUNCTION__", "__func__"})


@record
class ValueReader:
    prog: drgn.Program
    symbols: ProgramSymbols          # the program's symbols by address
    limits: Limits = field(default_factory=Limits)
    architecture: str = "x86_64"     # the model's name (hydra.model.arch): how a long double is laid out
    # (address, size) ranges the decoded values live in: capture keeps their bytes
    ranges: list[tuple[int, int]] = field(default_factory=list)
    object_bytes: int = 0
    _nodes: int = 0
    _targets: dict = field(default_factory=dict)
    _labels: dict = field(default_factory=dict)
    _module_ranges: list | None = None
    # environment strings to blank wherever a value's text holds them (capture/environment.py)
    secrets: list[str] = field(default_factory=list)
    go: bool = False                 # the values are a Go function's: its strings print as gdb's Go does
    # top-level values holding what drgn could not build, to be read again (fromtypes.py)
    rereads: list = field(default_factory=list)
    _unbuildable: bool = False
    # (kind, size, spelled as a plain number) of each drgn type met, by its address in drgn:
    # drgn builds a new TypeKind on every ask, and most values are of a few types
    _facts: dict = field(default_factory=dict)
    _members: dict = field(default_factory=dict)     # (name, type if unnamed, offset) of a struct's members

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, BLANKED)
        return text

    def variable(self, name: str, obj: drgn.Object, kind: str) -> Variable:
        self._nodes = 0
        self._unbuildable = False
        var = self._convert(name, obj, kind, self.limits.nesting, self.limits.pointer_depth)
        if self._unbuildable:
            self.rereads.append(var)
        if var.address is None and var.note is None:
            # held in registers: its bytes let expressions use it (the snapshot has no memory for it)
            try:
                raw = obj.to_bytes_()
                var.raw = raw if len(raw) <= MAX_RAW_BYTES else None
            except Exception:
                pass
        return var

    def _convert(self, name: str, obj: drgn.Object, kind: str, nesting: int, hops: int) -> Variable:
        self._nodes += 1
        try:
            type_ = obj.type_
            type_name = type_.type_name()
            base = type_.unaliased()
            facts = self._facts.get(base._ptr)
            if facts is None:
                facts = self._facts[base._ptr] = _type_facts(base)
            type_kind, scalar_size, plain = facts
        except Exception as error:  # drgn raises several types for unsupported DWARF
            note = describe_error(error)
            self._unbuildable = self._unbuildable or UNKNOWN_TAG in note
            return Variable(name, "?", note, kind, note=note)
        if obj.absent_:
            return Variable(name, type_name, OPTIMIZED_OUT, kind, note=OPTIMIZED_OUT)
        address = obj.address_
        try:
            if plain:
                # the common case, kept short: most locals are plain numbers
                return Variable(name, type_name, str(obj.value_()), kind, address, scalar_size)
            if type_kind == TypeKind.FLOAT and scalar_size not in (4, 8):
                return Variable(name, type_name, self._wide_float(obj, base), kind, address=address,
                                size=scalar_size)
            if type_kind in _SCALARS:
                return Variable(name, type_name, _scalar_text(obj.value_(), base, type_kind), kind,
                                address=address, size=scalar_size)
            size = drgn.sizeof(obj)
        except drgn.FaultError:
            return Variable(name, type_name, UNREADABLE, kind, address=address, note=UNREADABLE)
        except Exception:
            size = None
        var = Variable(name=name, type=type_name, value="", kind=kind, address=address, size=size)
        try:
            self._fill(var, obj, base, type_kind, nesting, hops)
        except drgn.FaultError as error:
            var.value = var.note = UNREADABLE
            var.address = address if address is not None else getattr(error, "address", None)
        except Exception as error:  # unsupported DWARF constructs, bad data
            var.value = var.note = describe_error(error)
            self._unbuildable = self._unbuildable or UNKNOWN_TAG in var.note
        return var

    def _go_string(self, var: Variable, obj: drgn.Object) -> bool:
        """A Go string (a pointer and a length) as gdb's Go language prints it: "text"."""
        try:
            pointer, length = obj.member_("str").value_(), obj.member_("len").value_()
        except (LookupError, drgn.ObjectAbsentError):
            return False
        if not isinstance(pointer, int) or not isinstance(length, int) or length < 0:
            return False
        count = min(length, PRINT_ELEMENTS)
        text = self.prog.read(pointer, count).decode("latin-1") if count else ""
        self._remember(pointer, min(length, STRING_BYTES))
        var.value = self.clean(char_array_literal(text + ("\0" if length > count else ""))) + \
            ("..." if length > count else "")
        return True

    def _fill(self, var: Variable, obj: drgn.Object, base, kind, nesting: int, hops: int) -> None:
        if kind in (TypeKind.STRUCT, TypeKind.UNION, TypeKind.CLASS):
            self._record(obj)
            if not base.is_complete():
                var.value = "<incomplete type>"
                return
            if nesting <= 0 or self._nodes > self.limits.nodes_per_frame:
                var.value = "{...}"
                return
            if library_value(self, var, obj, base, nesting - 1, hops):
                return
            if self.go and base.tag == "string" and self._go_string(var, obj):
                return
            members = self._members.get(base._ptr)
            if members is None:     # drgn builds the members anew on every ask
                members = self._members[base._ptr] = [(m.name, _member_type(m) if m.name is None else None,
                                                       m.offset) for m in base.members]
            for member_name, member_type, offset in members[: self.limits.children]:
                if member_name is None:
                    try:
                        child_obj = drgn.Object(self.prog, member_type, address=obj.address_ + offset) \
                            if obj.address_ is not None else None
                    except Exception:
                        child_obj = None
                    if child_obj is None:
                        continue
                    child = self._convert(_unnamed_member_label(member_type), child_obj, "member",
                                          nesting - 1, hops)
                else:
                    child = self._convert(member_name, obj.member_(member_name), "member", nesting - 1, hops)
                var.children.append(child)
            var.omitted = max(0, len(members) - self.limits.children)
            var.value = self._summary(var, record=True)
        elif kind == TypeKind.ARRAY:
            self._record(obj)
            element = base.type.unaliased() if base.type is not None else None
            length = base.length or 0
            if element is not None and is_char(element):
                size = length * (element.size or 1)
                if size > MAX_VALUE_SIZE:
                    var.value = var.note = f"<error: value requires {size} bytes, which is more than max-value-size>"
                    return
                raw = obj.to_bytes_()
                var.value = self.clean(char_array_literal(raw))
                return
            prefix = wide_prefix(base.type) if element is not None else None
            if prefix is not None and length * (element.size or 1) <= MAX_VALUE_SIZE and obj.address_ is not None:
                text = wide_text(obj.value_())
                if text is not None:
                    var.value = self.clean(char_array_literal(text, prefix))
                    return
            if nesting <= 0 or self._nodes > self.limits.nodes_per_frame:
                var.value = "{...}"
                return
            shown = min(length, self.limits.children)
            element_kind = element.kind if element is not None else None
            if element_kind in _SCALARS and obj.address_ is not None:
                # arrays of numbers: one read for all elements
                values = obj.value_()
                element_name = base.type.type_name()
                step = element.size or 0
                start = obj.address_
                plain = element_kind == TypeKind.INT and not is_char(element)
                var.children.extend(
                    Variable(f"[{index}]", element_name,
                             str(values[index]) if plain else _scalar_text(values[index], element, element_kind),
                             "element", start + index * step, step)
                    for index in range(shown))
                self._nodes += shown
            else:
                for index in range(shown):
                    var.children.append(self._convert(f"[{index}]", obj[index], "element", nesting - 1, hops))
            var.omitted = length - shown
            var.value = self._summary(var)
        elif kind == TypeKind.POINTER:
            self._pointer(var, obj, base, nesting, hops)
        elif kind in _SCALARS:
            var.value = _scalar_text(obj.value_(), base, kind)
        elif kind == TypeKind.FUNCTION:
            var.value = f"{{{var.type}}} 0x{obj.address_ or 0:x}"
        else:
            var.value = obj.format_(dereference=False)[:200]

    def _c_string(self, var: Variable, address: int, size: int, prefix: str) -> None:
        """A char, wchar_t, char16_t or char32_t pointer: its characters up to the
        terminating zero, at most string_bytes of them."""
        limit = self.limits.string_bytes // size
        try:
            raw = self.prog.read(address, (limit + 1) * size)
        except drgn.FaultError:
            raw = self._read_short(address)
            if raw is None:
                var.value += " <error: Cannot access memory>"
                return
        count = len(raw) // size
        units = raw if size == 1 else struct.unpack(f"<{count}{'H' if size == 2 else 'I'}", raw[: count * size])
        end = units.index(0) if 0 in units else -1
        length = end if end >= 0 else count
        self._remember(address, min(length + 1, count) * size)
        text = raw[:length].decode("latin-1") if size == 1 else wide_text(units[:length])
        if text is not None:
            var.value += " " + self.clean(c_string_literal(text, min(length, limit), truncated=end < 0,
                                                           prefix=prefix))

    def _wide_float(self, obj: drgn.Object, base: drgn.Type) -> str:
        """A long double, which drgn cannot read (only 32 and 64-bit floats)."""
        if obj.address_ is None:
            return "<error: a long double held in registers is not decoded>"
        self._record(obj)
        text = wide_float_text(self.prog.read(obj.address_, base.size), self.architecture)
        return text if text is not None else f"<error: {base.size}-byte floats are not decoded here>"

    def _pointer(self, var: Variable, obj: drgn.Object, base: drgn.Type, nesting: int, hops: int) -> None:
        address = obj.value_()
        var.value = f"0x{address:x}"
        if address == 0:
            return
        var.value += self._symbol_label(address)
        # many frames point at the same object (a thread's argument, a shared lock):
        # decode it once and share the subtree
        key = (address, var.type, hops)
        target_var = self._targets.get(key)
        if target_var is not None:
            var.children.append(_reference(var.name, target_var))
            return
        target_type = base.type
        target = target_type.unaliased() if target_type is not None else None
        if target is None:
            return
        if target.kind == TypeKind.FUNCTION:
            return
        prefix = "" if is_char(target) else wide_prefix(target_type)
        if prefix is not None:
            self._c_string(var, address, target.size or 1, prefix)
            return
        if target.kind == TypeKind.VOID or hops <= 0 or not target.is_complete():
            return
        try:
            size = drgn.sizeof(target)
        except Exception:
            return
        if size > self.limits.target_bytes or self.object_bytes + size > self.limits.object_budget:
            var.omitted = 1
            return
        try:
            self.prog.read(address, min(size, 64))
        except drgn.FaultError:
            var.note = UNREADABLE
            return
        target_var = self._targets[key] = self._convert("*", obj[0], "target", nesting, hops - 1)
        var.children.append(_reference(var.name, target_var))

    def _symbol_label(self, address: int) -> str:
        """gdb's ` <name>` or ` <name+offset>` for a pointer into a function or a global."""
        label = self._labels.get(address)
        if label is None:
            label = ""
            # drgn takes a while to say that a heap or stack address has no symbol: only
            # addresses inside a module are asked about
            if self._in_module(address):
                try:
                    symbol = self.symbols.best(address)
                    offset = address - symbol.address
                    name = demangle(symbol.name)
                    if symbol.binding == drgn.SymbolBinding.LOCAL and symbol.kind == drgn.SymbolKind.OBJECT and \
                            _LOCAL_STATIC.sub("", name) not in IMPLICIT_STATICS:
                        # a function's static (`one.0` in the symbol table): gdb names it
                        # from the debug info, `one`
                        name = _LOCAL_STATIC.sub("", name)
                    label = f" <{name}{f'+{offset}' if offset else ''}>"
                except LookupError:
                    pass
            self._labels[address] = label
        return label

    def _in_module(self, address: int) -> bool:
        if self._module_ranges is None:
            ranges = []
            for module in self.prog.modules():
                try:
                    ranges.extend(module.address_ranges or ())
                except Exception:
                    continue
            self._module_ranges = sorted(ranges)
        position = bisect.bisect_right(self._module_ranges, (address, 1 << 64)) - 1
        return position >= 0 and self._module_ranges[position][0] <= address < self._module_ranges[position][1]

    def _read_short(self, address: int) -> bytes | None:
        """A string that runs into unreadable memory: read as far as memory goes, in steps
        that halve where a read fails (a mapping can end inside a page)."""
        out = b""
        limit = self.limits.string_bytes + 1
        step = 0x1000
        while len(out) < limit:
            cursor = address + len(out)
            size = min(step, limit - len(out), 0x1000 - (cursor & 0xFFF))
            try:
                out += self.prog.read(cursor, size)
            except drgn.FaultError:
                if size == 1:
                    break
                step = max(1, size // 2)
        return out or None

    def _record(self, obj: drgn.Object) -> None:
        if obj.address_ is not None:
            try:
                self._remember(obj.address_, drgn.sizeof(obj))
            except Exception:
                pass

    def _remember(self, address: int, size: int) -> None:
        if size > 0 and self.object_bytes + size <= self.limits.object_budget:
            self.ranges.append((address, size))
            self.object_bytes += size

    @staticmethod
    def _summary(var: Variable, record: bool = False) -> str:
        parts = []
        length = 2
        for child in var.children:
            text = child.value if child.kind == "element" else f"{child.name} = {child.value}"
            if length + len(text) > 100:
                # cut between elements, never inside a number or a name
                cut = text[: max(0, 100 - length)].rfind(", ") if not parts else -1
                parts.append(text[:cut] + ", ..." if cut > 0 else "...")
                break
            parts.append(text)
            length += len(text) + 2
        else:
            if var.omitted:
                parts.append("...")
            elif record and only_bases(var.children):
                parts.append("<No data fields>")    # gdb's words for a class without fields of its own
        return "{" + ", ".join(parts) + "}"


_LOCAL_STATIC = re.compile(r"\.\d+$")
_SCALARS = (TypeKind.INT, TypeKind.BOOL, TypeKind.FLOAT, TypeKind.ENUM)


def _member_type(member) -> drgn.Type | None:
    try:
        return member.type
    except Exception:       # hostile DWARF: a type drgn cannot build
        return None


def _unnamed_member_label(type_: drgn.Type) -> str:
    """gdb's `<Base>` for a base class (an unnamed member of a named class type, see
    cplusplus.py); `<anonymous>` for an anonymous struct or union."""
    try:
        tag = type_.unaliased().tag
    except Exception:
        tag = None
    return f"<{tag}>" if tag else "<anonymous>"


def as_reference(var: Variable, kind: str) -> None:
    """A C++ reference that drgn read as a pointer (see cplusplus.py), spelled as gdb spells
    references: `int &`, `@0x7ffe10: 57`."""
    if not var.value.startswith("0x"):
        return
    if var.type.endswith("*"):
        pointee = var.type[:-1].rstrip()
        var.type = pointee + kind if pointee.endswith(("*", "&")) else f"{pointee} {kind}"
    elif "*)" in var.type:
        # a reference to an array or a function: int (&)[3], void (&)(int)
        star = var.type.index("*)")
        var.type = var.type[:star] + kind + var.type[star + 1:]
    # else a typedef's name (IntRef, std::vector<int>::reference) says what it is
    address = var.value.split(" ", 1)[0]      # without a pointer's <symbol> or string
    if address == "0x0":
        var.value = var.note = "<error: Cannot access memory at address 0x0>"
        return
    target = var.children[0] if var.children and var.children[0].kind == "target" else None
    if target is not None and shown_by_printer(target):
        var.value = target.value
    else:
        var.value = f"@{address}: {target.value}" if target is not None else f"@{address}"


def _reference(pointer_name: str, target: Variable) -> Variable:
    """A pointer's target node, sharing the decoded subtree."""
    return Variable(f"*{pointer_name}", target.type, target.value, "target", target.address,
                    target.size, target.note, target.children, target.omitted)


def _type_facts(base: drgn.Type) -> tuple:
    """(kind, size of a scalar or None, whether its values spell as plain numbers) of an
    unaliased type."""
    kind = base.kind
    if kind not in _SCALARS:
        return kind, None, False
    try:
        size = base.size
    except Exception:       # an enum's size is its underlying type's, which drgn does not give here
        size = None
    return kind, size, kind == TypeKind.INT and not (size == 1 and "char" in (base.name or ""))


def _scalar_text(value, base: drgn.Type, kind) -> str:
    """gdb's spelling of a number, bool, character or enumerator."""
    if kind == TypeKind.INT:
        if base.size == 1 and "char" in (base.name or ""):
            return f"{value} {char_literal(value)}"
        return str(value)
    if kind == TypeKind.BOOL:
        return "true" if value else "false"
    if kind == TypeKind.FLOAT:
        return float_text(value, base.size or 8)
    enumerators = base.enumerators or ()
    for enumerator in enumerators:
        if enumerator.value == value:
            return enumerator.name
    if is_flag_enum([e.value for e in enumerators]):
        return flags_text(value, [(e.name, e.value) for e in enumerators])
    return str(value)


def describe_error(error: Exception) -> str:
    text = str(error)
    if "type tag 0x10" in text or "type tag 0x42" in text:
        return "<C++ reference: not decoded>"
    return f"<error: {text[:120]}>"
