"""Function scopes found in debug files, remembered between captures.

Which functions and inline instances hold a pc is libdw walking the DIEs of the pc's
compile unit: about 3 ms a lookup in a large C++ binary (half of a capture there) and
7 ms for the first lookup in glibc's debug file. Crashes of one build, captured again,
ask about mostly the same pcs.

One file per debug file path. It records what its answers depend on: the debug file's
real path, size, modification time and inode, and the finder (Hydra's version, the state
of the modules that find and name scopes, the libdw in use). A file whose record differs
answers nothing and is replaced at the next save, so a rebuilt debug file or a changed
finder never reads its predecessor's answers, and the folder holds one file per path, for
the MAX_FILES paths saved most recently. Each file keeps the most recent MAX_ENTRIES
addresses; entries are checked as they are
read, and a file that does not check is ignored. Answers with an unnamed function (an
unreadable supplementary file, say) are not kept; empty ones are (a pc in code without
DWARF, such as glibc's clone3, would otherwise cost glibc's first lookup every time). It shares the debug cache's switch
(`HYDRA_DEBUG_CACHE=0`, `debug_cache = false`); deleting the folder is always safe.
"""

from __future__ import annotations

import os
import re
import stat
import zlib

import msgpack

from hydra.model.files import atomic_output, remove_stale_temporaries
from hydra.model.crash import MAX_RAW_BYTES
from hydra.symbols.dwarf import PIECE_CONSTANT, PIECE_MISSING, PIECE_REGISTER, FunctionScope

VERSION = 10
MAX_ENTRIES = 4096              # addresses remembered per debug file, the newest kept
MAX_SCOPES = 64                 # functions around one address (inline depth)
MAX_FILE_BYTES = 8 << 20
MAX_FILES = 256                 # debug files remembered; the least recently saved go first
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def directory(config=None) -> str | None:
    """The cache folder, or None when the user turned the debug caches off."""
    from hydra.config import cache_dir
    from hydra.symbols import debugcache

    if debugcache.directory(config) is None:
        return None
    return os.path.join(cache_dir(), "scopes")


class ScopeCache:
    """Lookups and new entries for the debug files of one capture. save() writes the new
    ones together with those on disk (re-read if another capture saved since)."""

    def __init__(self, root: str):
        self.root = root
        self._files: dict[str, _File | None] = {}
        self._finder: list | None = None

    def get(self, path: str, address: int) -> list[FunctionScope] | None:
        remembered = self._file(path)
        if remembered is None:
            return None
        return remembered.entries.get(address)

    def put(self, path: str, address: int, scopes: list[FunctionScope]) -> None:
        remembered = self._file(path)
        if remembered is None or address in remembered.entries \
                or len(scopes) > MAX_SCOPES or not all(scope.name for scope in scopes):
            return
        remembered.entries[address] = scopes
        remembered.new[address] = scopes

    def new_entries(self) -> list:
        """What this capture found, as plain lists (a forked capture hands them back)."""
        return [[path, address, [_scope_out(s) for s in scopes]]
                for path, remembered in self._files.items() if remembered is not None
                for address, scopes in remembered.new.items()]

    def put_entries(self, entries) -> None:
        for entry in entries:
            try:
                path, address, scopes = entry
                self.put(path, address, [_scope_in(item) for item in scopes])
            except (ValueError, TypeError):
                continue

    def save(self) -> None:
        for remembered in self._files.values():
            if remembered is not None and remembered.new:
                remembered.save()
                remembered.new = {}

    def _file(self, path: str) -> _File | None:
        if path in self._files:
            return self._files[path]
        remembered = None
        try:
            st = os.stat(path)
        except OSError:
            pass
        else:
            real = os.path.realpath(path)
            if self._finder is None:
                self._finder = _finder()
            identity = [real, st.st_size, st.st_mtime_ns, st.st_ino, *self._finder]
            checksum = zlib.crc32(real.encode("utf-8", "surrogateescape"))
            name = _UNSAFE.sub("_", os.path.basename(real))[:64]
            remembered = _File(os.path.join(self.root, f"{name}-{checksum:08x}.scopes"), identity)
        self._files[path] = remembered
        return remembered


class _File:
    def __init__(self, location: str, identity: list):
        self.location = location
        self.identity = identity
        self.seen = _stamp(location)
        self.entries = _read(location, identity) or {}
        self.new: dict[int, list[FunctionScope]] = {}

    def save(self) -> None:
        entries = self.entries
        if _stamp(self.location) != self.seen:        # another capture saved meanwhile
            entries = {**(_read(self.location, self.identity) or {}), **self.new}
        addresses = list(entries)[-MAX_ENTRIES:]
        while addresses:
            data = msgpack.packb({
                "version": VERSION, "identity": self.identity,
                "scopes": [[address, [_scope_out(s) for s in entries[address]]] for address in addresses],
            }, use_bin_type=True)
            if len(data) <= MAX_FILE_BYTES:
                break
            addresses = addresses[len(addresses) // 2:]
        else:
            return
        try:
            os.makedirs(os.path.dirname(self.location), exist_ok=True)
            remove_stale_temporaries(os.path.dirname(self.location), ".scopes-")
            with atomic_output(self.location, ".scopes-") as handle:
                handle.write(data)
        except OSError:
            return
        self.seen = _stamp(self.location)
        _prune(os.path.dirname(self.location))


def _finder() -> list:
    """What the answers depend on besides the debug file."""
    from hydra import __version__
    from hydra.symbols import demangle, dwarf

    state: list = [__version__]
    for module in (dwarf, demangle):
        try:
            st = os.stat(module.__file__)
            state += [st.st_size, st.st_mtime_ns]
        except (OSError, TypeError):
            state += [0, 0]
    lib = dwarf.libdw()
    state.append(getattr(lib, "_name", None) or "")
    return state


def _prune(folder: str) -> None:
    try:
        names = [name for name in os.listdir(folder) if name.endswith(".scopes")]
    except OSError:
        return
    if len(names) <= MAX_FILES:
        return
    aged = []
    for name in names:
        try:
            aged.append((os.stat(os.path.join(folder, name)).st_mtime_ns, name))
        except OSError:
            continue
    for _, name in sorted(aged)[:len(aged) - MAX_FILES]:
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            continue


def _stamp(location: str) -> tuple[int, int] | None:
    try:
        st = os.stat(location)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _scope_out(scope: FunctionScope) -> list:
    return [scope.name, scope.linkage_name, scope.parameters, scope.inlined,
            scope.call_file, scope.call_line, scope.entry, scope.references, scope.types, scope.die, scope.concrete,
            {name: list(place) for name, place in scope.places.items()},
            {name: [list(piece) for piece in pieces] for name, pieces in scope.held.items()},
            {name: [list(step) for step in steps] for name, steps in scope.computed.items()}, scope.visible,
            scope.unit_name, scope.unit_folder]


def _optional(value, kind) -> bool:
    return value is None or isinstance(value, kind)


def _scope_in(item) -> FunctionScope:
    if not isinstance(item, list) or len(item) != 17:
        raise ValueError("not a scope")
    name, linkage, parameters, inlined, call_file, call_line, entry, references, types, die, concrete, places, \
        held, computed, visible, unit_name, unit_folder = item
    if not (isinstance(name, str) and _optional(linkage, str) and isinstance(inlined, bool)
            and _optional(call_file, str) and _optional(call_line, int) and _optional(entry, int)
            and isinstance(parameters, list) and all(isinstance(p, str) for p in parameters)
            and isinstance(references, dict)
            and all(isinstance(k, str) and v in ("&", "&&") for k, v in references.items())
            and isinstance(types, dict) and all(isinstance(k, str) and isinstance(v, int) for k, v in types.items())
            and _optional(die, int) and _optional(concrete, int)
            and isinstance(places, dict) and all(isinstance(k, str) and isinstance(v, list) and len(v) == 2
                                                 and all(isinstance(n, int) for n in v) for k, v in places.items())
            and isinstance(visible, list) and all(isinstance(n, str) for n in visible)
            and isinstance(held, dict) and all(k in visible and isinstance(v, list) and 0 < len(v) <= MAX_RAW_BYTES
                                               and all(_piece(p) for p in v) and
                                               sum(p[2] for p in v) <= MAX_RAW_BYTES for k, v in held.items())
            and isinstance(computed, dict) and all(k in visible and isinstance(v, list) and len(v) <= 64 and all(
                isinstance(p, list) and len(p) == 2 and all(type(n) is int for n in p) for p in v)
                for k, v in computed.items())
            and _optional(unit_name, str) and _optional(unit_folder, str)):
        raise ValueError("not a scope")
    return FunctionScope(name, linkage, list(parameters), inlined, call_file, call_line, entry, dict(references),
                         dict(types), die, concrete, {k: (v[0], v[1]) for k, v in places.items()},
                         {k: [(p[0], p[1], p[2]) for p in v] for k, v in held.items()},
                         {k: [(p[0], p[1]) for p in v] for k, v in computed.items()}, list(visible),
                         unit_name, unit_folder)


def _piece(item) -> bool:
    """[kind, number, size] of a value held outside memory, as dwarf._held makes them."""
    return isinstance(item, list) and len(item) == 3 and all(type(n) is int for n in item) and \
        item[0] in (PIECE_REGISTER, PIECE_CONSTANT, PIECE_MISSING) and 0 <= item[2] <= MAX_RAW_BYTES


def _read(location: str, identity: list) -> dict[int, list[FunctionScope]] | None:
    try:
        # non-blocking: something other than a file (a FIFO) in its place must not stall
        fd = os.open(location, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return None
        document = msgpack.unpackb(data, raw=False, strict_map_key=False, max_map_len=1 << 15,
                                   max_array_len=max(MAX_ENTRIES, 4096), max_bin_len=0, max_ext_len=0)
        if not isinstance(document, dict) or document.get("version") != VERSION or \
                document.get("identity") != identity or not isinstance(document.get("scopes"), list):
            return None
        entries = {}
        for pair in document["scopes"][:MAX_ENTRIES]:
            address, scopes = pair
            if not isinstance(address, int) or not isinstance(scopes, list) or len(scopes) > MAX_SCOPES:
                return None
            entries[address] = [_scope_in(item) for item in scopes]
        return entries
    except (OSError, ValueError, TypeError, msgpack.UnpackException):
        return None
    finally:
        os.close(fd)
