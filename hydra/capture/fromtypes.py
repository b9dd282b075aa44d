"""Values drgn cannot build, read again from the snapshot's own types and memory.

drgn 0.3 knows no DW_TAG_ptr_to_member_type: a pointer to a member, and any union or class
that holds one (std::function's `_M_unused`), is an error where gdb prints `&Class::member`,
`NULL` or `(long (C::*)(C * const)) 0x... <C::f()>`; and drgn finds no scope in Rust's
functions (nested in namespaces), so their variables are missing. The snapshot's type table
reads them (symbols/dwarftypes.py), so once it and the kept memory are in the crash, such a
member of a variable with an address is printed again by the expression evaluator, as
`hydra print` prints it; so is such a variable itself when it lives in memory at an address
its DWARF gives (the frame base, a register, memory: `computed_address`), or is held in the
frame's registers or as a constant, whole or in pieces (rustc's optimized code: `held_bytes`).
Its text replaces the error; it has no children of its own.
"""

from __future__ import annotations

from hydra.model.crash import MAX_RAW_BYTES, OPTIMIZED_OUT, UNREADABLE, Crash, Variable
from hydra.symbols.dwarf import (DW_OP_breg0, DW_OP_breg31, DW_OP_call_frame_cfa, DW_OP_deref, DW_OP_dup, DW_OP_lit0,
                                 DW_OP_lit31, DW_OP_minus, DW_OP_plus, DW_OP_plus_uconst, PIECE_CONSTANT,
                                 PIECE_REGISTER)

UNKNOWN_TAG = "unknown DWARF type tag 0x1f"      # drgn's words for DW_TAG_ptr_to_member_type
NOT_READ = "<not read>"                          # a variable drgn did not find, placed by its DWARF
MAX_VALUES = 256                                 # values read again in one capture
MAX_CORE_BYTES = 1 << 20                         # what they read of the core beyond the kept memory


def read_again(crash: Crash, variables: list[Variable], read_core=None) -> list[tuple[int, int]]:
    """variables: the frames' variables that hold what drgn could not build. With
    read_core(address, size) -> bytes | None, what the snapshot's memory does not hold is
    read from the core (at most MAX_CORE_BYTES): the (address, size) ranges so read are
    returned, for the snapshot to keep."""
    wanted = {id(variable) for variable in variables}
    read: list[tuple[int, int]] = []
    if not wanted:
        return read
    session = None
    done = 0
    for thread in crash.threads:
        for frame in thread.frames:
            for top in frame.args + frame.locals:
                if id(top) not in wanted:
                    continue
                if top.note == OPTIMIZED_OUT:         # placed nowhere at its pc: only its type is known
                    if top.type_id is not None:
                        session = session or _session(crash, read_core, read)
                        top.type = _type_name(session, top.type_id)
                    continue
                if (top.address is None and top.raw is None) or top.type_id is None:
                    if top.note == NOT_READ:          # placed where its frame has no register
                        top.value = top.note = UNREADABLE
                    continue
                failed = [(top, top.name)] if top.note and (UNKNOWN_TAG in top.note or top.note == NOT_READ) \
                    else _failed(top, top.name)
                for node, expression in failed:
                    if done >= MAX_VALUES:
                        return read
                    done += 1
                    session = session or _session(crash, read_core, read)
                    session.select(thread, frame)
                    text = _printed(session, expression)
                    if text is None and node.note == NOT_READ:
                        node.value = node.note = UNREADABLE
                    if text is not None:
                        node.value, node.note, node.children = text, None, []
                        if node is top:
                            top.type = _type_name(session, top.type_id)
                            if read_core is not None and _points(session, top.type_id):
                                # what a Rust reference leads to is kept too, as capture keeps a
                                # C pointer's target: `print *s` asks the snapshot later
                                _printed(session, f"*{expression}")
    return read


def held_bytes(pieces: list[tuple[int, int, int]], registers: dict[str, int],
               names: list[str]) -> tuple[bytes | None, list[tuple[int, int]]]:
    """The bytes of a value held in registers or as constants (dwarf.FunctionScope.held),
    with the [start, end) ranges of them that are optimized out: an empty piece, or a
    register the frame does not have (a caller's frame keeps only the registers its callees
    save). None when no byte of it is known. Bytes of the value past its pieces are nowhere
    too: the evaluator counts them optimized out."""
    data = bytearray()
    missing: list[tuple[int, int]] = []
    if sum(size for _, _, size in pieces) > MAX_RAW_BYTES or any(size < 0 for _, _, size in pieces):
        return None, []
    for kind, number, size in pieces:
        part = None
        if kind == PIECE_REGISTER:
            value = registers.get(names[number]) if 0 <= number < len(names) else None
            if value is not None and value >= 0:
                width = size or (16 if value >> 64 else 8)
                part = value.to_bytes(max(width, (value.bit_length() + 7) // 8), "little")[:width]
        elif kind == PIECE_CONSTANT:
            width = size or 8
            part = (number % (1 << 64)).to_bytes(max(width, 8), "little")[:width]
        if part is None:
            width = size or 8
            missing.append((len(data), len(data) + width))
            part = bytes(width)
        data += part
    if sum(end - start for start, end in missing) >= len(data):
        return None, []
    return bytes(data), missing


def computed_address(steps: list[tuple[int, int]], registers: dict[str, int], names: list[str], cfa: int | None,
                     read) -> int | None:
    """The address a location's operations compute (dwarf.FunctionScope.computed) from the
    frame's registers, its CFA and memory (read(address, size) -> bytes or None); None when
    a register, the CFA or memory it needs is not there."""
    stack: list[int] = []
    mask = (1 << 64) - 1
    for atom, number in steps:
        if DW_OP_breg0 <= atom <= DW_OP_breg31:
            index = atom - DW_OP_breg0
            value = registers.get(names[index]) if index < len(names) else None
            if value is None:
                return None
            stack.append((value + number) & mask)
        elif atom == DW_OP_call_frame_cfa:
            if cfa is None:
                return None
            stack.append(cfa)
        elif DW_OP_lit0 <= atom <= DW_OP_lit31:
            stack.append(atom - DW_OP_lit0)
        elif atom in (DW_OP_deref, DW_OP_plus_uconst, DW_OP_dup, DW_OP_plus, DW_OP_minus) and not stack:
            return None
        elif atom == DW_OP_deref:
            data = read(stack.pop(), 8)
            if data is None:
                return None
            stack.append(int.from_bytes(data, "little"))
        elif atom == DW_OP_plus_uconst:
            stack.append((stack.pop() + number) & mask)
        elif atom == DW_OP_dup:
            stack.append(stack[-1])
        elif atom in (DW_OP_plus, DW_OP_minus):
            if len(stack) < 2:
                return None
            right, left = stack.pop(), stack.pop()
            stack.append((left + right if atom == DW_OP_plus else left - right) & mask)
        else:                                   # a constant
            stack.append(number & mask)
    return stack[-1] if stack else None


def _points(session, type_id: int) -> bool:
    from hydra.model.types import Kind

    type_ = session.table.get(session.table.strip_typedefs(type_id))
    return type_ is not None and (type_.kind == Kind.POINTER or type_.kind in Kind.REFERENCES)


def _session(crash: Crash, read_core=None, read: list | None = None):
    from hydra.evaluate.session import Session

    session = Session(crash)
    if read_core is not None:
        session.memory = _core_behind(crash, read_core, read)
    return session


def _core_behind(crash: Crash, read_core, read: list):
    """The snapshot's memory, and the core's behind it for what that does not hold yet (the
    evaluator's Memory, imported only when a value is read again)."""
    from hydra.evaluate.values import Memory, Unavailable

    class CoreBehind(Memory):
        def __init__(self):
            super().__init__(crash)
            self.spent = 0
            self.chunks: list[tuple[int, bytes]] = []   # what was read of the core, newest last

        def read(self, address: int, size: int) -> bytes:
            try:
                return super().read(address, size)
            except Unavailable:
                for start, data in reversed(self.chunks[-64:]):     # a slice's elements, one by one
                    if start <= address and address + size <= start + len(data):
                        return data[address - start:address - start + size]
                if 0 < size and self.spent + size <= MAX_CORE_BYTES:
                    data = read_core(address, size)
                    if data is not None and len(data) == size:
                        self.spent += size
                        read.append((address, size))
                        self.chunks.append((address, data))
                        return data
                raise

    return CoreBehind()


def _type_name(session, type_id: int) -> str:
    from hydra.evaluate.typenames import type_name

    return type_name(session.table, type_id)


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
