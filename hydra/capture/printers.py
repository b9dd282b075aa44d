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

import struct

import drgn

from hydra.capture.literals import is_char, wide_prefix
from hydra.model.gdbstyle import char_array_literal, wide_text
from hydra.model.crash import PRINT_ELEMENTS, PRINTER_PREFIXES, VECTOR_PREFIX

WORD = 8                  # the layouts read here are 64-bit ones
ELEMENT_BYTES = 1 << 20   # read of a container's elements
STRING_BYTES = 4096       # kept of a long string, for the UI to page through


def library_value(reader, var, obj: drgn.Object, base: drgn.Type, nesting: int, hops: int) -> bool:
    """Fill var as gdb's printer shows obj when obj is one of the library types read here;
    False when it is not (or is not laid out as expected)."""
    tag = base.tag or ""
    if "<" not in tag or tag.startswith("vector<bool,"):
        return False            # the library's types are all templates; bit vectors stay raw
    platform = obj.prog_.platform
    if platform is None or not platform.flags & drgn.PlatformFlags.IS_64_BIT:
        return False
    for prefix, name, read in _PRINTERS:
        if tag.startswith(prefix):
            return read(reader, var, obj, base, name, nesting, hops)
    return False


def _pair(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    """first and second, without the empty __pair_base the printer leaves out."""
    try:
        var.children = [reader._convert(name, obj.member_(name), "member", nesting, hops)
                        for name in ("first", "second")]
    except LookupError:
        return False
    var.value = reader._summary(var)
    return True


def _argument(base: drgn.Type, index: int) -> drgn.Type | None:
    try:
        argument = base.template_parameters[index].argument
    except (IndexError, AttributeError, LookupError):
        return None
    return argument if isinstance(argument, drgn.Type) else None


def _first_argument(base: drgn.Type) -> str:
    """The first template argument as the compiler spelled it in the class's name, qualified
    (`std::__cxx11::basic_string<...>`), where drgn's name for the type is not."""
    tag = base.tag or ""
    start = tag.find("<") + 1
    depth = 0
    for position in range(start, len(tag)):
        character = tag[position]
        if character in "<([":
            depth += 1
        elif character in ">)]":
            if depth == 0:
                return tag[start:position].strip()
            depth -= 1
        elif character == "," and depth == 0:
            return tag[start:position].strip()
    return _argument(base, 0).type_name() if _argument(base, 0) is not None else "?"


def _descend(obj: drgn.Object | None, found, through=(None,), depth: int = 8) -> drgn.Object | None:
    """What found(obj, type) gives for obj or, depth first, for the members named in
    through (None: the base classes, unnamed members)."""
    if obj is None or depth <= 0:
        return None
    base = obj.type_.unaliased()
    if base.kind not in (drgn.TypeKind.STRUCT, drgn.TypeKind.CLASS):
        return None
    result = found(obj, base)
    if result is not None or obj.address_ is None:
        return result
    for member in base.members:
        if member.name in through:
            inner = _descend(drgn.Object(obj.prog_, member.type, address=obj.address_ + member.offset),
                             found, through, depth - 1)
            if inner is not None:
                return inner
    return None


def _find_member(obj: drgn.Object | None, name: str) -> drgn.Object | None:
    """A member by name, in obj or in its base classes, as C++ finds an inherited member."""
    return _descend(obj, lambda inner, base: inner.member_(name)
                    if any(member.name == name for member in base.members) else None)


def _smart_pointer(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    pointed = _argument(base, 0)
    if pointed is None:
        return False
    if name == "std::unique_ptr":
        # the pointer is the first of the tuple's elements that has one: the deleter's
        # element is named _M_head_impl too
        pointer = _find_pointer(_find_member(obj, "_M_t"))
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
    var.value = f"{name}<{_first_argument(base)}>{state} = {reader._summary(var)}"
    return True


def _find_pointer(obj: drgn.Object | None) -> drgn.Object | None:
    """The tuple's first element (`_Head_base<0, pointer>`): a deleter's element is named
    _M_head_impl too, and may be a pointer."""
    return _descend(obj, lambda inner, base: inner.member_("_M_head_impl")
                    if (base.tag or "").startswith("_Head_base<0,") else None, through=(None, "_M_t"))


def _tree(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    tree = _find_member(obj, "_M_t")
    if tree is None:
        return False
    value_type = _argument(tree.type_.unaliased(), 1)      # _Rb_tree<Key, Value, ...>
    implementation = _find_member(tree, "_M_impl")
    header = _find_member(implementation, "_M_header")
    count = _find_member(implementation, "_M_node_count")
    if value_type is None or header is None or count is None or header.address_ is None:
        return False
    prog = reader.prog
    node_bytes = drgn.sizeof(header)            # a node's value follows its links
    root, is_map = header.address_, name.endswith("map")
    count = count.value_()
    shown = _shown(reader, count, drgn.sizeof(value_type), 2 if is_map else 1)

    def values():
        node, seen = prog.read_word(root + 2 * WORD), set()      # _M_left: the first
        while len(seen) < shown and node not in seen and node not in (root, 0):
            seen.add(node)                     # a link back into the tree ends the walk
            yield drgn.Object(prog, value_type, address=node + node_bytes)
            node = _next_node(prog, node)

    _entries(reader, var, name, count, values(), is_map, nesting, hops)
    return True


def _next_node(prog, node: int) -> int:
    """_Rb_tree_increment: the in-order successor (links: color, parent, left, right)."""
    parent, left, right = (WORD, 2 * WORD, 3 * WORD)
    child = prog.read_word(node + right)
    if child:
        node = child
        for _ in range(64):                 # a red-black tree of 2^32 nodes is 64 deep
            child = prog.read_word(node + left)
            if not child:
                break
            node = child
        return node
    up = prog.read_word(node + parent)
    for _ in range(64):
        if node != prog.read_word(up + right):
            break
        node, up = up, prog.read_word(up + parent)
    return up if prog.read_word(node + right) != up else node


def _string(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    character = _argument(base, 0)
    prefix = wide_prefix(character.unaliased()) if character is not None else None
    size = drgn.sizeof(character) if prefix else 1
    if prefix is None and not base.tag.startswith("basic_string<char,") or size not in (1, 2, 4):
        return False
    try:
        pointer = obj.member_("_M_dataplus").member_("_M_p").value_()
        length = obj.member_("_M_string_length").value_()
    except (LookupError, drgn.ObjectAbsentError):
        return False                  # the old (copy-on-write) string: left as it is
    if not isinstance(pointer, int) or not isinstance(length, int) or length < 0:
        return False
    # gdb's printer fetches 200 characters (`print elements`) and shows them with runs
    # folded (an array counts each run as ten of its 200 instead), and drops a final NUL
    # unless the string was cut
    count = min(length, PRINT_ELEMENTS)
    data = reader.prog.read(pointer, count * size) if length else b""
    reader._remember(pointer, min((length + 1) * size, STRING_BYTES))
    if size == 1:
        text = data.decode("latin-1")
    else:
        text = wide_text(struct.unpack(f"<{count}{'H' if size == 2 else 'I'}", data))
        if text is None:
            return False
    if length > count:
        var.value = reader.clean(char_array_literal(text + "\0", prefix or "")) + "..."
    else:
        var.value = reader.clean(char_array_literal(text, prefix or ""))
    return True


def _vector(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
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
    shown = _shown(reader, length, step)
    if is_char(element.unaliased()):
        # an array of chars would be spelled as a string: gdb lists a vector's one by one
        var.children = [reader._convert(f"[{index}]", drgn.Object(reader.prog, element, address=first + index * step),
                                        "element", nesting, hops) for index in range(shown)]
        note = None
    else:
        # the array takes the vector's place in the nesting: its elements are one level down
        array = drgn.Object(reader.prog, reader.prog.array_type(element, shown), address=first)
        elements = reader._convert(var.name, array, "member", nesting + 1, hops)
        var.children, note = elements.children, elements.note
    var.omitted = length - shown
    if note:
        var.value += f" = {{{note}}}"
        var.note = note
    else:
        var.value += " = " + reader._summary(var)
    return True


def _shown(reader, count: int, size: int, per_entry: int = 1) -> int:
    """How many entries are read: gdb's 200 children (a map's entry is two), and no more
    than ELEMENT_BYTES of them (gdb refuses values over 64 KiB)."""
    return max(0, min(count, reader.limits.children // per_entry, max(1, ELEMENT_BYTES // max(1, size))))


def shown_by_printer(var) -> bool:
    """Whether var's value is a printer's (gdb then shows a reference to it as the value
    alone, without `@address:`)."""
    if var.value.startswith(PRINTER_PREFIXES):
        return True
    name = var.type.replace("const ", "").replace("volatile ", "").strip()
    return var.value.lstrip("LuU").startswith('"') and \
        (name in ("string", "wstring", "u16string", "u32string") or name.startswith("basic_string<"))


def _with_elements(name: str, count: int) -> str:
    return f"{name} with {count} element{'' if count == 1 else 's'}"


def _entries(reader, var, name: str, count: int, values, is_map: bool, nesting: int, hops: int) -> None:
    """`NAME with N elements = {[key] = value, ...}` from (node value objects) in order; a
    link that cannot be followed ends the list there, with the error after it."""
    var.value = _with_elements(name, count)
    if count <= 0:
        return
    error = None
    try:
        for index, value in enumerate(values):
            if is_map:
                key = reader._convert("first", value.member_("first"), "member", nesting, hops)
                var.children.append(reader._convert(f"[{key.value}]", value.member_("second"), "member",
                                                    nesting, hops))
            else:
                var.children.append(reader._convert(f"[{index}]", value, "member", nesting, hops))
    except drgn.FaultError as fault:
        error = f"<error: Cannot access memory at address 0x{fault.address:x}>"
    except (OverflowError, ValueError) as problem:      # a link near the end of the address space
        error = f"<error: {problem}>"
    var.omitted = max(0, count - len(var.children))
    if error is not None:
        var.note = error
        var.value += f" = {{{error}}}" if not var.children else " = " + reader._summary(var)[:-1] + f", {error}}}"
        return
    var.value += " = " + reader._summary(var)


def _hash_table(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    table = _find_member(obj, "_M_h")
    if table is None:
        return False
    value_type = _argument(table.type_.unaliased(), 1)     # _Hashtable<Key, Value, ...>
    first = _find_member(table, "_M_before_begin")
    count = _find_member(table, "_M_element_count")
    if value_type is None or first is None or count is None or first.address_ is None:
        return False
    prog, is_map = reader.prog, name.endswith("map")
    shown = _shown(reader, count.value_(), drgn.sizeof(value_type), 2 if is_map else 1)

    def values():
        node, seen = prog.read_word(first.address_), set()       # _M_before_begin._M_nxt
        while len(seen) < shown and node and node not in seen:
            seen.add(node)
            yield drgn.Object(prog, value_type, address=node + WORD)
            node = prog.read_word(node)

    _entries(reader, var, name, count.value_(), values(), is_map, nesting, hops)
    return True


def _list(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    element = _argument(base, 0)
    implementation = _find_member(obj, "_M_impl")
    header = _find_member(implementation, "_M_node")
    if element is None or header is None or header.address_ is None:
        return False
    # the C++11 library keeps the size in the header, and names the type std::__cxx11::list
    name = "std::__cxx11::list" if _find_member(header, "_M_size") is not None else name
    prog, root = reader.prog, header.address_
    links = 2 * WORD                       # _M_next, _M_prev, then the value
    node = prog.read_word(root)
    if node == root:
        var.value = f"empty {name}"
        return True
    index = 0
    limit, seen = _shown(reader, reader.limits.children, drgn.sizeof(element)), set()
    while node != root and node and index < limit and node not in seen:
        seen.add(node)
        var.children.append(reader._convert(f"[{index}]", drgn.Object(prog, element, address=node + links),
                                            "member", nesting, hops))
        node = prog.read_word(node)
        index += 1
    if node != root:
        var.omitted = 1          # more than shown: gdb's `...`
    var.value = f"{name} = {reader._summary(var)}"
    return True


def _deque(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    element = _argument(base, 0)
    implementation = _find_member(obj, "_M_impl")
    start = _find_member(implementation, "_M_start")
    finish = _find_member(implementation, "_M_finish")
    if element is None or start is None or finish is None:
        return False
    size = drgn.sizeof(element)
    cur, first, last, node = (start.member_(name).value_() for name in ("_M_cur", "_M_first", "_M_last", "_M_node"))
    end, end_first, end_node = (finish.member_(name).value_() for name in ("_M_cur", "_M_first", "_M_node"))
    per_buffer = (last - first) // size if size > 0 else 0
    if per_buffer <= 0 or end_node < node or (end_node - node) % WORD or cur < first or end < end_first:
        var.value = var.note = "<error: not a deque>"
        return True
    count = per_buffer * ((end_node - node) // WORD - 1) + (last - cur) // size + (end - end_first) // size
    var.value = _with_elements(name, count)
    if count <= 0:
        return True
    prog = reader.prog
    for index in range(_shown(reader, count, size)):
        if cur == last:
            node += WORD
            cur = prog.read_word(node)
            last = cur + per_buffer * size
        var.children.append(reader._convert(f"[{index}]", drgn.Object(prog, element, address=cur),
                                            "element", nesting, hops))
        cur += size
    var.omitted = count - len(var.children)
    var.value += " = " + reader._summary(var)
    return True


def _optional(reader, var, obj: drgn.Object, base: drgn.Type, name: str, nesting: int, hops: int) -> bool:
    contained = _argument(base, 0)
    payload = _find_member(obj, "_M_payload")
    engaged = _find_member(payload, "_M_engaged")
    storage = _find_member(payload, "_M_payload")
    if contained is None or engaged is None or storage is None:
        return False
    name = f"{name}<{_first_argument(base)}>"
    if not engaged.value_():
        var.value = f"{name} [no contained value]"
        return True
    value = storage.member_("_M_value")
    var.children = [reader._convert("[contained value]", value, "member", nesting, hops)]
    var.value = f"{name} = {reader._summary(var)}"
    return True


# tag prefix, gdb's name, reader: the first prefix that fits wins
_PRINTERS = [
    ("basic_string<", "std::string", _string),
    ("vector<", "std::vector", _vector),
    ("unique_ptr<", "std::unique_ptr", _smart_pointer),
    ("shared_ptr<", "std::shared_ptr", _smart_pointer),
    ("weak_ptr<", "std::weak_ptr", _smart_pointer),
    ("map<", "std::map", _tree),
    ("multimap<", "std::multimap", _tree),
    ("set<", "std::set", _tree),
    ("multiset<", "std::multiset", _tree),
    ("unordered_map<", "std::unordered_map", _hash_table),
    ("unordered_multimap<", "std::unordered_multimap", _hash_table),
    ("unordered_set<", "std::unordered_set", _hash_table),
    ("unordered_multiset<", "std::unordered_multiset", _hash_table),
    ("list<", "std::list", _list),
    ("deque<", "std::deque", _deque),
    ("optional<", "std::optional", _optional),
    ("pair<", "std::pair", _pair),
]
