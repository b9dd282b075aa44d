"""Values drgn cannot build, read again from the snapshot's own types and memory.

drgn 0.3 knows no DW_TAG_ptr_to_member_type: a pointer to a member, and any union or class
that holds one (std::function's `_M_unused`), is an error where gdb prints `&Class::member`,
`NULL` or `(long (C::*)(C * const)) 0x... <C::f()>`; and drgn finds no scope in Rust's
functions (nested in namespaces), so their variables are missing. The snapshot's type
table reads them
(symbols/dwarftypes.py), so once it and the kept memory are in the crash, such a member of
a variable with an address is printed again by the expression evaluator, as `hydra print`
prints it; so is such a variable itself when it lives at a fixed offset from its frame's
base (the CFA, or a register such as rustc's rsp: the walk notes where). Its text replaces
the error; it has no children of its own.
"""

from __future__ import annotations

from hydra.model.crash import Crash, Variable

UNKNOWN_TAG = "unknown DWARF type tag 0x1f"      # drgn's words for DW_TAG_ptr_to_member_type
NOT_READ = "<not read>"                          # a variable drgn did not find, placed by its DWARF
MAX_VALUES = 256                                 # values read again in one capture


def read_again(crash: Crash, variables: list[Variable]) -> None:
    """variables: the frames' variables that hold what drgn could not build."""
    wanted = {id(variable) for variable in variables}
    if not wanted:
        return
    session = None
    done = 0
    for thread in crash.threads:
        for frame in thread.frames:
            for top in frame.args + frame.locals:
                if id(top) not in wanted:
                    continue
                if top.address is None or top.type_id is None:
                    if top.note == NOT_READ:          # placed where its frame has no register
                        top.value = top.note = "<unreadable>"
                    continue
                failed = [(top, top.name)] if top.note and (UNKNOWN_TAG in top.note or top.note == NOT_READ) \
                    else _failed(top, top.name)
                for node, expression in failed:
                    if done >= MAX_VALUES:
                        return
                    done += 1
                    if session is None:
                        from hydra.evaluate.session import Session

                        session = Session(crash)
                    session.select(thread, frame)
                    text = _printed(session, expression)
                    if text is None and node.note == NOT_READ:
                        node.value = node.note = "<unreadable>"
                    if text is not None:
                        node.value, node.note, node.children = text, None, []
                        if node is top:
                            from hydra.evaluate.typenames import type_name

                            top.type = type_name(session.table, top.type_id)


def _failed(variable: Variable, expression: str, depth: int = 0):
    """(node, the expression that names it) for each member drgn could not build."""
    for child in variable.children:
        if child.kind == "target":
            path = f"(*{expression})"
        elif child.kind == "element":
            path = f"{expression}{child.name}"
        elif child.name.startswith("<"):
            path = expression              # a base class: its members are the variable's
        elif child.kind == "member" and child.name.isidentifier():
            path = f"{expression}.{child.name}"
        else:
            continue
        if child.note and UNKNOWN_TAG in child.note:
            yield child, path
        elif depth < 32:
            yield from _failed(child, path, depth + 1)


def _printed(session, expression: str) -> str | None:
    """The value as a frame's arguments and locals show it: `print`'s text without the
    `(type) ` it puts before a pointer or a reference."""
    from hydra.evaluate.errors import EvalError
    from hydra.evaluate.printer import Printer
    from hydra.evaluate.typenames import type_name
    from hydra.model.types import Kind

    try:
        value = session.evaluate(expression)
        text = Printer(session).top(value, None)
    except (EvalError, ValueError, LookupError, TypeError):
        return None
    type_ = session.table.get(session.table.strip_typedefs(value.type)) if value.type is not None else None
    prefix = f"({type_name(session.table, value.type)}) "
    if type_ is not None and (type_.kind == Kind.POINTER or type_.kind in Kind.REFERENCES) and text.startswith(prefix):
        text = text[len(prefix):]
    return text
