"""Types spelled as gdb spells them (`struct node *`, `int (*)(int, int)`, `char [8]`,
`const char *`), and `ptype`'s and `whatis`'s answers."""

from __future__ import annotations

import re

from hydra.model.types import TAGGED, Kind, Type, TypeTable

MAX_NAME_DEPTH = 32


def type_name(table: TypeTable, index: int | None, declarator: str = "", depth: int = 0,
              expand: bool = False, names: dict[int, str] | None = None) -> str:
    """The type's name with `declarator` (what is declared of it, so far) around it. With
    `expand` (ptype), the typedefs along the declarator chain are resolved and the struct,
    union or enum at its core is written out."""
    type_ = table.get(index) if index is not None else None
    if type_ is None or depth > MAX_NAME_DEPTH:
        return _join("void" if index is None else "?", declarator)
    if names and index in names:                # a template's parameter, as ptype shows it: `T`
        return _join(_qualifiers(type_) + names[index], declarator)
    qualifiers = _qualifiers(type_)
    kind = type_.kind
    if kind == Kind.TYPEDEF and expand and type_.target is not None:
        target = table.get(type_.target)
        if target is not None and (type_.const or type_.volatile) and not (target.const or target.volatile):
            return _join(qualifiers.strip(), "") + " " + type_name(table, type_.target, declarator, depth + 1, expand, names) \
                if target.kind not in (Kind.POINTER,) else type_name(table, type_.target, declarator, depth + 1, expand, names)
        return type_name(table, type_.target, declarator, depth + 1, expand, names)
    if kind == Kind.POINTER and type_.name is None and type_.language == "rust":
        # rustc names its references (`&T`, `&mut T`); a pointer without a name is a raw one
        return _join(f"*mut {type_name(table, type_.target, '', depth + 1, expand, names)}", declarator)
    if kind == Kind.POINTER and type_.name is None:
        inner = "*" + (f" {qualifiers.strip()}" if qualifiers else "") + (" " + declarator if qualifiers and
                                                                          declarator else declarator)
        return type_name(table, type_.target, inner, depth + 1, expand, names)
    if kind in Kind.REFERENCES:
        return type_name(table, type_.target, ("&" if kind == Kind.REFERENCE else "&&") + declarator, depth + 1,
                         expand, names)
    if kind == Kind.ARRAY:
        length = "" if type_.length is None else str(type_.length)
        return type_name(table, type_.target, f"{_wrap(declarator)}[{length}]", depth + 1, expand, names)
    if kind == Kind.FUNCTION:
        return type_name(table, type_.target, f"{_wrap(declarator)}({parameter_list(table, type_, depth, names)})",
                         depth + 1, expand, names)
    if kind == Kind.MEMBER_POINTER:
        owner = type_name(table, type_.containing, "", depth + 1)
        target = table.get(type_.target)
        if target is not None and target.kind == Kind.FUNCTION:
            return type_name(table, type_.target, f"({owner}::*{declarator})", depth + 1)
        return type_name(table, type_.target, f"{owner}::*{declarator}", depth + 1)
    if expand and kind in TAGGED and not type_.incomplete:
        return _join(qualifiers + _body(table, type_), declarator)
    return _join(qualifiers + base_name(type_), declarator)


def base_name(type_: Type) -> str:
    if type_.name is None:
        if type_.kind in TAGGED:
            return f"{TAGGED[type_.kind]} {{...}}"
        return "void" if type_.kind == Kind.VOID else "?"
    return type_.spelled() or type_.name


def parameter_list(table: TypeTable, type_: Type, depth: int = 0, names: dict[int, str] | None = None) -> str:
    spelled = [type_name(table, p, "", depth + 1, names=names) for p in type_.parameters]
    if type_.variadic:
        spelled.append("...")
    if not spelled:
        return "void" if type_.prototyped else ""
    return ", ".join(spelled)


def _qualifiers(type_: Type) -> str:
    return ("const " if type_.const else "") + ("volatile " if type_.volatile else "")


def _wrap(declarator: str) -> str:
    return f"({declarator})" if declarator.startswith(("*", "&")) else declarator


def _join(base: str, declarator: str) -> str:
    if not declarator:
        return base
    if declarator.startswith(("[", "(")):
        return f"{base} {declarator}"
    return f"{base} {declarator}"


# ---------------------------------------------------------------- ptype and whatis

def whatis(table: TypeTable, index: int | None) -> str:
    """`type = NAME`: the type's name, one level of typedefs not expanded."""
    return f"type = {type_name(table, index)}"


def ptype(table: TypeTable, index: int | None, expand_typedef: bool = True) -> str:
    """`type = ...`: the typedefs along the type's declarator resolved, a struct, union,
    class or enum at its core written out (Rust's in Rust's syntax, as gdb's Rust mode
    writes them; a pointer is not looked through)."""
    type_ = table.get(index) if index is not None else None
    if type_ is not None and type_.language == "rust":
        if type_.kind in Kind.COMPOUND and type_.name is not None and not type_.incomplete:
            return "type = " + _rust_body(table, type_)
        if type_.kind == Kind.ENUM and type_.name is not None:      # a C-like enum
            return "type = " + "\n".join([f"enum {type_.name} {{", *(f"  {name}," for name, _ in type_.enumerators),
                                           "}"])
        return "type = " + type_name(table, index)
    return "type = " + type_name(table, index, expand=True)


def tuple_like(fields: list) -> bool:
    """A Rust tuple struct's or tuple variant's fields: rustc names them __0, __1, ..."""
    return bool(fields) and all(re.fullmatch(r"__\d+", member.name or "") for member in fields)


def _rust_body(table: TypeTable, type_: Type) -> str:
    """`struct Name {\n  field: T,\n}`, a tuple struct's `struct Name (\n  T,\n)`, an enum's
    `enum Name {\n  A,\n  B(T),\n  C{x: T},\n}`."""
    if type_.variants:
        lines = [f"enum {type_.name} {{"]
        for variant in type_.variants:
            inner = table.get(variant.member.type)
            fields = [m for m in inner.members if not m.static] if inner is not None else []
            if not fields:
                lines.append(f"  {variant.member.name},")
            elif tuple_like(fields):
                lines.append(f"  {variant.member.name}({', '.join(type_name(table, m.type) for m in fields)}),")
            else:
                lines.append(f"  {variant.member.name}{{{', '.join(f'{m.name}: {type_name(table, m.type)}' for m in fields)}}},")
        lines.append("}")
        return "\n".join(lines)
    keyword = "union" if type_.kind == Kind.UNION else "struct"
    fields = [m for m in type_.members if not m.static]
    tuple = tuple_like(fields)
    lines = [f"{keyword} {type_.name} {'(' if tuple else '{'}"]
    for member in fields:
        spelled = type_name(table, member.type)
        lines.append(f"  {spelled}," if tuple else f"  {member.name}: {spelled},")
    lines.append(")" if tuple else "}")
    return "\n".join(lines)


def _body(table: TypeTable, type_: Type) -> str:
    """A struct, union, class or enum as ptype writes it."""
    from hydra.evaluate.printer import Printer

    head = base_name(type_) if type_.name is not None else TAGGED[type_.kind]
    if type_.kind == Kind.ENUM:
        if type_.language == "c++" and type_.name is not None:
            head = ("enum class " if type_.scoped else "enum ") + type_.name
            if type_.target is not None:
                head += f" : {type_name(table, type_.target)}"
        shown_names = []
        expected = 0
        for name, value in type_.enumerators:
            shown = Printer.enumerator_name(type_, name)
            shown_names.append(shown if value == expected else f"{shown} = {value}")
            expected = value + 1
        return f"{head} {{{', '.join(shown_names)}}}"
    if type_.language != "c" and type_.name is not None:
        keyword = "class" if type_.kind == Kind.CLASS else "union" if type_.kind == Kind.UNION else "struct"
        head = f"{keyword} {type_.name}"
    substitutions = {index: name for name, index in type_.template_parameters}
    if type_.template_parameters:
        head += " [with " + ", ".join(f"{name} = {type_name(table, index)}"
                                      for name, index in type_.template_parameters) + "]"
    bases = [m for m in type_.members if m.base]
    if bases:
        head += " : " + ", ".join(
            f"{m.access + ' ' if m.access else ''}{'virtual ' if m.virtual else ''}{type_name(table, m.type)}"
            for m in bases)
    lines = [f"{head} {{"]
    access = None
    default = "private" if type_.kind == Kind.CLASS else "public"
    fields = [m for m in type_.members if not m.base and not (m.artificial and (m.name or "").startswith("_vptr"))]
    methods = [m for m in type_.methods if not m.artificial]
    explicit = type_.language == "c++" and (type_.kind == Kind.CLASS or
                                            any(m.access not in ("", "public") for m in fields + methods))
    for member in fields:
        if explicit and (member.access or default) != access:
            access = member.access or default
            lines.append(f"  {access}:")
        declaration = type_name(table, member.type, member.name or "", names=substitutions)
        if member.static:
            declaration = "static " + declaration
        if member.bit_size:
            declaration += f" : {member.bit_size}"
        lines.append(f"    {declaration};")
    if methods:
        if type_.language == "c++" and not explicit:
            explicit, access = True, None           # gdb names the access of a struct's methods
        first = methods[0].access or default
        if fields and (not explicit or first == access):
            lines.append("")                        # none when an access label comes between
        for method in methods:
            if explicit and (method.access or default) != access:
                access = method.access or default
                lines.append(f"  {access}:")
            function = table.get(method.type)
            parameters = parameter_list(table, function, names=substitutions) if function is not None else "void"
            short = (type_.name or "").rsplit("::", 1)[-1].split("<", 1)[0]
            if method.name == short or method.name.startswith("~"):
                text = f"{method.name}({parameters})"
            else:
                result = type_name(table, function.target, names=substitutions) if function is not None else "void"
                text = f"{result} {method.name}({parameters})"
            if method.const:
                text += " const"
            prefix = "virtual " if method.virtual and not method.name.startswith("~") else \
                "static " if method.static else ""
            lines.append(f"    {prefix}{text};")
    lines.append("}")
    return "\n".join(lines)
