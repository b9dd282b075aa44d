"""Asking a snapshot questions, as gdb's `print`, `ptype`, `whatis` and `x` answer them,
from its type table, symbols and memory alone (no binaries, no core).

A Session holds the selected thread and frame, the value history ($1, $2, ...) and a copy
of the type table to which the types expressions make (`int *` of `&x`) are added.
"""

from __future__ import annotations

import struct

from hydra.evaluate.errors import EvalError, cannot_access, no_symbol
from hydra.evaluate.parser import TypeSpec, parse, parse_type
from hydra.evaluate.printer import FORMATS, Printer
from hydra.evaluate.typenames import ptype as ptype_text, type_name, whatis as whatis_text
from hydra.evaluate.values import (MAX_VALUE_SIZE, Memory, Unavailable, Value, from_float, from_int, resolved_index,
                                   to_float, to_int, unqualified, value_bytes)
from hydra.model.crash import MAX_RAW_BYTES
from hydra.model.symbols import FUNCTION, KEPT_NOWHERE
from hydra.model.types import Charset, Kind, Member, Type, TypeTable

ARITHMETIC = (Kind.INT, Kind.BOOL, Kind.ENUM, Kind.FLOAT)
SIZES = {"char": 1, "short": 2, "int": 4, "long": 8, "long long": 8, "float": 4, "double": 8, "long double": 16,
         "bool": 1, "_Bool": 1, "wchar_t": 4, "char16_t": 2, "char32_t": 4, "char8_t": 1}
RANK = {1: 1, 2: 2, 4: 3, 8: 4, 16: 5}
REGISTER_ALIASES = {"x86_64": {"pc": "rip", "sp": "rsp", "fp": "rbp", "ps": "rflags", "eflags": "rflags"},
                    "aarch64": {"pc": "pc", "sp": "sp", "fp": "x29"}}
MAX_REPETITIONS = 1 << 16


class Session:
    def __init__(self, crash, thread=None, frame=None):
        self.crash = crash
        self.table = TypeTable(list(crash.types.types))
        self.memory = Memory(crash)
        self.symbols = crash.symbols
        self.architecture = crash.process.architecture or "x86_64"
        self.history: list[Value] = []
        self.thread = thread or crash.crashed_thread
        self.frame = frame if frame is not None else (self.thread.frames[0] if self.thread and self.thread.frames
                                                     else None)
        self.last_examined: int | None = None
        self._base: dict[str, int] = {}

    # ------------------------------------------------------------ commands

    def select(self, thread=None, frame=None) -> None:
        if thread is not None:
            self.thread = thread
            self.frame = thread.frames[0] if thread.frames else None
        if frame is not None:
            self.frame = frame

    def evaluate(self, text: str) -> Value:
        return self.eval(parse(text, self.is_type))

    def print(self, text: str, fmt: str | None = None) -> str:
        """`$N = VALUE`, as gdb prints it; the value joins the history."""
        if fmt and fmt not in FORMATS:
            raise EvalError(f"Undefined output format \"{fmt}\".")
        value = self.evaluate(text) if text.strip() else self._history_value("$")
        shown = Printer(self).top(value, fmt)
        self.history.append(value)
        return f"${len(self.history)} = {shown}"

    def ptype(self, text: str) -> str:
        return ptype_text(self.table, self._type_of(text))

    def whatis(self, text: str) -> str:
        spec = parse_type(text, self.is_type)
        if spec is not None:
            index = self.resolve_type(spec)
            type_ = self.table.get(index)
            if type_ is not None and type_.kind == Kind.TYPEDEF and not spec.declarator:
                return whatis_text(self.table, type_.target)          # one level of typedef
            return whatis_text(self.table, index)
        return whatis_text(self.table, self.evaluate(text).type)

    def _type_of(self, text: str) -> int:
        spec = parse_type(text, self.is_type)
        if spec is not None:
            return self.resolve_type(spec)
        return self.evaluate(text).type

    def format_value(self, value: Value, fmt: str | None = None) -> str:
        return Printer(self).top(value, fmt)

    def label(self, address: int, linkage: bool = False) -> str | None:
        return self.symbols.label(address, linkage) if address else None

    # ------------------------------------------------------------ names

    def is_type(self, name: str) -> bool:
        if name.endswith("<"):
            return any(t.name and t.name.startswith(name) for t in self.table.types)
        if self._frame_variable(name) is not None:
            return False
        return self.table.find(name) is not None or name in SIZES or self._builtin(name) is not None

    def _frame_variable(self, name: str):
        if self.frame is None:
            return None
        for variable in self.frame.locals + self.frame.args:
            if variable.name == name:
                return variable
        return None

    def name(self, name: str) -> Value:
        variable = self._frame_variable(name)
        if variable is not None:
            return self._variable_value(variable)
        this = self._frame_variable("this") if "::" not in name else None
        if this is not None and this.type_id is not None:
            # in a method, a member's name is `this->member`, before any global of that name
            try:
                target = self.dereference(self._variable_value(this))
                found = self.find_member(target, unqualified(self.table, target.type), name, 0)
            except EvalError:
                found = None
            if found is not None:
                return found
        symbol = self._global(name)
        if symbol is not None:
            if symbol.constant is not None and symbol.type_id is not None:
                if symbol.constant == KEPT_NOWHERE:
                    return Value(symbol.type_id, optimized_out=True)
                return Value(symbol.type_id, data=symbol.constant)
            if symbol.type_id is None:
                if symbol.kind == FUNCTION:
                    return Value(self._text_symbol_type(), symbol.address)
                raise EvalError(f"'{name}' has unknown type; cast it to its declared type")
            return Value(symbol.type_id, symbol.address)
        enumerator = self._enumerator(name)
        if enumerator is not None:
            return enumerator
        raise no_symbol(name)

    def _global(self, name: str):
        """A global by name as C++ looks it up from the selected frame: a static of the
        function, then the function's class and namespaces, innermost first, then as is."""
        function = self.frame.function if self.frame is not None and self.frame.function else ""
        candidates = [f"{function}::{name}"] if function else []
        scopes = _scope_parts(function)[:-1]
        while scopes:
            candidates.append("::".join(scopes + [name]))
            scopes.pop()
        for candidate in candidates + [name]:
            symbol = self.symbols.named(candidate)
            if symbol is not None:
                return symbol
        return None

    def _variable_value(self, variable) -> Value:
        if variable.note and variable.note.startswith("<optimized out"):
            return Value(variable.type_id if variable.type_id is not None else self.base("int"), optimized_out=True)
        if variable.type_id is None:
            return Value(self.base("int"), text=variable.value)
        if variable.address is not None:
            return Value(variable.type_id, variable.address)
        if variable.raw is not None:
            data, missing = variable.raw, tuple(variable.missing)
            size = unqualified(self.table, variable.type_id).size or 0
            if len(data) < size <= MAX_RAW_BYTES:     # pieces that end early (held_bytes): the rest is nowhere
                data, missing = data + bytes(size - len(data)), missing + ((len(data), size),)
            return Value(variable.type_id, data=data, missing=missing)
        return Value(variable.type_id, text=variable.value)

    def _enumerator(self, name: str) -> Value | None:
        short = name.rsplit("::", 1)[-1]
        for index, type_ in enumerate(self.table.types):
            if type_.kind == Kind.ENUM:
                for enumerator, number in type_.enumerators:
                    if enumerator == short and (name == short or Printer.enumerator_name(type_, enumerator) == name):
                        return from_int(number, index, self.table)
        return None

    def _text_symbol_type(self) -> int:
        """gdb's type for a function without debug info: `<text variable, no debug info>`."""
        return self._synthesized(("text-symbol",), Type(Kind.FUNCTION, "<text variable, no debug info>",
                                                         target=self.base("int"), prototyped=False))

    # ------------------------------------------------------------ types

    def _synthesized(self, key: tuple, type_: Type) -> int:
        if key not in self._base:
            self._base[key] = self.table.add(type_)
        return self._base[key]

    def _builtin(self, name: str) -> Type | None:
        words = name.split()
        unsigned = "unsigned" in words
        words = [w for w in words if w not in ("signed", "unsigned", "int")] or ["int"]
        if words == ["long", "long"]:
            words = ["long long"]
        if words in (["short"], ["long"], ["long long"]) or name in ("int", "unsigned", "signed") or \
                (words == ["int"]):
            base = words[0] if words != ["int"] else "int"
        else:
            base = " ".join(words)
        if base not in SIZES and base != "void":
            return None
        if base == "void":
            return Type(Kind.VOID, "void")
        size = SIZES[base]
        if base in ("float", "double", "long double"):
            return Type(Kind.FLOAT, base, size)
        if base in ("bool", "_Bool"):
            return Type(Kind.BOOL, base, 1, signed=False)
        spelled = {"int": "int", "short": "short", "long": "long", "long long": "long long", "char": "char"}.get(base)
        if spelled is not None:
            text = ("unsigned " if unsigned else "") + spelled
            if "signed" in name.split() and base == "char":
                text = "signed char"
            charset = Charset.CHAR if base == "char" else Charset.NONE
            return Type(Kind.INT, text, size, signed=not unsigned, charset=charset)
        charset = {"wchar_t": Charset.WIDE, "char16_t": Charset.UTF16, "char32_t": Charset.UTF32,
                   "char8_t": Charset.CHAR}[base]
        return Type(Kind.INT, base, size, signed=base == "wchar_t", charset=charset)

    def base(self, name: str) -> int:
        """A base type by name: the table's own when it has it, else made."""
        found = self.table.find(name)
        if found is not None and self.table[found].kind in (Kind.INT, Kind.FLOAT, Kind.BOOL, Kind.VOID):
            return found
        made = self._builtin(name)
        if made is None:
            raise EvalError(f'No symbol "{name}" in current context.')
        return self._synthesized(("base", made.name), made)

    def pointer_to(self, target: int, kind: str = Kind.POINTER) -> int:
        for index, type_ in enumerate(self.table.types):
            if type_.kind == kind and type_.target == target and type_.name is None and not type_.const:
                return index
        return self._synthesized((kind, target), Type(kind, size=8, target=target))

    def array_of(self, target: int, length: int) -> int:
        element = unqualified(self.table, target)
        size = (element.size or 0) * length
        return self._synthesized(("array", target, length), Type(Kind.ARRAY, size=size, target=target, length=length))

    def resolve_type(self, spec: TypeSpec) -> int:
        index = self.table.find(spec.base)
        if index is None:
            index = self.base(spec.base) if self._builtin(spec.base) is not None else None
        if index is None:
            keyword = spec.base.split(" ", 1)
            if keyword[0] in ("struct", "union", "enum", "class") and len(keyword) == 2:
                index = self.table.find(keyword[1])
                if index is None:
                    raise EvalError(f"No {keyword[0]} type named {keyword[1]}.")
            else:
                raise no_symbol(spec.base)
        if spec.const:
            index = self._qualified(index, True)
        for item in spec.declarator:
            if item == "*":
                index = self.pointer_to(index)
            elif item in ("&", "&&"):
                index = self.pointer_to(index, Kind.REFERENCE if item == "&" else Kind.RVALUE_REFERENCE)
            elif item == "const":
                index = self._qualified(index, True)
            elif item[0] == "[]":
                index = self.array_of(index, item[1] or 0)
            elif item[0] == "()":
                parameters = [self.resolve_type(p) for p in item[1]]
                function = Type(Kind.FUNCTION, target=None if self.table[index].kind == Kind.VOID else index,
                                parameters=parameters, variadic=item[2], prototyped=True)
                index = self._synthesized(("function", index, tuple(parameters), item[2]), function)
        return index

    def _qualified(self, index: int, const: bool) -> int:
        type_ = self.table[index]
        if type_.const == const:
            return index
        return self._synthesized(("const", index), Type(**{**type_.__dict__, "const": const}))

    # ------------------------------------------------------------ evaluation

    def eval(self, node) -> Value:
        kind = node[0]
        handler = getattr(self, f"_eval_{kind}")
        return handler(node)

    def _eval_number(self, node) -> Value:
        _kind, number, suffix = node
        if suffix == "nullptr":
            return from_int(0, self.pointer_to(self.base("void")), self.table)
        unsigned = "u" in suffix
        longs = suffix.count("l")
        if longs == 0 and number < 1 << 31 and not unsigned:
            name = "int"
        elif longs == 0 and number < 1 << 32 and (unsigned or number >= 1 << 31) and \
                (unsigned or number >= 1 << 31) and number < 1 << 32 and (unsigned or not self._decimal_literal(node)):
            name = "unsigned int"
        elif number < 1 << 63 and not unsigned:
            name = "long"
        else:
            name = "unsigned long"
        return from_int(number, self.base(name), self.table)

    @staticmethod
    def _decimal_literal(node) -> bool:
        return True     # C: a decimal constant that does not fit int is long (it is never unsigned int)

    def _eval_float(self, node) -> Value:
        text = node[1]
        suffix = text[-1].lower() if text[-1] in "fFlL" else ""
        number = float(text.rstrip("fFlL"))
        return from_float(number, self.base({"f": "float", "l": "long double"}.get(suffix, "double")), self.table)

    def _eval_char(self, node) -> Value:
        _kind, code, prefix = node
        name = {"L": "wchar_t", "u": "char16_t", "U": "char32_t", "u8": "char8_t"}.get(prefix, "char")
        return from_int(code, self.base(name), self.table)

    def _eval_string(self, node) -> Value:
        _kind, text, prefix = node
        element = self.base({"L": "wchar_t", "u": "char16_t", "U": "char32_t"}.get(prefix, "char"))
        width = self.table[element].size or 1
        data = b"".join((ord(c) & ((1 << (8 * width)) - 1)).to_bytes(width, "little") for c in text) + bytes(width)
        return Value(self.array_of(element, len(text) + 1), data=data)

    def _eval_bool(self, node) -> Value:
        return from_int(1 if node[1] else 0, self.base("bool"), self.table)

    def _eval_name(self, node) -> Value:
        return self.name(node[1])

    def _eval_dollar(self, node) -> Value:
        text = node[1]
        if text == "$" or text.startswith("$$") or text[1:].isdigit():
            return self._history_value(text)
        name = text[1:]
        if name == "_siginfo":
            from hydra.evaluate.siginfo import siginfo_value

            return siginfo_value(self)
        if name == "_":
            if self.last_examined is None:
                return Value(self.base("void"))
            return from_int(self.last_examined, self.pointer_to(self.base("void")), self.table)
        return self.register(name)

    def _vector_type(self) -> int:
        """gdb's `union vec128` for a 128-bit vector register: its lanes as every element type."""
        key = ("vec128",)
        if key in self._base:
            return self._base[key]
        add = self.table.add

        def lanes(name: str, element: Type, count: int, vector_name: str) -> int:
            element_index = add(element)
            return add(Type(Kind.TYPEDEF, vector_name, 16, add(Type(Kind.ARRAY, None, 16, element_index, length=count))))

        members = [
            ("v8_bfloat16", lanes("bfloat16", Type(Kind.FLOAT, "bfloat16", 2), 8, "v8bf16")),
            ("v8_half", lanes("half", Type(Kind.FLOAT, "_Float16", 2), 8, "v8h")),
            ("v4_float", lanes("float", Type(Kind.FLOAT, "float", 4), 4, "v4f")),
            ("v2_double", lanes("double", Type(Kind.FLOAT, "double", 8), 2, "v2d")),
            ("v16_int8", lanes("int8", Type(Kind.INT, "int8_t", 1), 16, "v16i8")),
            ("v8_int16", lanes("int16", Type(Kind.INT, "int16_t", 2), 8, "v8i16")),
            ("v4_int32", lanes("int32", Type(Kind.INT, "int32_t", 4), 4, "v4i32")),
            ("v2_int64", lanes("int64", Type(Kind.INT, "int64_t", 8), 2, "v2i64")),
            ("uint128", add(Type(Kind.INT, "uint128_t", 16, signed=False))),
        ]
        union = add(Type(Kind.UNION, "vec128", 16, members=[Member(name, index, 0) for name, index in members]))
        self._base[key] = union
        return union

    def _history_value(self, text: str) -> Value:
        if not self.history:
            if text in ("$", "$$"):
                return Value(self.base("void"))
            raise EvalError(f"History has not yet reached {text}.")
        if text == "$":
            return self.history[-1]
        if text.startswith("$$"):
            back = int(text[2:] or 1)
            if back >= len(self.history):
                raise EvalError(f"History has not yet reached ${len(self.history) - back}.")
            return self.history[-1 - back]
        number = int(text[1:])
        if number == 0 or number > len(self.history):
            raise EvalError(f"History has not yet reached ${number}.")
        return self.history[number - 1]

    def register(self, name: str) -> Value:
        frame = self.frame
        registers = dict(self.thread.registers) if self.thread is not None else {}
        if frame is not None and frame.registers:
            registers = frame.registers if frame.index else {**registers, **frame.registers}
        aliases = REGISTER_ALIASES.get(self.architecture, {})
        actual = aliases.get(name, name)
        if name == "pc" and frame is not None:
            prototyped = self.language() == "c++"
            function = self._synthesized(("code-pointer", prototyped), Type(Kind.POINTER, size=8, target=self._synthesized(
                ("void-function", prototyped), Type(Kind.FUNCTION, target=None, prototyped=prototyped))))
            return from_int(frame.pc, function, self.table)
        if name in ("sp", "fp") and actual in registers:
            return from_int(registers[actual], self.pointer_to(self.base("void")), self.table)
        if actual not in registers:
            if name.startswith("_") or name in ("bpt", "exitcode"):
                return Value(self.base("void"))
            if frame is not None and frame.index and actual in (self.thread.registers if self.thread else {}):
                return Value(self.base("long"), optimized_out=True)      # not recovered for a caller frame
            return Value(self.base("void"))            # gdb: an unset convenience variable is void
        number = registers[actual]
        if actual.startswith("xmm") or (self.architecture == "aarch64" and actual[:1] == "v" and actual[1:].isdigit()):
            return from_int(number, self._vector_type(), self.table)
        if actual in ("rflags", "eflags"):
            return from_int(number, self._synthesized(("eflags",), Type(Kind.INT, "i386_eflags", 4, signed=False)),
                            self.table)
        if actual == "rip":
            return self.register("pc")
        if actual in ("rsp", "rbp"):
            return from_int(number, self.pointer_to(self.base("void")), self.table)
        return from_int(number, self._synthesized(("int64",), Type(Kind.INT, "long", 8)), self.table)

    # ------------------------------------------------------------ operators

    def _eval_unary(self, node) -> Value:
        _kind, operator, operand = node
        if operator == "&":
            value = self.eval(operand)
            if operand[0] == "name" and value.address is None and \
                    unqualified(self.table, value.type).kind not in Kind.REFERENCES:
                raise EvalError(f"Can't take address of \"{operand[1]}\" which isn't an lvalue.")
            return self.address_of(value)
        value = self.eval(operand)
        if operator == "*":
            return self.dereference(value)
        type_ = unqualified(self.table, value.type)
        if operator == "!":
            if type_.kind not in ARITHMETIC and type_.kind != Kind.POINTER:
                raise EvalError("Argument to logical not not a number or boolean.")
            truth = to_float(value, self.table, self.memory) if type_.kind == Kind.FLOAT else \
                to_int(value, self.table, self.memory)
            return self.truth(not truth)
        if type_.kind not in ARITHMETIC:
            raise EvalError(f"Argument to {'negate' if operator == '-' else 'complement' if operator == '~' else 'positive'}"
                            f" operation not a number.")
        if type_.kind == Kind.FLOAT:
            if operator == "~":
                raise EvalError("Argument to complement operation not an integer, boolean.")
            number = to_float(value, self.table, self.memory)
            return from_float(-number if operator == "-" else number, value.type, self.table)
        promoted = self.promote(value.type)
        number = to_int(value, self.table, self.memory)
        result = -number if operator == "-" else ~number if operator == "~" else number
        return from_int(result, promoted, self.table)

    def truth(self, flag: bool) -> Value:
        return from_int(1 if flag else 0, self.base("bool" if self.language() == "c++" else "int"), self.table)

    def language(self) -> str:
        if self.frame is not None:
            for variable in self.frame.args + self.frame.locals:
                type_ = self.table.get(variable.type_id)
                if type_ is not None:
                    return type_.language
            function = self.symbols.named(self.frame.function or "") if self.frame.function else None
            type_ = self.table.get(function.type_id) if function is not None else None
            if type_ is not None:
                return type_.language
        return "c"

    def promote(self, index: int) -> int:
        """C's integer promotions: what is smaller than int becomes int."""
        type_ = unqualified(self.table, index)
        if type_.kind == Kind.FLOAT:
            return resolved_index(self.table, index)
        size = type_.size or 4
        if type_.kind in (Kind.BOOL, Kind.ENUM) and size <= 4:
            return self.base("int") if type_.kind == Kind.BOOL or type_.signed or size < 4 else \
                self.base("unsigned int")
        if size < 4:
            return self.base("int")
        if type_.kind == Kind.ENUM:
            return self.base("long" if type_.signed else "unsigned long")
        return resolved_index(self.table, index)

    def common(self, left: int, right: int) -> int:
        """The usual arithmetic conversions."""
        a, b = unqualified(self.table, left), unqualified(self.table, right)
        if a.kind == Kind.FLOAT or b.kind == Kind.FLOAT:
            sizes = [t.size or 8 for t in (a, b) if t.kind == Kind.FLOAT]
            return self.base({4: "float", 8: "double"}.get(max(sizes), "long double"))
        left, right = self.promote(left), self.promote(right)
        a, b = unqualified(self.table, left), unqualified(self.table, right)
        if (a.size or 4) != (b.size or 4):
            wider = left if (a.size or 4) > (b.size or 4) else right
            narrower = b if wider == left else a
            wide = a if wider == left else b
            if wide.signed and not narrower.signed and (wide.size or 4) <= (narrower.size or 4):
                return self.base("unsigned long")
            return wider
        if not a.signed:
            return left
        if not b.signed:
            return right
        return left

    def _eval_binary(self, node) -> Value:
        _kind, operator, left_node, right_node = node
        if operator in ("&&", "||"):
            left = self.eval(left_node)
            truth = self._truth(left)
            if operator == "&&" and not truth:
                return self.truth(False)
            if operator == "||" and truth:
                return self.truth(True)
            return self.truth(self._truth(self.eval(right_node)))
        left, right = self.eval(left_node), self.eval(right_node)
        return self.binary(operator, left, right)

    def _truth(self, value: Value) -> bool:
        type_ = unqualified(self.table, value.type)
        if type_.kind == Kind.FLOAT:
            return to_float(value, self.table, self.memory) != 0
        if type_.kind in Kind.COMPOUND or type_.kind == Kind.ARRAY:
            raise EvalError("Argument to logical not not a number or boolean.")
        return to_int(value, self.table, self.memory) != 0

    def binary(self, operator: str, left: Value, right: Value) -> Value:
        left, right = self.decay(left), self.decay(right)
        a, b = unqualified(self.table, left.type), unqualified(self.table, right.type)
        if a.kind == Kind.POINTER or b.kind == Kind.POINTER:
            return self.pointer_arithmetic(operator, left, right, a, b)
        if a.kind not in ARITHMETIC or b.kind not in ARITHMETIC:
            raise EvalError("Argument to arithmetic operation not a number or boolean.")
        if operator in ("<<", ">>"):
            result_type = self.promote(left.type)
            number = to_int(left, self.table, self.memory)
            shift = to_int(right, self.table, self.memory)
            size = unqualified(self.table, result_type).size or 4
            if shift < 0 or shift >= 8 * size:
                return from_int(0, result_type, self.table)
            return from_int(number << shift if operator == "<<" else number >> shift, result_type, self.table)
        result_type = self.common(left.type, right.type)
        result = unqualified(self.table, result_type)
        if result.kind == Kind.FLOAT:
            x, y = to_float(left, self.table, self.memory), to_float(right, self.table, self.memory)
            if operator in ("==", "!=", "<", ">", "<=", ">="):
                return self.truth(_compare(operator, x, y))
            if operator in ("%", "&", "|", "^"):
                raise EvalError("Integer only operation.")
            if operator == "/" and y == 0:
                return from_float(float("inf") if x > 0 else float("-inf") if x < 0 else float("nan"), result_type,
                                  self.table)
            return from_float({"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else 0.0}[operator], result_type,
                              self.table)
        x = self._as(left, result)
        y = self._as(right, result)
        if operator in ("==", "!=", "<", ">", "<=", ">="):
            return self.truth(_compare(operator, x, y))
        if operator in ("/", "%") and y == 0:
            raise EvalError("Division by zero")
        if operator == "/":
            number = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
        elif operator == "%":
            number = x - y * (abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1))
        else:
            number = {"+": x + y, "-": x - y, "*": x * y, "&": x & y, "|": x | y, "^": x ^ y}[operator]
        return from_int(number, result_type, self.table)

    def _as(self, value: Value, type_: Type) -> int:
        number = to_int(value, self.table, self.memory)
        bits = 8 * (type_.size or 4)
        number &= (1 << bits) - 1
        if type_.signed and number >> (bits - 1):
            number -= 1 << bits
        return number

    def pointer_arithmetic(self, operator: str, left: Value, right: Value, a: Type, b: Type) -> Value:
        if operator in ("==", "!=", "<", ">", "<=", ">="):
            return self.truth(_compare(operator, to_int(left, self.table, self.memory),
                                       to_int(right, self.table, self.memory)))
        if a.kind == Kind.POINTER and b.kind == Kind.POINTER:
            if operator != "-":
                raise EvalError("Argument to arithmetic operation not a number or boolean.")
            size = self._element_size(a)
            if size != self._element_size(b):
                raise EvalError("First argument of `-' is a pointer and second argument is neither\n"
                                "an integer nor a pointer of the same type.")
            difference = to_int(left, self.table, self.memory) - to_int(right, self.table, self.memory)
            return from_int(difference // size, self.base("long"), self.table)
        if operator not in ("+", "-") or (b.kind == Kind.POINTER and operator == "-"):
            raise EvalError("Argument to arithmetic operation not a number or boolean.")
        pointer, offset, pointer_type = (left, right, a) if a.kind == Kind.POINTER else (right, left, b)
        count = to_int(offset, self.table, self.memory)
        step = self._element_size(pointer_type) * (count if operator == "+" else -count)
        return from_int(to_int(pointer, self.table, self.memory) + step, pointer.type, self.table)

    def _element_size(self, pointer: Type) -> int:
        target = unqualified(self.table, pointer.target) if pointer.target is not None else None
        if target is None or target.kind in (Kind.VOID, Kind.FUNCTION):
            return 1
        return target.size or 1

    def decay(self, value: Value) -> Value:
        """Arrays become pointers to their first element, functions pointers to themselves,
        references what they refer to."""
        type_ = unqualified(self.table, value.type)
        if type_.kind in Kind.REFERENCES:
            return self.dereference(value)
        if type_.kind == Kind.ARRAY:
            if value.address is None:
                raise EvalError("Attempt to take address of value not located in memory.")
            return from_int(value.address, self.pointer_to(type_.target), self.table)
        if type_.kind == Kind.FUNCTION:
            return from_int(value.address or 0, self.pointer_to(resolved_index(self.table, value.type)), self.table)
        return value

    def _eval_cond(self, node) -> Value:
        _kind, condition, if_true, if_false = node
        return self.eval(if_true) if self._truth(self.eval(condition)) else self.eval(if_false)

    def _eval_comma(self, node) -> Value:
        self.eval(node[1])
        return self.eval(node[2])

    def _eval_at(self, node) -> Value:
        _kind, _operator, left_node, right_node = node
        left = self.eval(left_node)
        count = to_int(self.eval(right_node), self.table, self.memory)
        if left.address is None:
            raise EvalError("Only values in memory can be extended with '@'.")
        if count <= 0 or count > MAX_REPETITIONS:
            raise EvalError(f"Invalid number {count} of repetitions.")
        element = unqualified(self.table, left.type)
        if (element.size or 0) * count > MAX_VALUE_SIZE:
            raise EvalError(f"value requires {(element.size or 0) * count} bytes, which is more than max-value-size")
        return Value(self.array_of(left.type, count), left.address)

    def _eval_sizeof(self, node) -> Value:
        value = self.eval(node[1])
        size = unqualified(self.table, value.type).size
        if size is None:
            raise EvalError("Attempt to use a type name as an expression") if False else EvalError(
                "sizeof applied to an incomplete type")
        return from_int(size, self.base("int"), self.table)

    def _eval_sizeof_type(self, node) -> Value:
        index = self.resolve_type(node[1])
        size = unqualified(self.table, index).size
        if size is None:
            raise EvalError("sizeof applied to an incomplete type")
        return from_int(size, self.base("int"), self.table)       # gdb's sizeof is an int

    def _eval_alignof(self, node) -> Value:
        type_ = unqualified(self.table, self.resolve_type(node[1]))
        return from_int(min(type_.size or 1, 8), self.base("unsigned long"), self.table)

    def _eval_cast(self, node) -> Value:
        return self.cast(self.eval(node[2]), self.resolve_type(node[1]))

    def _eval_memory_cast(self, node) -> Value:
        """gdb's `{type} address`: the object of that type at that address."""
        address = to_int(self.decay(self.eval(node[2])), self.table, self.memory)
        return Value(self.resolve_type(node[1]), address)

    def cast(self, value: Value, index: int) -> Value:
        target = unqualified(self.table, index)
        value = self.decay(value) if target.kind != Kind.ARRAY else value
        source = unqualified(self.table, value.type)
        if target.kind in (Kind.INT, Kind.ENUM, Kind.POINTER, Kind.MEMBER_POINTER):
            if source.kind == Kind.FLOAT:
                return from_int(int(to_float(value, self.table, self.memory)), index, self.table)
            if source.kind in (Kind.INT, Kind.BOOL, Kind.ENUM, Kind.POINTER):
                number = to_int(value, self.table, self.memory)
                if target.kind == Kind.POINTER and source.kind == Kind.POINTER:
                    number += self._base_adjustment(source, target, number)
                return from_int(number, index, self.table)
        if target.kind == Kind.BOOL and source.kind in ARITHMETIC + (Kind.POINTER,):
            return from_int(1 if self._truth(value) else 0, index, self.table)
        if target.kind == Kind.FLOAT and source.kind in ARITHMETIC:
            return from_float(to_float(value, self.table, self.memory), index, self.table)
        if target.kind in Kind.COMPOUND + (Kind.ARRAY,) and value.address is not None and \
                (target.size or 0) <= (source.size or 0):
            return Value(index, value.address)
        if target.kind in Kind.REFERENCES and value.address is not None:
            return from_int(value.address, index, self.table)
        if target.kind == Kind.VOID:
            return Value(index)
        raise EvalError("Invalid cast.")

    def _base_adjustment(self, source: Type, target: Type, address: int) -> int:
        """Casting Derived* to Base* (or back) moves the pointer by the base's offset."""
        if not address:
            return 0
        frm = unqualified(self.table, source.target) if source.target is not None else None
        to = unqualified(self.table, target.target) if target.target is not None else None
        if frm is None or to is None or frm.kind not in Kind.COMPOUND or to.kind not in Kind.COMPOUND:
            return 0
        offset = self._base_offset(frm, to, 0)
        if offset is not None:
            return offset
        back = self._base_offset(to, frm, 0)
        return -back if back is not None else 0

    def _base_offset(self, derived: Type, base: Type, depth: int) -> int | None:
        if depth > 16:
            return None
        for member in derived.members:
            if not member.base or member.virtual:
                continue
            candidate = unqualified(self.table, member.type)
            if candidate is base or (candidate.name and candidate.name == base.name):
                return member.offset
            deeper = self._base_offset(candidate, base, depth + 1)
            if deeper is not None:
                return member.offset + deeper
        return None

    # ------------------------------------------------------------ memory

    def address_of(self, value: Value) -> Value:
        type_ = unqualified(self.table, value.type)
        if value.bit_size:
            raise EvalError("Attempt to take address of value not located in memory.")
        if type_.kind in Kind.REFERENCES:
            value = self.dereference(value)
        if value.address is None:
            if value.register:
                raise EvalError("Attempt to take address of value not located in memory.")
            raise EvalError("Attempt to take address of value not located in memory.")
        return from_int(value.address, self.pointer_to(resolved_index(self.table, value.type)), self.table)

    def dereference(self, value: Value) -> Value:
        type_ = unqualified(self.table, value.type)
        if type_.kind == Kind.ARRAY:
            return self.element(value, 0)
        if type_.kind == Kind.FUNCTION:
            return value
        if type_.kind not in (Kind.POINTER,) + Kind.REFERENCES:
            if type_.kind == Kind.INT:
                # gdb reads `*addr` of an integer as a long at that address
                return Value(self.base("long"), to_int(value, self.table, self.memory))
            raise EvalError("Attempt to take contents of a non-pointer value.")
        address = to_int(value, self.table, self.memory)
        target = type_.target if type_.target is not None else self.base("void")
        if unqualified(self.table, target).kind == Kind.VOID:
            raise EvalError("Attempt to take contents of a non-pointer value.")
        return Value(target, address)

    def _eval_index(self, node) -> Value:
        base = self.eval(node[1])
        index = self.eval(node[2])
        type_ = unqualified(self.table, base.type)
        if type_.kind == Kind.ARRAY:
            return self.element(base, to_int(index, self.table, self.memory))
        if type_.kind == Kind.POINTER:
            return self.dereference(self.binary("+", base, index))
        other = unqualified(self.table, index.type)
        if other.kind in (Kind.ARRAY, Kind.POINTER):       # i[p] is p[i]
            return self._eval_index(("index", node[2], node[1]))
        raise EvalError(f"cannot subscript something of type `{type_name(self.table, base.type)}'")

    def element(self, array: Value, index: int) -> Value:
        type_ = unqualified(self.table, array.type)
        if array.optimized_out:
            return Value(type_.target, optimized_out=True)
        element_type = unqualified(self.table, type_.target)
        size = element_type.size or 0
        if array.address is not None:
            return Value(type_.target, array.address + index * size)
        data = value_bytes(array, self.table, self.memory)
        if not 0 <= index < (type_.length or 0):
            raise EvalError("no such vector element")
        return Value(type_.target, data=data[index * size:(index + 1) * size])

    def _eval_member(self, node) -> Value:
        _kind, base_node, name, arrow = node
        value = self.eval(base_node)
        type_ = unqualified(self.table, value.type)
        if type_.kind in (Kind.POINTER,) + Kind.REFERENCES:
            value = self.dereference(value)
            type_ = unqualified(self.table, value.type)
        elif arrow and type_.kind not in Kind.COMPOUND:
            raise EvalError("The -> operator must be applied to a pointer or a structure.")
        if type_.kind not in Kind.COMPOUND:
            raise EvalError(f"Attempt to extract a component of a value that is not a structure"
                            f"{' pointer' if arrow else ''}.")
        found = self.find_member(value, type_, name, 0)
        if found is None:
            what = "member or method" if type_.language == "c++" else "member"
            raise EvalError(f"There is no {what} named {name}.")
        return found

    def find_member(self, value: Value, type_: Type, name: str, depth: int) -> Value | None:
        if depth > 32:
            return None
        for member in type_.members:
            if member.name == name and not member.base:
                if member.static:
                    symbol = self.symbols.named(f"{type_.name}::{name}") if type_.name else None
                    if symbol is None:
                        return Value(member.type, optimized_out=True)
                    return Value(member.type, symbol.address)
                return self.member_value(value, type_, member)
        for member in type_.members:
            if member.base or member.name is None:
                inner = self.member_value(value, type_, member)
                found = self.find_member(inner, unqualified(self.table, member.type), name, depth + 1)
                if found is not None:
                    return found
        if any(method.name == name for method in type_.methods) and type_.name:
            symbol = self.symbols.named(f"{type_.name}::{name}")
            if symbol is not None:
                return Value(symbol.type_id if symbol.type_id is not None else self._text_symbol_type(),
                             symbol.address)
            raise EvalError(f"Cannot take address of method {name}.")
        return None

    def member_value(self, value: Value, type_: Type, member: Member) -> Value:
        if value.optimized_out:
            return Value(member.type, optimized_out=True)
        offset = member.offset
        if member.base and member.virtual:
            offset = self._virtual_base_offset(value, member)
        size = unqualified(self.table, member.type).size or 0
        if value.missing:
            return self._piece_of(value, member, offset, size)
        if member.bit_size:
            span = (member.bit_offset + member.bit_size + 7) // 8
            if value.data is not None:
                data = value.data[offset:offset + span]
            else:
                data = self.memory.read(value.address + offset, span) if value.address is not None else None
            return Value(member.type, None, data, member.bit_size, member.bit_offset)
        if value.address is not None:
            return Value(member.type, value.address + offset)
        data = value_bytes(value, self.table, self.memory)
        return Value(member.type, data=data[offset:offset + size])

    def _piece_of(self, value: Value, member: Member, offset: int, size: int) -> Value:
        """A member of a value held in pieces, some optimized out: a member wholly or partly
        in those is optimized out unless it is a struct, whose own members say which."""
        end = offset + ((member.bit_offset + member.bit_size + 7) // 8 if member.bit_size else size)
        inside = tuple((max(start, offset) - offset, min(stop, end) - offset)
                       for start, stop in value.missing if start < end and stop > offset)
        kind = unqualified(self.table, member.type).kind
        if inside and (member.bit_size or kind not in Kind.COMPOUND or
                       sum(stop - start for start, stop in inside) >= end - offset):
            return Value(member.type, optimized_out=True)
        data = value.data[offset:end]
        if member.bit_size:
            return Value(member.type, None, data, member.bit_size, member.bit_offset)
        return Value(member.type, data=data, missing=inside)

    def _virtual_base_offset(self, value: Value, member: Member) -> int:
        """*(*(object) + slot): the offset of a virtual base, which the vtable holds."""
        if value.address is None or member.offset >= 0:
            raise Unavailable(value.address)
        vtable = int.from_bytes(self.memory.read(value.address, 8), "little")
        return struct.unpack("<q", self.memory.read(vtable + member.offset, 8))[0]

    def _eval_call(self, node):
        self.eval(node[1])            # a name that does not exist is that error first, as in gdb
        raise EvalError("A snapshot cannot call functions: the process is not running.")


def _scope_parts(name: str) -> list[str]:
    """`ns::Shelf<a::b>::at` -> ["ns", "Shelf<a::b>", "at"]: `::` outside template brackets."""
    parts, depth, start = [], 0, 0
    index = 0
    while index < len(name):
        char = name[index]
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == ":" and depth == 0 and name.startswith("::", index):
            parts.append(name[start:index])
            start = index + 2
            index += 1
        index += 1
    parts.append(name[start:])
    return [part for part in parts if part]


def _compare(operator: str, x, y) -> bool:
    return {"==": x == y, "!=": x != y, "<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[operator]


def parse_format(text: str) -> tuple[str | None, str]:
    """`/x EXPR` -> ("x", "EXPR"); gdb's print formats."""
    text = text.lstrip()
    if not text.startswith("/"):
        return None, text
    letters, _, rest = text[1:].partition(" ")
    letters = letters.strip()
    for letter in letters:
        if letter not in FORMATS and letter != "r":
            raise EvalError(f"Undefined output format \"{letter}\".")
    letters = letters.replace("r", "")
    return (letters[-1] if letters else None), rest


__all__ = ["Session", "EvalError", "parse_format", "cannot_access", "Unavailable"]
