"""Breakpad `.sym` files, parsed once into an indexed cache that later opens read lazily.

The cache is one file: sorted address arrays (read in place through a memory map, searched
by bisection) and records, one per FUNC, PUBLIC, STACK CFI or STACK WIN entry, that are
decoded only when an address falls in them. So a second open costs a few page reads,
whatever the size of the `.sym` file.

Records are written with marshal: Python's own, always loaded, where msgpack's import
(with datetime) cost every open of a minidump 2 ms, a tenth of a small one's `bt`. A cache
is read only when no one else can have written it (files.open_private).
"""

from __future__ import annotations

import bisect
import marshal
import mmap
import os
import struct

from hydra.config import cache_dir
from hydra.model.digest import sha256_hex
from hydra.model.files import CACHE_ERRORS, MARSHAL_VERSION, atomic_output, make_private_folders, open_private
from hydra.model.record import record

CACHE_MAGIC = b"HYDRASYM"
CACHE_VERSION = 8
SECTIONS = ("func", "public", "cfi", "win4", "win0", "file", "origin")
MAX_LINE = 1 << 20            # longer lines are hostile or broken; skipped
ADDRESS_END = (1 << 64) - 1
NESTED_LOOKBACK = 64          # STACK WIN ranges nest: how far back an enclosing range is looked for
MAX_INLINE_DEPTH = 64         # inline frames at one address; deeper chains are hostile
MAX_CFI_DELTAS = 4096         # STACK CFI rows after one INIT; more are hostile
REMEMBERED_ADDRESSES = 1 << 16


@record
class SymbolFrame:
    """One (possibly inlined) function at an address, innermost first."""

    function: str
    function_base: int
    file: str | None
    line: int | None
    line_base: int | None
    inline: bool


@record
class WindowsFrameInfo:
    type: int
    prologue: int
    epilogue: int
    parameter_size: int
    saved_register_size: int
    local_size: int
    max_stack_size: int
    allocates_base_pointer: bool
    program: str


# a record's shape in each section, as the builder writes it (a damaged cache may hold anything)
_SHAPES = {"func": (int, int, int, str, list, list), "public": (int, str, int), "cfi": (int, str, list)}


def _well_formed(section: str, record) -> bool:
    if section in ("file", "origin"):
        return isinstance(record, str)
    if section.startswith("win"):
        return isinstance(record, list) and len(record) == 9
    shape = _SHAPES[section]
    return isinstance(record, list) and len(record) == len(shape) and all(
        isinstance(value, kind) for value, kind in zip(record, shape))


class SymbolFile:
    """A `.sym` file's content as read from its cache."""

    def __init__(self, path: str, root: str | None = None):
        """The cache at path, in folders private up to root (see files.open_private)."""
        fd = open_private(path, root or os.path.dirname(os.path.abspath(path)))
        try:
            self._map = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        self.path = path
        if self._map[:8] != CACHE_MAGIC:
            raise ValueError("not a symbol cache")
        version, meta_offset, meta_size = struct.unpack_from("<IQQ", self._map, 8)
        if version != CACHE_VERSION or meta_offset + meta_size > len(self._map):
            raise ValueError("symbol cache of another version")
        meta = marshal.loads(self._map[meta_offset : meta_offset + meta_size])
        if not all(isinstance(meta[key], (str, type(None))) for key in ("module", "debug_id", "os", "arch")) \
                or not isinstance(meta["warnings"], list) or not all(isinstance(w, str) for w in meta["warnings"]):
            raise ValueError("a damaged symbol cache")
        self.module = meta["module"]
        self.debug_id = meta["debug_id"]
        self.os = meta["os"]
        self.arch = meta["arch"]
        self.old_inline = meta["old_inline"] is True
        self.warnings: list[str] = meta["warnings"]
        self._sections = {}
        for name in SECTIONS:
            offset, count = meta["sections"][name]
            if not (isinstance(offset, int) and isinstance(count, int) and 0 <= offset
                    and 0 <= count and offset + 32 * count <= len(self._map)):
                raise ValueError("a damaged symbol cache")
            starts = memoryview(self._map)[offset : offset + 8 * count].cast("Q")
            rows = memoryview(self._map)[offset + 8 * count : offset + 32 * count].cast("Q")
            self._sections[name] = (starts, rows)
        self.has_functions = bool(len(self._sections["func"][0]) or len(self._sections["public"][0]))
        self._decoded: dict[tuple[str, int], object] = {}
        self._indexes: dict[int, tuple[list[int], list]] = {}     # id of a FUNC record -> _index
        self._symbolized: dict[int, list[SymbolFrame]] = {}
        self._rules: dict[int, str | None] = {}

    def _find(self, section: str, address: int, contained: bool = True):
        starts, rows = self._sections[section]
        index = bisect.bisect_right(starts, address) - 1
        if index < 0:
            return None
        if not contained:
            return self._record(section, index)
        # STACK WIN ranges nest (Breakpad keeps them in a ContainedRangeMap): the innermost
        # range holding the address is the nearest one at or before it that reaches past it
        lookback = NESTED_LOOKBACK if section.startswith("win") else 1
        for candidate in range(index, max(-1, index - lookback), -1):
            if address < rows[3 * candidate]:
                return self._record(section, candidate)
        return None

    def _record(self, section: str, index: int):
        key = (section, index)
        if key not in self._decoded:
            _starts, rows = self._sections[section]
            offset, size = rows[3 * index + 1], rows[3 * index + 2]
            try:
                record = marshal.loads(self._map[offset : offset + size])
            except CACHE_ERRORS:
                record = None       # a damaged cache: this record is lost, the rest still serves
            if not _well_formed(section, record):
                record = None
            self._decoded[key] = record
        return self._decoded[key]

    def _exact(self, section: str, key: int):
        starts, _rows = self._sections[section]
        index = bisect.bisect_left(starts, key)
        if index < len(starts) and starts[index] == key:
            return self._record(section, index)
        return None

    def file_name(self, number: int) -> str | None:
        return self._exact("file", number)

    def origin_name(self, number: int) -> str:
        name = self._exact("origin", number) or "<name omitted>"
        if self.old_inline:
            head, _, rest = name.partition(" ")
            if head.isdigit() and rest:
                return rest
        return name

    def symbolize(self, address: int) -> list[SymbolFrame]:
        """The function (and the functions inlined into it) at a module-relative address."""
        known = self._symbolized.get(address)
        if known is None:
            try:
                known = self._symbolize(address)
            except (TypeError, ValueError, IndexError):
                known = []          # a damaged cache record: no symbol here
            if len(self._symbolized) < REMEMBERED_ADDRESSES:    # a stack scan asks again and again
                self._symbolized[address] = known
        return known

    def _symbolize(self, address: int) -> list[SymbolFrame]:
        func = self._find("func", address)
        if func is not None and (len(func) != 6 or not isinstance(func[4], list) or not isinstance(func[5], list)):
            func = None
        if func is None:
            public = self._find("public", address, contained=False)
            starts, _rows = self._sections["func"]
            below = bisect.bisect_right(starts, address) - 1
            # a PUBLIC symbol ends where the next function begins
            if public is None or (below >= 0 and public[0] <= starts[below]):
                return []
            return [SymbolFrame(public[1], public[0], None, None, None, False)]
        base, _size, _params, name, lines, _inlines = func
        file = line = line_base = None
        starts, inline_index = self._index(func)
        at = 4 * (bisect.bisect_right(starts, address) - 1)
        if at >= 0 and lines[at] <= address < lines[at] + lines[at + 1]:
            line_base, line, file = lines[at], lines[at + 2], self.file_name(lines[at + 3])
        chain = []      # (depth, call_line, call_file, origin, range start), outermost first
        for depth, starts, entries in inline_index:
            at = bisect.bisect_right(starts, address) - 1
            if at >= 0 and address < entries[at][1]:
                chain.append((depth, *entries[at][2:], entries[at][0]))
        frames: list[SymbolFrame] = []
        current_file, current_line, current_base = file, line, line_base
        for depth, call_line, call_file, origin, start in reversed(chain):
            frames.append(SymbolFrame(self.origin_name(origin), start, current_file, current_line,
                                      current_base, True))
            if call_file is not None:
                current_file = self.file_name(call_file)
            current_line, current_base = call_line, None
        frames.append(SymbolFrame(name, base, current_file, current_line, current_base, False))
        if not all(isinstance(frame.function_base, int) and isinstance(frame.line, (int, type(None)))
                   and isinstance(frame.line_base, (int, type(None))) for frame in frames):
            return []               # numbers a damaged cache record made something else
        return frames

    def _index(self, func: list) -> tuple[list[int], list]:
        """Built once per FUNC, for bisection: the starts of its line records (sorted when
        the cache was built), and its inline ranges by depth (the 64 shallowest), each
        depth's sorted by start. Ranges of one depth do not overlap in a sound file; where
        they do, the one starting first is kept."""
        index = self._indexes.get(id(func))
        if index is None:
            by_depth: dict[int, list] = {}
            for depth, call_line, call_file, origin, ranges in func[5]:
                for at in range(0, len(ranges) - 1, 2):
                    by_depth.setdefault(depth, []).append(
                        (ranges[at], ranges[at] + ranges[at + 1], call_line, call_file, origin))
            inlines = []
            for depth in sorted(by_depth)[:MAX_INLINE_DEPTH]:
                kept: list = []
                for entry in sorted(by_depth[depth], key=lambda e: e[0]):
                    if not kept or entry[0] >= kept[-1][1]:
                        kept.append(entry)
                inlines.append((depth, [entry[0] for entry in kept], kept))
            index = self._indexes[id(func)] = (func[4][0::4], inlines)
        return index

    def parameter_size(self, address: int) -> int | None:
        try:
            func = self._find("func", address)
        except (TypeError, ValueError, IndexError):
            return None
        return func[2] if func is not None and isinstance(func[2], int) else None

    def cfi_rules(self, address: int) -> str | None:
        """The STACK CFI rules in force at address: the INIT rules overlaid by the deltas
        (the same text object for the same address, so callers may remember by it)."""
        if address in self._rules:
            return self._rules[address]
        try:
            rules = self._cfi_rules(address)
        except (TypeError, ValueError, IndexError):
            rules = None            # a damaged cache record
        if len(self._rules) < REMEMBERED_ADDRESSES:
            self._rules[address] = rules
        return rules

    def _cfi_rules(self, address: int) -> str | None:
        record = self._find("cfi", address)
        if record is None or not isinstance(record[1], str):
            return None
        deltas = record[2]          # address, rules, ... in ascending address order (as built)
        count = bisect.bisect_right(deltas[0::2], address)
        return " ".join([record[1], *deltas[1:2 * count:2]])

    def windows_frame_info(self, address: int) -> WindowsFrameInfo | None:
        try:
            for section in ("win4", "win0"):
                record = self._find(section, address)
                if record is not None and len(record) == 9 and all(isinstance(v, int) for v in record[:7]) \
                        and isinstance(record[8], str):
                    return WindowsFrameInfo(*record)
        except (TypeError, ValueError, IndexError):
            pass                    # a damaged cache record
        return None

    def close(self) -> None:
        self._sections.clear()
        self._map.close()


# ---------------------------------------------------------------------------- building


def _hex(text: str) -> int:
    value = int(text, 16)
    if value < 0 or value >> 64:
        raise ValueError("number out of range")
    return value


def _number(text: str) -> int:
    value = int(text)
    if value < 0 or value >> 64:
        raise ValueError("number out of range")
    return value


class _Builder:
    def __init__(self, out):
        self.out = out
        self.rows: dict[str, list[tuple[int, int, int, int]]] = {name: [] for name in SECTIONS}
        self.func = None
        self.cfi = None
        self.warnings: list[str] = []
        self.bad_lines = 0
        self.module = {"os": None, "arch": None, "debug_id": None, "module": None}
        self.inline_formats = set()

    def record(self, section: str, start: int, end: int, value) -> None:
        end = min(end, ADDRESS_END)          # a range may not run past the address space
        blob = marshal.dumps(value, MARSHAL_VERSION)
        offset = self.out.tell()
        self.out.write(blob)
        self.rows[section].append((start, end, offset, len(blob)))

    def end_func(self) -> None:
        if self.func is not None:
            base, size = self.func[0], self.func[1]
            lines = self.func[4]
            records = sorted(range(0, len(lines), 4), key=lambda at: lines[at])
            self.func[4] = [value for at in records for value in lines[at:at + 4]]
            self.record("func", base, base + size, self.func)
            self.func = None

    def end_cfi(self) -> None:
        if self.cfi is not None:
            deltas = self.cfi[2]
            order = sorted(range(0, len(deltas), 2), key=lambda at: deltas[at])
            self.cfi[2] = [value for at in order for value in deltas[at:at + 2]]
            self.record("cfi", self.cfi[0], self.cfi[0] + self.cfi[3], self.cfi[:3])
            self.cfi = None

    def line(self, text: str, number: int) -> None:
        if not text:
            return
        first = text[0]
        if first in "0123456789abcdef" and self.func is not None:
            addr, size, line, file = text.split(" ", 3)
            self.func[4].extend((_hex(addr), _hex(size), _number(line), _number(file)))
            return
        keyword, _, rest = text.partition(" ")
        if keyword == "FUNC":
            self.end_func()
            fields = rest.split(" ", 3)
            if fields[0] == "m":
                fields = rest.split(" ", 4)[1:]
            addr, size, params, name = fields[0], fields[1], fields[2], fields[3] if len(fields) > 3 else ""
            self.func = [_hex(addr), _hex(size), _hex(params), name, [], []]
        elif keyword == "INLINE":
            if self.func is None:
                raise ValueError("INLINE outside a FUNC")
            fields = rest.split()
            if len(fields) % 2 == 0:    # <depth> <call line> <call file> <origin> (<addr> <size>)+
                depth, call_line, call_file, origin = (_number(v) for v in fields[:4])
                ranges = [_hex(value) for value in fields[4:]]
                self.inline_formats.add("new")
            else:                       # old: <depth> <call line> <origin> (<addr> <size>)+
                depth, call_line, origin = (_number(v) for v in fields[:3])
                call_file = None
                ranges = [_hex(value) for value in fields[3:]]
                self.inline_formats.add("old")
            if not ranges:
                raise ValueError("INLINE without address ranges")
            self.func[5].append([depth, call_line, call_file, origin, ranges])
        elif keyword == "PUBLIC":
            self.end_func()
            fields = rest.split(" ", 2)
            if fields[0] == "m":
                fields = rest.split(" ", 3)[1:]
            addr, params = _hex(fields[0]), _hex(fields[1])
            self.record("public", addr, addr, [addr, fields[2] if len(fields) > 2 else "", params])
        elif keyword == "STACK":
            self.end_func()
            kind, _, rest = rest.partition(" ")
            if kind == "CFI":
                if rest.startswith("INIT "):
                    self.end_cfi()
                    addr, size, rules = rest[5:].split(" ", 2)
                    self.cfi = [_hex(addr), rules, [], _hex(size)]
                elif self.cfi is not None and len(self.cfi[2]) < 2 * MAX_CFI_DELTAS:
                    addr, rules = rest.split(" ", 1)
                    self.cfi[2].extend((_hex(addr), rules))
            elif kind == "WIN":
                fields = rest.split(" ", 10)
                kind_number = _hex(fields[0])
                rva, code_size = _hex(fields[1]), _hex(fields[2])
                values = [_hex(value) for value in fields[3:9]]
                has_program = fields[9] != "0"
                tail = fields[10] if len(fields) > 10 else ""
                info = [kind_number, *values[:6], False if has_program else tail.strip() not in ("", "0"),
                        tail if has_program else ""]
                if kind_number in (0, 4):
                    self.record(f"win{kind_number}", rva, rva + code_size, info)
        elif keyword == "FILE":
            self.end_func()
            number, name = rest.split(" ", 1)
            self.record("file", _number(number), _number(number) + 1, name)
        elif keyword == "INLINE_ORIGIN":
            number, name = rest.split(" ", 1)
            self.record("origin", _number(number), _number(number) + 1, name)
        elif keyword == "MODULE":
            fields = rest.split(" ", 3)
            if len(fields) == 4:
                self.module.update(os=fields[0], arch=fields[1], debug_id=fields[2], module=fields[3])
        elif keyword == "INFO":
            pass
        else:
            raise ValueError(f"unknown record {keyword[:20]!r}")

    def finish(self) -> None:
        self.end_func()
        self.end_cfi()


def build_cache(sym_path: str, cache_path: str) -> None:
    """Parse a `.sym` file into a cache file (written atomically) in a folder that exists
    (open_symbols makes it private first)."""
    with atomic_output(cache_path, ".sym-") as out:
        out.write(CACHE_MAGIC + b"\0" * 20)
        builder = _Builder(out)
        with open(sym_path, "rb") as source:
            for number, raw in enumerate(source, 1):
                if len(raw) > MAX_LINE:
                    builder.bad_lines += 1
                    continue
                try:
                    builder.line(raw.rstrip(b"\r\n").decode("utf-8", "replace"), number)
                except (ValueError, IndexError) as error:
                    builder.bad_lines += 1
                    if builder.bad_lines <= 3:
                        builder.warnings.append(f"line {number}: {error}")
        builder.finish()
        if builder.bad_lines > 3:
            builder.warnings.append(f"{builder.bad_lines} lines could not be read in all")
        sections = {}
        for name in SECTIONS:
            rows = sorted(builder.rows[name])
            if name in ("func", "cfi"):
                rows = _without_overlaps(rows)
            offset = out.tell()
            out.write(struct.pack(f"<{len(rows)}Q", *(row[0] for row in rows)))
            flat = [value for row in rows for value in row[1:]]
            out.write(struct.pack(f"<{len(flat)}Q", *flat))
            sections[name] = (offset, len(rows))
        meta = dict(builder.module, sections=sections, warnings=builder.warnings,
                    old_inline="old" in builder.inline_formats)
        blob = marshal.dumps(meta, MARSHAL_VERSION)
        meta_offset = out.tell()
        out.write(blob)
        out.seek(8)
        out.write(struct.pack("<IQQ", CACHE_VERSION, meta_offset, len(blob)))


def _without_overlaps(rows: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Bisection needs disjoint ranges; Breakpad keeps the first of overlapping ones."""
    kept: list[tuple[int, int, int, int]] = []
    for row in rows:
        if kept and row[0] < kept[-1][1]:
            continue
        kept.append(row)
    return kept


def cache_directory() -> str | None:
    base = cache_dir()
    return os.path.join(base, "symbols") if base else None


def open_symbols(sym_path: str) -> SymbolFile:
    """The cached form of a `.sym` file, built on first use.

    The cache key is the file's path, size and modification time, so an edited or replaced
    `.sym` file is parsed again. When the cache directory is not writable the cache is built
    in a temporary directory and used once.
    """
    st = os.stat(sym_path)
    key = sha256_hex(f"{os.path.abspath(sym_path)}\0{st.st_size}\0{st.st_mtime_ns}".encode())[:32]
    folder = cache_directory()
    try:
        if folder is None:
            raise PermissionError("no cache folder")
        cache_path = os.path.join(folder, key[:2], key + ".hsym")
        base = cache_dir() or folder
        try:
            return SymbolFile(cache_path, base)
        except CACHE_ERRORS + (struct.error,):
            pass
        make_private_folders(os.path.dirname(cache_path), base)
        build_cache(sym_path, cache_path)
        return SymbolFile(cache_path, base)
    except OSError:
        import tempfile     # only when the cache folder cannot be written

        scratch = tempfile.mkdtemp(prefix="hydra-sym-")
        path = os.path.join(scratch, "symbols.hsym")
        build_cache(sym_path, path)
        symbols = SymbolFile(path)
        os.unlink(path)
        os.rmdir(scratch)
        return symbols
