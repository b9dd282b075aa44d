"""Itanium C++ (and legacy Rust) demangling through the C++ runtime's __cxa_demangle."""

from __future__ import annotations

import ctypes
import functools
import re
import threading

_runtime = None
_tried = False
_lock = threading.Lock()


def _cxa_demangle():
    global _runtime, _tried
    with _lock:   # capture demangles from several threads
        if not _tried:
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
                _runtime = function
                break
            _tried = True
    return _runtime


_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_RUST_HASH = re.compile(r"::h[0-9a-f]{16}$")


@functools.lru_cache(maxsize=1024)
def demangle_type(mangled: str) -> str | None:
    """A type's mangled name as std::type_info holds it (`St13runtime_error`), demangled."""
    function = _cxa_demangle()
    if function is None or not mangled:
        return None
    status = ctypes.c_int()
    result = function(mangled.lstrip("*").encode(), None, None, ctypes.byref(status))
    if status.value != 0 or not result:
        return None
    try:
        return ctypes.string_at(result).decode("utf-8", "replace")
    finally:
        _libc.free(result)


@functools.lru_cache(maxsize=65536)
def demangle(symbol: str) -> str:
    """The demangled name with its parameter list, or the symbol itself."""
    if not symbol.startswith("_Z"):
        return symbol
    base, dot, suffix = symbol.partition(".")
    function = _cxa_demangle()
    if function is None:
        return symbol
    status = ctypes.c_int()
    result = function(symbol.encode(), None, None, ctypes.byref(status))
    if status.value != 0 or not result:
        if dot:
            # gcc clones (foo.cold, foo.isra.0) that the runtime does not know
            inner = demangle(base)
            return f"{inner} [clone .{suffix}]" if inner != base else symbol
        return symbol
    try:
        return ctypes.string_at(result).decode("utf-8", "replace")
    finally:
        _libc.free(result)


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
    return _RUST_HASH.sub("", name) + clones


def function_name(symbol: str) -> str:
    return strip_parameters(demangle(symbol))
