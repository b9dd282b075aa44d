"""Rust values a crashed program's memory could make up: a slice's length, elements of no
size, an enum whose discriminant names no variant. Printing is bounded and says what it
could not read, as gdb does."""

from __future__ import annotations

import pytest

from hydra.evaluate.session import Session
from hydra.model.crash import Crash, Frame, MapEntry, Process, Thread, Variable
from hydra.model.memory import MemoryRegion
from hydra.model.types import Kind, Member, Type, TypeTable, Variant

HEAP = 0x10000


def session_with(types: list[Type], variable_type: int, raw: bytes, heap: bytes = bytes(64)) -> Session:
    crash = Crash(origin="snapshot")
    crash.process = Process(pid=1, architecture="x86_64")
    crash.types = TypeTable(types)
    crash.memory.add(MemoryRegion(HEAP, len(heap), "object", _data=heap))
    crash.memory_map = [MapEntry(HEAP, HEAP + 0x1000, "rw-p", 0, None)]
    variable = Variable("v", "?", "?", "local", type_id=variable_type, raw=raw)
    frame = Frame(index=0, pc=0x1000, function="f")
    frame.args, frame.locals = [], [variable]
    crash.threads = [Thread(tid=1, crashed=True, frames=[frame])]
    crash.crashed_tid = 1
    return Session(crash)


def slice_types(element: Type) -> list[Type]:
    # 0 usize, 1 the element, 2 *mut element, 3 &[element]
    return [Type(Kind.INT, "usize", 8, signed=False, language="rust"), element,
            Type(Kind.POINTER, None, 8, target=1, language="rust"),
            Type(Kind.STRUCT, "&[T]", 16, language="rust", members=[Member("data_ptr", 2, 0), Member("length", 0, 8)])]


def fat(pointer: int, length: int) -> bytes:
    return pointer.to_bytes(8, "little") + length.to_bytes(8, "little")


def test_a_slice_of_elements_without_size_ends():
    session = session_with(slice_types(Type(Kind.STRUCT, "()", 0, language="rust")), 3, fat(HEAP, 1 << 60))
    assert session.print("v") == "$1 = &[T] [() <repeats 1152921504606846976 times>]"


def test_a_slice_longer_than_gdb_reads_is_refused_as_gdb_refuses_it():
    session = session_with(slice_types(Type(Kind.INT, "u64", 8, signed=False, language="rust")), 3, fat(HEAP, 1 << 60))
    assert "more than max-value-size" in session.print("v")


def test_a_slice_where_nothing_is_mapped_says_so():
    session = session_with(slice_types(Type(Kind.INT, "u64", 8, signed=False, language="rust")), 3, fat(0x90000, 2))
    assert session.print("v") == "$1 = <error: Cannot access memory at address 0x90000>"


@pytest.mark.parametrize("tag, shown", [(200, "E::Big"), (1, "E::Small(7)"), (5, "E::<unknown variant>")])
def test_an_enum_is_its_variant(tag, shown):
    types = [Type(Kind.INT, "u16", 2, signed=False, language="rust"),
             Type(Kind.STRUCT, "E::Big", 4, language="rust"),
             Type(Kind.STRUCT, "E::Small", 4, language="rust", members=[Member("__0", 0, 2)]),
             Type(Kind.STRUCT, "E", 4, language="rust", discriminant=Member(None, 0, 0, artificial=True),
                  variants=[Variant(200, Member("Big", 1, 0)), Variant(1, Member("Small", 2, 0))])]
    session = session_with(types, 3, tag.to_bytes(2, "little") + (7).to_bytes(2, "little"))
    assert session.print("v") == f"$1 = {shown}"
