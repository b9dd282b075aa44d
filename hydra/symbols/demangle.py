"""Itanium C++ (and legacy Rust) demangling through the C++ runtime's __cxa_demangle."""

from __future__ import annotations

import functools
from _thread import allocate_lock     # threading's Lock, without importing threading

_runtime = None
_tried = False
_lock = allocate_lock()


class _Runtime:
    """The C++ runtime's __cxa_demangle and libc's free, through ctypes (imported on the
    first mangled name: most minidumps and snapshots have none to demangle)."""

    def __init__(self, ctypes, cxa_demangle, free):
        self.ctypes, self.cxa_demangle, self.free = ctypes, cxa_demangle, free

    def call(self, mangled: str) -> str | None:
        ctypes = self.ctypes
        status = ctypes.c_int()
        result = self.cxa_demangle(mangled.encode(), None, None, ctypes.byref(status))
        if status.value != 0 or not result:
            return None
        try:
            return ctypes.string_at(result).decode("utf-8", "replace")
        finally:
            self.free(result)


def _cxa_demangle() -> _Runtime | None:
    global _runtime, _tried
    with _lock:   # capture demangles from several threads
        if not _tried:
            import ctypes

            for name in ("libstdc++.so.6", "libc++.so.1", "stdc++"):
                if name == "stdc++":
                    from ctypes import util   # slow to import; only when the usual names fail

                    name = util.find_library(name)
                    if not name:
                        continue
                try:
                    lib = ctypes.CDLL(name)
                    function = lib.__cxa_demangle
                except (OSError, AttributeError):
                    continue
                function.restype = ctypes.c_void_p
                function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
                                     ctypes.POINTER(ctypes.c_int)]
                free = ctypes.CDLL(None).free
                free.argtypes = [ctypes.c_void_p]
                _runtime = _Runtime(ctypes, function, free)
                break
            _tried = True
    return _runtime


_RUST_HASH = r"::h[0-9a-f]{16}$"       # compiled where first used, by re's cache


@functools.lru_cache(maxsize=1024)
def demangle_type(mangled: str) -> str | None:
    """A type's mangled name as std::type_info holds it (`St13runtime_error`), demangled."""
    runtime = _cxa_demangle() if mangled else None
    return runtime.call(mangled.lstrip("*")) if runtime is not None else None


@functools.lru_cache(maxsize=65536)
def demangle(symbol: str) -> str:
    """The demangled name with its parameter list, or the symbol itself."""
    if not symbol.startswith("_Z"):
        return symbol
    base, dot, suffix = symbol.partition(".")
    runtime = _cxa_demangle()
    if runtime is None:
        return symbol
    result = runtime.call(symbol)
    if result is None:
        if dot:
            # gcc clones (foo.cold, foo.isra.0) that the runtime does not know
            inner = demangle(base)
            return f"{inner} [clone .{suffix}]" if inner != base else symbol
        return symbol
    return result


def strip_parameters(name: str) -> str:
    """`ns::f(int, char*) const [clone .cold]` -> `ns::f [clone .cold]`: gdb's frame spelling."""
    clones = ""
    while name.endswith("]") and " [clone " in name:
        cut = name.rindex(" [clone ")
        clones = name[cut:] + clones
        name = name[:cut]
    stripped = name
    for qualifier in (" const", " volatile", " &&", " &", " noexcept"):
        if stripped.endswith(qualifier):
            stripped = stripped[: -len(qualifier)]
    if stripped.endswith(")"):
        depth = 0
        for index in range(len(stripped) - 1, -1, -1):
            char = stripped[index]
            if char == ")":
                depth += 1
            elif char == "(":
                depth -= 1
                if depth == 0:
                    head = stripped[:index]
                    # `operator()` itself is a name, not a parameter list
                    if head and not head.endswith("operator"):
                        name = head
                    break
    import re

    return re.sub(_RUST_HASH, "", name) + clones


def function_name(symbol: str) -> str:
    return strip_parameters(demangle(symbol))
