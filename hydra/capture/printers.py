"""libstdc++'s std::string and std::vector spelled as gdb's pretty-printers spell them.

gdb loads libstdc++'s printers by default, so a C++ programmer sees `str = "hello"` and
`v = std::vector of length 3, capacity 3 = {1, 2, 3}`, not the containers' insides. The
same values are read here from the same members the printers read (`_M_dataplus._M_p` and
`_M_string_length`; `_M_impl._M_start`, `_M_finish`, `_M_end_of_storage`). Sizes come from
the dump, so they are checked against each other and bounded before anything is read.
"""

from __future__ import annotations

import drgn

from hydra.model.crash import VECTOR_PREFIX
STRING_BYTES = 4096       # kept of a long string, for the UI to page through


def library_value(reader, var, obj: drgn.Object, base: drgn.Type, nesting: int, hops: int) -> bool:
    """Fill var as gdb's printer shows obj when obj is a std::string or a std::vector;
    False when it is neither (or not one this knows)."""
    tag = base.tag or ""
    if tag.startswith("basic_string<char,"):
        return _string(reader, var, obj)
    if tag.startswith("vector<") and not tag.startswith("vector<bool,"):
        return _vector(reader, var, obj, nesting, hops)
    return False


def _string(reader, var, obj: drgn.Object) -> bool:
    from hydra.capture.values import PRINT_ELEMENTS, _char_array_literal

    try:
        pointer = obj.member_("_M_dataplus").member_("_M_p").value_()
        length = obj.member_("_M_string_length").value_()
    except (LookupError, drgn.ObjectAbsentError):
        return False                  # the old (copy-on-write) string: left as it is
    if not isinstance(pointer, int) or not isinstance(length, int) or length < 0:
        return False
    # gdb's printer fetches 200 characters (`print elements`) and shows them with runs
    # folded; an array counts each run as ten of its 200 instead
    data = reader.prog.read(pointer, min(length, PRINT_ELEMENTS)) if length else b""
    reader._remember(pointer, min(length + 1, STRING_BYTES))
    # a final NUL added is the one the array spelling drops
    literal = _char_array_literal(data + b"\0")
    if length > len(data):
        literal += "..."
    var.value = literal
    return True


def _vector(reader, var, obj: drgn.Object, nesting: int, hops: int) -> bool:
    try:
        implementation = obj.member_("_M_impl")
        start = implementation.member_("_M_start")
        finish = implementation.member_("_M_finish").value_()
        end = implementation.member_("_M_end_of_storage").value_()
        element = start.type_.unaliased().type
        step = drgn.sizeof(element)
        first = start.value_()
    except (LookupError, TypeError, ValueError, AttributeError, drgn.ObjectAbsentError):
        return False
    if step <= 0 or not first <= finish <= end or (finish - first) % step or (end - first) % step:
        var.value = f"<error: not a vector: start 0x{first:x}, finish 0x{finish:x}, end 0x{end:x}>"
        var.note = var.value
        return True
    length, capacity = (finish - first) // step, (end - first) // step
    var.value = f"{VECTOR_PREFIX}{length}, capacity {capacity}"
    if not length:
        return True
    shown = min(length, reader.limits.children)
    array = drgn.Object(reader.prog, reader.prog.array_type(element, shown), address=first)
    elements = reader._convert(var.name, array, "member", nesting, hops)
    var.children = elements.children
    var.omitted = length - shown
    var.value += " = " + reader._summary(var)
    if elements.note:
        var.note = elements.note
    return True



def shown_by_printer(var) -> bool:
    """Whether var's value is a printer's (gdb then shows a reference to it as the value
    alone, without `@address:`)."""
    if var.value.startswith(VECTOR_PREFIX):
        return True
    name = var.type.replace("const ", "").replace("volatile ", "").strip()
    return var.value.startswith('"') and (name == "string" or name.startswith("basic_string<char,"))
