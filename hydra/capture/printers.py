"""libstdc++'s strings, vectors, smart pointers, maps and sets spelled as gdb's
pretty-printers spell them.

gdb loads libstdc++'s printers by default, so a C++ programmer sees `str = "hello"`,
`v = std::vector of length 3, capacity 3 = {1, 2, 3}` and
`m = std::map with 2 elements = {[1] = "one", [2] = "two"}`, not the containers' insides.
The same values are read here from the same members the printers read. Sizes and links
come from the dump, so they are checked against each other and bounded before anything is
read, and a tree walk stops after the elements it shows.
"""

from __future__ import annotations

import drgn

from hydra.model.crash import PRINTER_PREFIXES, VECTOR_PREFIX

STRING_BYTES = 4096       # kept of a long string, for the UI to page through
SMART_POINTERS = {"unique_ptr<": "std::unique_ptr", "shared_ptr<": "std::shared_ptr",
                  "weak_ptr<": "std::weak_ptr"}
TREES = {"map<": "std::map", "multimap<": "std::multimap", "set<": "std::set",
         "multiset<": "std::multiset"}


def library_value(reader, var, obj: drgn.Object, base: drgn.Type, nesting: int, hops: int) -> bool:
    """Fill var as gdb's printer shows obj when obj is a std::string or a std::vector;
    False when it is neither (or not one this knows)."""
    tag = base.tag or ""
    if tag.startswith("basic_string<char,"):
        return _string(reader, var, obj)
    if tag.startswith("vector<") and not tag.startswith("vector<bool,"):
        return _vector(reader, var, obj, nesting, hops)
    for prefix, name in SMART_POINTERS.items():
        if tag.startswith(prefix):
            return _smart_pointer(reader, var, obj, base, name, nesting, hops)
    for prefix, name in TREES.items():
        if tag.startswith(prefix):
            return _tree(reader, var, obj, base, name, nesting, hops)
    return False


def _argument(base: drgn.Type, index: int) -> drgn.Type | None:
    try:
        argument = base.template_parameters[index].argument
    except (IndexError, AttributeError, LookupError):
        return None
    return argument if isinstance(argument, drgn.Type) else None


def _find_member(obj: drgn.Object, name: str, depth: int = 8) -> drgn.Object | None:
    """A member by name, looked for in obj and then depth first in its base classes
    (unnamed members), as C++ finds an inherited member."""
    base = obj.type_.unaliased()
    if depth <= 0 or base.kind not in (drgn.TypeKind.STRUCT, drgn.TypeKind.CLASS):
        return None
    for member in base.members:
        if member.name == name:
            return obj.member_(name)
    for member in base.members:
        if member.name is None and obj.address_ is not None:
            inner = _find_member(drgn.Object(obj.prog_, member.type, address=obj.address_ + member.offset),
                                 name, depth - 1)
            if inner is not None:
                return inner
    return None


def _smart_pointer(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    pointed = _argument(base, 0)
    if pointed is None:
        return False
    if name == "std::unique_ptr":
        # the pointer is the first of the tuple's elements that has one: the deleter's
        # element is named _M_head_impl too
        pointer = _find_member(obj, "_M_t")
        pointer = _find_pointer(pointer) if pointer is not None else None
        state = ""
    else:
        pointer = _find_member(obj, "_M_ptr")
        counts = _find_member(obj, "_M_refcount")
        if pointer is None or counts is None:
            return False
        counts = counts.member_("_M_pi")
        state = " (empty)"
        if counts.value_():
            use, weak = counts.member_("_M_use_count").value_(), counts.member_("_M_weak_count").value_()
            state = f" (expired, weak count {weak})" if use == 0 else f" (use count {use}, weak count {weak - 1})"
    if pointer is None:
        return False
    child = reader._convert("get()", pointer, "member", nesting, hops)
    var.children = [child]
    var.value = f"{name}<{pointed.type_name()}>{state} = {reader._summary(var)}"
    return True


def _find_pointer(obj: drgn.Object, depth: int = 8) -> drgn.Object | None:
    """The first pointer-typed _M_head_impl in a std::tuple's layout."""
    base = obj.type_.unaliased()
    if depth <= 0 or base.kind not in (drgn.TypeKind.STRUCT, drgn.TypeKind.CLASS):
        return None
    for member in base.members:
        if member.name == "_M_head_impl" and member.type.unaliased().kind == drgn.TypeKind.POINTER:
            return obj.member_("_M_head_impl")
        if member.name in (None, "_M_t") and obj.address_ is not None:
            found = _find_pointer(drgn.Object(obj.prog_, member.type, address=obj.address_ + member.offset),
                                  depth - 1)
            if found is not None:
                return found
    return None


def _tree(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    tree = _find_member(obj, "_M_t")
    if tree is None:
        return False
    value_type = _argument(tree.type_.unaliased(), 1)      # _Rb_tree<Key, Value, ...>
    implementation = _find_member(tree, "_M_impl")
    if implementation is None:
        return False
    header = _find_member(implementation, "_M_header")
    count = _find_member(implementation, "_M_node_count")
    if value_type is None or header is None or count is None or header.address_ is None:
        return False
    count = count.value_()
    var.value = f"{name} with {count} element{'' if count == 1 else 's'}"
    if count <= 0:
        return True
    prog = reader.prog
    node_bytes = drgn.sizeof(header)            # a node's value follows its links
    node, root = prog.read_word(header.address_ + 16), header.address_     # _M_left: the first
    shown = min(count, reader.limits.children)
    is_map = name.endswith("map")
    for index in range(shown):
        if node == root or node == 0:
            break
        value = drgn.Object(prog, value_type, address=node + node_bytes)
        if is_map:
            key = reader._convert("first", value.member_("first"), "member", nesting, hops)
            child = reader._convert(f"[{key.value}]", value.member_("second"), "member", nesting, hops)
        else:
            child = reader._convert(f"[{index}]", value, "member", nesting, hops)
        var.children.append(child)
        node = _next_node(prog, node)
    var.omitted = count - len(var.children)
    var.value += " = " + reader._summary(var)
    return True


def _next_node(prog, node: int) -> int:
    """_Rb_tree_increment: the in-order successor (links: color, parent, left, right)."""
    right = prog.read_word(node + 24)
    if right:
        node = right
        for _ in range(64):                 # a red-black tree of 2^32 nodes is 64 deep
            left = prog.read_word(node + 16)
            if not left:
                break
            node = left
        return node
    parent = prog.read_word(node + 8)
    for _ in range(64):
        if node != prog.read_word(parent + 24):
            break
        node, parent = parent, prog.read_word(parent + 8)
    return parent if prog.read_word(node + 24) != parent else node


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
    if var.value.startswith(PRINTER_PREFIXES):
        return True
    name = var.type.replace("const ", "").replace("volatile ", "").strip()
    return var.value.startswith('"') and (name == "string" or name.startswith("basic_string<char,"))
