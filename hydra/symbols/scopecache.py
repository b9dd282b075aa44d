"""Function scopes found in debug files, remembered between captures.

Which functions and inline instances hold a pc is libdw walking the DIEs of the pc's
compile unit: about 3 ms a lookup in a large C++ binary (half of a capture there) and
7 ms for the first lookup in glibc's debug file. Crashes of one build, captured again,
ask about mostly the same pcs.

One file per debug file, named after it and a checksum of its real path, size,
modification time and inode, which the file repeats: a rebuilt or replaced debug file is
never answered from another's entries. The file also records VERSION and the state of
the module that finds scopes, so a changed finder does not read its predecessor's
answers. Entries are checked as they are read, and a file that does not check is ignored
(and replaced at the next save). It shares the debug cache's switch
(`HYDRA_DEBUG_CACHE=0`, `debug_cache = false`); deleting the folder is always safe.
"""

from __future__ import annotations

import os
import re
import zlib

import msgpack

from hydra.model.files import atomic_output
from hydra.symbols.dwarf import FunctionScope

VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
MAX_ENTRIES = 1 << 16           # addresses remembered per debug file
MAX_FILE_BYTES = 64 << 20


def directory(config=None) -> str | None:
    """The cache folder, or None when the user turned the debug caches off."""
    from hydra.config import cache_dir
    from hydra.symbols import debugcache

    if debugcache.directory(config) is None:
        return None
    return os.path.join(cache_dir(), "scopes")


class ScopeCache:
    """Lookups and new entries for the debug files of one capture; save() writes the new
    ones, merged with what another capture may have saved meanwhile."""

    def __init__(self, root: str):
        self.root = root
        self._files: dict[str, _File | None] = {}

    def get(self, path: str, address: int) -> list[FunctionScope] | None:
        remembered = self._file(path)
        if remembered is None:
            return None
        return remembered.entries.get(address)

    def put(self, path: str, address: int, scopes: list[FunctionScope]) -> None:
        remembered = self._file(path)
        if remembered is not None and address not in remembered.entries and \
                len(remembered.entries) < MAX_ENTRIES:
            remembered.entries[address] = scopes
            remembered.new[address] = scopes

    def save(self) -> None:
        for remembered in self._files.values():
            if remembered is None or not remembered.new:
                continue
            on_disk = _read(remembered.location, remembered.identity) or {}
            entries = {**on_disk, **remembered.new}
            if len(entries) > MAX_ENTRIES:
                continue
            try:
                os.makedirs(os.path.dirname(remembered.location), exist_ok=True)
                with atomic_output(remembered.location, ".scopes-") as handle:
                    handle.write(msgpack.packb({
                        "version": VERSION, "identity": remembered.identity,
                        "scopes": [[address, [_scope_out(s) for s in scopes]]
                                   for address, scopes in entries.items()],
                    }, use_bin_type=True))
            except (OSError, ValueError, OverflowError):
                continue
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
            identity = [os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino, *_finder()]
            checksum = zlib.crc32(repr(identity).encode("utf-8", "surrogateescape"))
            name = _UNSAFE.sub("_", os.path.basename(identity[0]))[:64]
            location = os.path.join(self.root, f"{name}-{checksum:08x}.scopes")
            remembered = _File(location, identity, _read(location, identity) or {})
        self._files[path] = remembered
        return remembered


def _finder() -> list:
    from hydra.symbols import dwarf

    try:
        st = os.stat(dwarf.__file__)
        return [st.st_size, st.st_mtime_ns]
    except (OSError, TypeError):
        return [0, 0]


class _File:
    def __init__(self, location: str, identity: list, entries: dict[int, list[FunctionScope]]):
        self.location = location
        self.identity = identity
        self.entries = entries
        self.new: dict[int, list[FunctionScope]] = {}


def _scope_out(scope: FunctionScope) -> list:
    return [scope.name, scope.linkage_name, scope.parameters, scope.inlined,
            scope.call_file, scope.call_line, scope.entry]


def _optional(value, kind) -> bool:
    return value is None or isinstance(value, kind)


def _scope_in(item) -> FunctionScope:
    if not isinstance(item, list) or len(item) != 7:
        raise ValueError("not a scope")
    name, linkage, parameters, inlined, call_file, call_line, entry = item
    if not (_optional(name, str) and _optional(linkage, str) and isinstance(inlined, bool)
            and _optional(call_file, str) and _optional(call_line, int) and _optional(entry, int)
            and isinstance(parameters, list) and all(isinstance(p, str) for p in parameters)):
        raise ValueError("not a scope")
    return FunctionScope(name, linkage, list(parameters), inlined, call_file, call_line, entry)


def _read(location: str, identity: list) -> dict[int, list[FunctionScope]] | None:
    try:
        with open(location, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return None
        document = msgpack.unpackb(data, raw=False, strict_map_key=False)
        if not isinstance(document, dict) or document.get("version") != VERSION or \
                document.get("identity") != identity or not isinstance(document.get("scopes"), list):
            return None
        entries = {}
        for pair in document["scopes"][:MAX_ENTRIES]:
            address, scopes = pair
            if not isinstance(address, int) or not isinstance(scopes, list):
                return None
            entries[address] = [_scope_in(item) for item in scopes]
        return entries
    except (OSError, ValueError, TypeError, msgpack.UnpackException):
        return None
