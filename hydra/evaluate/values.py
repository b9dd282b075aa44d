"""Values an expression computes: a type (an index in the session's type table) and where
the bytes are: in the snapshot's memory at an address (an lvalue), held as bytes (a
register, a literal, a result), or not there at all (optimized out, not captured)."""

from __future__ import annotations

import struct

from hydra.evaluate.errors import EvalError, cannot_access
from hydra.model.gdbstyle import MAX_VALUE_SIZE
from hydra.model.record import record
from hydra.model.types import Kind, Type, TypeTable


class Unavailable(EvalError):
    """Bytes the snapshot did not keep (gdb's `<unavailable>`)."""

    def __init__(self, address: int | None = None):
        super().__init__("value is not available")
        self.address = address


@record
class Value:
    type: int
    address: int | None = None       # an lvalue in memory
    data: bytes | None = None        # its bytes, when known (read from memory when first asked)
    bit_size: int = 0                # a bit-field: `bit_size` bits from bit `bit_offset` of data
    bit_offset: int = 0
    register: str | None = None      # a register's value ($rax): not in memory
    optimized_out: bool = False
    text: str | None = None          # a captured value without a type: only printed, as captured
    lazy_missing: bool = False       # address known but bytes not kept: `<unavailable>` when read
    missing: tuple = ()              # [start, end) ranges of data optimized out (a value in pieces)


class Memory:
    """Reads of the snapshot's memory for values: bytes, `<unavailable>` for what it did not
    keep, gdb's `Cannot access memory` for what the process had not mapped."""

    def __init__(self, crash):
        self.crash = crash

    def mapped(self, address: int) -> bool:
        if not self.crash.memory_map:
            return True          # nothing says what was mapped (a minidump): do not say it was not
        return self.crash.map_entry_at(address) is not None or \
            self.crash.memory.region_at(address) is not None

    def read(self, address: int, size: int) -> bytes:
        if size < 0 or size > MAX_VALUE_SIZE:
            raise EvalError(f"value requires {size} bytes, which is more than max-value-size")
        if address < 0 or address + size > 1 << 64:
            raise cannot_access(address & ((1 << 64) - 1))
        if size == 0:
            return b""
        data = self.crash.memory.read(address, size)
        if data is not None:
            return data
        if not self.mapped(address):
            raise cannot_access(address)
        raise Unavailable(address)

    def read_partial(self, address: int, size: int) -> list[int | None]:
        return self.crash.memory.read_partial(address, min(size, MAX_VALUE_SIZE))


def unqualified(table: TypeTable, index: int) -> Type:
    """The type through typedefs."""
    resolved = table.strip_typedefs(index)
    type_ = table.get(resolved)
    if type_ is None:
        raise EvalError("Cannot resolve the type of this value.")
    return type_


def resolved_index(table: TypeTable, index: int) -> int:
    resolved = table.strip_typedefs(index)
    return index if resolved is None else resolved


def value_bytes(value: Value, table: TypeTable, memory: Memory) -> bytes:
    if value.optimized_out or value.missing:
        raise EvalError("value has been optimized out")
    if value.address is None and value.data is None and value.text is None:
        raise EvalError("value is not available")
    if value.text is not None and value.data is None:
        raise EvalError("This value was captured as text only: it has no type to compute with.")
    if value.data is None:
        size = unqualified(table, value.type).size
        if size is None:
            raise EvalError("Attempt to use a value of incomplete type.")
        if value.address is None:
            raise EvalError("value is not available")
        value.data = memory.read(value.address, size)
    return value.data


def to_int(value: Value, table: TypeTable, memory: Memory) -> int:
    """A scalar's value as a Python int (pointers, enums, bools, chars, bit-fields)."""
    type_ = unqualified(table, value.type)
    data = value_bytes(value, table, memory)
    if type_.kind == Kind.FLOAT:
        return int(to_float(value, table, memory))
    if type_.kind not in (Kind.INT, Kind.BOOL, Kind.ENUM, Kind.POINTER, Kind.MEMBER_POINTER) and \
            type_.kind not in Kind.REFERENCES:
        raise EvalError("Value can't be converted to integer.")
    signed = type_.signed and type_.kind in (Kind.INT, Kind.ENUM)
    if value.bit_size:
        raw = int.from_bytes(data, "little") >> value.bit_offset
        raw &= (1 << value.bit_size) - 1
        if signed and raw >> (value.bit_size - 1):
            raw -= 1 << value.bit_size
        return raw
    return int.from_bytes(data[:type_.size or len(data)], "little", signed=signed)


def to_float(value: Value, table: TypeTable, memory: Memory) -> float:
    type_ = unqualified(table, value.type)
    if type_.kind != Kind.FLOAT:
        return float(to_int(value, table, memory))
    data = value_bytes(value, table, memory)
    if type_.size == 4:
        return struct.unpack("<f", data[:4])[0]
    if type_.size == 8:
        return struct.unpack("<d", data[:8])[0]
    return _x87_to_float(data)


def _x87_to_float(data: bytes) -> float:
    """A long double (x87's 80 bits) as a double, for arithmetic."""
    if len(data) < 10:
        return 0.0
    mantissa = int.from_bytes(data[:8], "little")
    exponent_sign = int.from_bytes(data[8:10], "little")
    sign = -1.0 if exponent_sign >> 15 else 1.0
    exponent = exponent_sign & 0x7FFF
    if exponent == 0x7FFF:
        return sign * float("inf") if mantissa << 1 == 0 else float("nan")
    if exponent == 0 and mantissa == 0:
        return sign * 0.0
    try:
        return sign * mantissa * 2.0 ** (exponent - 16383 - 63)
    except OverflowError:
        return sign * float("inf")


def from_int(number: int, type_index: int, table: TypeTable) -> Value:
    type_ = unqualified(table, type_index)
    size = type_.size or 8
    number &= (1 << (8 * size)) - 1
    return Value(type_index, data=number.to_bytes(size, "little"))


def from_float(number: float, type_index: int, table: TypeTable) -> Value:
    type_ = unqualified(table, type_index)
    if type_.size == 4:
        try:
            return Value(type_index, data=struct.pack("<f", number))
        except OverflowError:
            return Value(type_index, data=struct.pack("<f", float("inf") if number > 0 else float("-inf")))
    if type_.size == 8:
        return Value(type_index, data=struct.pack("<d", number))
    return Value(type_index, data=_float_to_x87(number, type_.size or 16))


def _float_to_x87(number: float, size: int) -> bytes:
    import math

    if number != number:
        return (0xC000000000000000).to_bytes(8, "little") + (0x7FFF).to_bytes(2, "little") + bytes(size - 10)
    sign = 0x8000 if math.copysign(1.0, number) < 0 else 0
    number = abs(number)
    if number == 0:
        return bytes(8) + sign.to_bytes(2, "little") + bytes(size - 10)
    if math.isinf(number):
        return (1 << 63).to_bytes(8, "little") + (sign | 0x7FFF).to_bytes(2, "little") + bytes(size - 10)
    mantissa, exponent = math.frexp(number)           # number = mantissa * 2**exponent, 0.5 <= m < 1
    bits = int(mantissa * (1 << 64))
    return bits.to_bytes(8, "little") + (sign | (exponent - 1 + 16383)).to_bytes(2, "little") + bytes(size - 10)
