"""Captured memory: regions of bytes addressed by the crashed process's addresses.

A region's bytes may be held directly or produced on demand by a loader, so a
snapshot can be opened without decompressing memory nobody looks at.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from hydra.model.record import field, record

# what memory a snapshot keeps: stacks, objects in reach and the program's globals
# (default); and every heap mapping (heap); and every writable mapping (all)
MEMORY_CHOICES = ("default", "heap", "all")


@record
class MemoryRegion:
    start: int
    size: int
    kind: str = "data"          # stack, code, object, global, data
    _data: bytes | None = field(default=None, repr=False)
    _loader: Callable[[], bytes] | None = field(default=None, repr=False)

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def data(self) -> bytes:
        if self._data is None:
            loaded = self._loader() if self._loader else b""
            # A corrupt snapshot's region may hold fewer bytes than it declares: it shrinks
            # to them (padding would let a small file claim gigabytes of zeros).
            self._data = loaded[: self.size]
            self.size = len(self._data)
        return self._data


class Memory:
    """Non-overlapping regions sorted by address; reads never span a hole."""

    def __init__(self, regions: list[MemoryRegion] | None = None):
        self.regions: list[MemoryRegion] = []
        self._starts: list[int] = []
        for region in regions or []:
            self.add(region)

    def add(self, region: MemoryRegion) -> None:
        if region.size <= 0:
            return
        index = bisect.bisect_left(self._starts, region.start)
        self.regions.insert(index, region)
        self._starts.insert(index, region.start)

    def overlaps(self, start: int, end: int) -> bool:
        """Whether any region holds a byte of [start, end)."""
        index = bisect.bisect_left(self._starts, end)
        return index > 0 and self.regions[index - 1].end > start

    def region_at(self, address: int) -> MemoryRegion | None:
        index = bisect.bisect_right(self._starts, address) - 1
        if index >= 0:
            region = self.regions[index]
            if region.start <= address < region.end:
                return region
        return None

    def read(self, address: int, size: int) -> bytes | None:
        """The bytes at [address, address+size), or None when any of them were not captured."""
        if size < 0:
            return None
        if size == 0:
            return b""
        out = bytearray()
        cursor = address
        while cursor < address + size:
            region = self.region_at(cursor)
            if region is None:
                return None
            take = min(region.end, address + size) - cursor
            offset = cursor - region.start
            chunk = region.data[offset : offset + take]
            if len(chunk) < take:           # the region shrank to the bytes it really holds
                return None
            out += chunk
            cursor += take
        return bytes(out)

    def read_partial(self, address: int, size: int) -> list[int | None]:
        """Byte values for a hex view: None where memory was not captured."""
        values: list[int | None] = []
        cursor = address
        end = address + size
        while cursor < end:
            region = self.region_at(cursor)
            if region is None:
                following = bisect.bisect_right(self._starts, cursor)
                stop = self._starts[following] if following < len(self._starts) else end
                stop = min(stop, end)
                values.extend([None] * (stop - cursor))
                cursor = stop
                continue
            take = min(region.end, end) - cursor
            offset = cursor - region.start
            chunk = region.data[offset : offset + take]
            values.extend(chunk)
            values.extend([None] * (take - len(chunk)))
            cursor += take
        return values

    def read_c_string(self, address: int, limit: int = 4096) -> bytes | None:
        """The NUL-terminated bytes at address (at most limit), or None if unreadable."""
        out = bytearray()
        cursor = address
        while len(out) < limit:
            region = self.region_at(cursor)
            if region is None:
                break
            offset = cursor - region.start
            chunk = region.data[offset : offset + limit - len(out)]
            if not chunk:
                break
            nul = chunk.find(b"\0")
            if nul >= 0:
                return bytes(out + chunk[:nul])
            out += chunk
            cursor += len(chunk)
        return bytes(out) if out else None
