"""Values drgn cannot build, read again from the snapshot's own types and memory.

drgn 0.3 knows no DW_TAG_ptr_to_member_type: a pointer to a member, and any union or class
that holds one (std::function's `_M_unused`), is an error where gdb prints `&Class::member`,
`NULL` or `(long (C::*)(C * const)) 0x... <C::f()>`. The snapshot's type table reads them
(symbols/dwarftypes.py), so once it and the kept memory are in the crash, such a member of
a variable with an address is printed again by the expression evaluator, as `hydra print`
prints it; so is such a variable itself when it lives at a fixed offset from its frame's CFA
(the walk notes where). Its text replaces the error; it has no children of its own.
"""

from __future__ import annotations

from hydra.model.crash import Crash, Variable

UNKNOWN_TAG = "unknown DWARF type tag 0x1f"      # drgn's words for DW_TAG_ptr_to_member_type
MAX_VALUES = 256                                 # values read again in one capture


def read_again(crash: Crash) -> None:
    session = None
    done = 0
    for thread in crash.threads:
        for frame in thread.frames:
            for top in frame.args + frame.locals:
                if top.address is None or top.type_id is None or not _holds_error(top):
                    continue
                failed = [(top, top.name)] if top.note and UNKNOWN_TAG in top.note else _failed(top, top.name)
                for node, expression in failed:
                    if done >= MAX_VALUES:
                        return
                    done += 1
                    if session is None:
                        from hydra.evaluate.session import Session

                        session = Session(crash)
                    session.select(thread, frame)
                    text = _printed(session, expression)
                    if text is not None:
                        node.value, node.note, node.children = text, None, []
                        if node is top:
                            from hydra.evaluate.typenames import type_name

                            top.type = type_name(session.table, top.type_id)


def _holds_error(variable: Variable, depth: int = 0) -> bool:
    if variable.note and UNKNOWN_TAG in variable.note:
        return True
    return depth < 32 and any(_holds_error(child, depth + 1) for child in variable.children)


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
    from hydra.evaluate.errors import EvalError
    from hydra.evaluate.printer import Printer

    try:
        return Printer(session).top(session.evaluate(expression), None)
    except (EvalError, ValueError, LookupError, TypeError):
        return None
