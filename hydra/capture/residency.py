"""Handing back the pages of debug files drgn has finished reading, while a capture runs.

drgn maps every debug file whole (privately, which is what lets `cplusplus` re-tag
abbreviations) and reads nearly all of .debug_info and much of .debug_str while it indexes.
Each page it touches stays in the process's resident set, and when the page cache holds
the file in large folios (after gdb or a copy has read it) the kernel maps a whole folio for
any byte read: on large_cpp 676 MB of a 910 MB peak was that one mapping, read once.

Unmapping those pages (MADV_DONTNEED) leaves them in the page cache, where the next read of
any of them finds them; a page drgn reads again faults back in with the same bytes, since
the file is never written. Pages written in the mapping are private copies that unmapping
would throw away: the re-tagged abbreviations and the ELF and section headers (libelf
rewrites a section's header when it inflates it) are kept, and a file with compressed
sections or one drgn relocates is left alone. Only mappings of files
drgn has accepted are touched, when the file is mapped once: those stay mapped for the
program's life, so an address released is never one that something else has mapped since.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterable

from hydra.symbols.elffile import SHF_COMPRESSED, section_table

MADV_DONTNEED = 4
ET_EXEC, ET_DYN = 2, 3
PAGE = os.sysconf("SC_PAGESIZE") if hasattr(os, "sysconf") else 4096
# a small file's pages are few: releasing them would cost refaults and a thread for nothing
MIN_BYTES = 32 << 20
INTERVAL = 0.02      # drgn's indexing maps about 1 GB/s: 20 ms keeps a few tens of MB


def private_mappings(paths: Iterable[str]) -> dict[str, list[tuple[int, int, int]]]:
    """(start, end, file offset) of this process's private writable mappings of each path."""
    wanted = {}
    for path in paths:
        wanted.setdefault(os.path.realpath(path), []).append(path)
    found: dict[str, list[tuple[int, int, int]]] = {path: [] for names in wanted.values() for path in names}
    if not wanted:
        return found
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            lines = maps.readlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or fields[5].rstrip("\n") not in wanted:
            continue
        permissions = fields[1]
        # written pages of a private mapping are copies: the file never changes
        if not (permissions.startswith("rw") and permissions.endswith("p")):
            continue
        start, end = (int(part, 16) for part in fields[0].split("-"))
        for path in wanted[fields[5].rstrip("\n")]:
            found[path].append((start, end, int(fields[2], 16)))
    return found


def _madvise():
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise     # libc's, already loaded
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


class MappedDebugFiles:
    """drgn's mappings of the given debug files, minus the pages holding written addresses."""

    def __init__(self, paths: Iterable[str], written: Iterable[int] = (), min_bytes: int | None = None):
        smallest = MIN_BYTES if min_bytes is None else min_bytes
        written = {address - address % PAGE for address in written}
        self.ranges: list[tuple[int, int]] = []
        large = []
        for path in dict.fromkeys(paths):
            try:
                if os.stat(path).st_size >= smallest:
                    large.append(path)
            except OSError:
                pass
        mapped = private_mappings(large)
        for path in large:
            table = section_table(path)
            # libelf writes the headers of the sections it inflates, and drgn relocates a
            # relocatable file in place: pages of theirs that are copies are not known here
            if table is None or table.file_type not in (ET_EXEC, ET_DYN) or \
                    any(section.flags & SHF_COMPRESSED for section in table.sections.values()):
                continue
            mappings = mapped[path]
            if len(mappings) != 1:
                # one is drgn's file object; a second may be a candidate it frees later
                continue
            for start, end, offset in mappings:
                first = start - offset + table.offset
                headers = range(first - first % PAGE, first + table.size, PAGE)
                kept = written | {start - offset} | set(headers)     # the ELF header too
                self.ranges.extend(_without(start, end, sorted(kept)))
        self._madvise = _madvise() if self.ranges else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def release(self) -> None:
        """Unmap every page of the mappings but the written ones."""
        if self._madvise is None:
            return
        for start, end in self.ranges:
            self._madvise(start, end - start, MADV_DONTNEED)

    def start(self, interval: float = INTERVAL) -> None:
        """Release again every interval until stop(): drgn reads with the interpreter lock
        released while it loads and indexes, so a thread gets to run meanwhile."""
        if self._madvise is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="hydra-release",
                                        daemon=True)
        self._thread.start()

    def restart_after_fork(self) -> None:
        """In a forked copy: the thread did not come along."""
        if self._thread is not None:
            self._thread = None
            self._stop = threading.Event()
            self.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.release()


def _without(start: int, end: int, kept: list[int]) -> list[tuple[int, int]]:
    """[start, end) split around the kept pages."""
    pieces = []
    for page in kept:
        if page + PAGE <= start or page >= end:
            continue
        if page > start:
            pieces.append((start, page))
        start = page + PAGE
    if start < end:
        pieces.append((start, end))
    return pieces
