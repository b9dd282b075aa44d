"""The JSON Hydra prints, written as json.dumps writes it (ASCII only, keys in their order)
without importing json: json imports re, and the two cost a small minidump's `bt --json`
5 ms, a fifth of its time. Strings are escaped by the json module's own C routine.

Where Hydra reads JSON it uses json.
"""

from __future__ import annotations

try:
    from _json import encode_basestring_ascii as _string
except ImportError:          # a Python without json's C part
    from json.encoder import py_encode_basestring_ascii as _string

_SPECIAL_FLOATS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def dumps(value, indent: int | None = None) -> str:
    """value as JSON text: on one line without spaces, or with indent spaces a level as
    json.dumps(value, indent=indent) lays it out."""
    out: list[str] = []
    if indent is None:
        _write(value, out, None, "", ":")
    else:
        _write(value, out, "\n", " " * indent, ": ")
    return "".join(out)


def _write(value, out: list[str], newline: str | None, step: str, colon: str) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, (list, tuple, dict)):
        if not value:
            out.append("{}" if isinstance(value, dict) else "[]")
            return
        inner = newline + step if newline is not None else None
        out.append("{" if isinstance(value, dict) else "[")
        first = True
        for item in value.items() if isinstance(value, dict) else value:
            if not first:
                out.append(",")
            first = False
            if inner is not None:
                out.append(inner)
            if isinstance(value, dict):
                out.append(_string(_key(item[0])))
                out.append(colon)
                item = item[1]
            _write(item, out, inner, step, colon)
        if newline is not None:
            out.append(newline)
        out.append("}" if isinstance(value, dict) else "]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float(value: float) -> str:
    text = float.__repr__(value)
    return _SPECIAL_FLOATS.get(text, text)


def _key(key) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return (_float(key) if isinstance(key, float) else
                "null" if key is None else "true" if key is True else "false" if key is False else int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
