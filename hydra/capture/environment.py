"""The environment a process was started with, which snapshots keep only when asked (`--env`).

Environment variables hold tokens and passwords. The kernel put them as `NAME=value`
strings at the top of the main thread's stack, which a snapshot keeps; so without `--env`
that block reads as zeros for the whole capture (values cannot show it either), and any
copy of those strings left elsewhere in the memory a snapshot keeps is zeroed too.

The block is found from the auxiliary vector, which lies on the stack just above the
`envp` array: the core's NT_AUXV note gives its bytes, the stack holds them once, and the
pointers below them (down to argv's terminating NULL) are envp.
"""

from __future__ import annotations

import re
import struct

from hydra.capture.corefile import AT_EXECFN

SEARCHED_BYTES = 8 << 20          # the stack's top, where the kernel puts argv, envp and auxv
MAX_VARIABLES = 1 << 16
MIN_SCRUBBED = 4                  # shorter values are too common to hunt for (and say little)


def _auxv_bytes(auxv: dict[int, int]) -> bytes:
    return b"".join(struct.pack("<QQ", key, value) for key, value in list(auxv.items())[:4])


def find_environment(read, auxv: dict[int, int], stack_top: int, stack_low: int) -> tuple[int, int, list[bytes]] | None:
    """(start, end, the NAME=value strings) of the environment block, or None when it cannot
    be found. read(address, size) -> bytes raises on memory the dump lacks."""
    pattern = _auxv_bytes(auxv)
    if len(pattern) < 32:
        return None
    low = max(stack_low, stack_top - SEARCHED_BYTES)
    try:
        area = read(low, stack_top - low)
    except Exception:
        return None
    at = area.rfind(pattern)
    if at < 8 or at % 8:
        return None
    pointers = []
    cursor = at - 16             # the NULL that ends envp is at at - 8
    if struct.unpack_from("<Q", area, at - 8)[0] != 0:
        return None
    while cursor >= 0 and len(pointers) < MAX_VARIABLES:
        pointer, = struct.unpack_from("<Q", area, cursor)
        if pointer == 0:
            break                # argv's NULL
        pointers.append(pointer)
        cursor -= 8
    inside = [p for p in pointers if low + at <= p < stack_top]
    if not inside:
        return None
    start = min(inside)
    strings = []
    end = start
    for pointer in sorted(inside):
        offset = pointer - low
        stop = area.find(b"\0", offset)
        if stop < 0:
            stop = len(area)
        strings.append(bytes(area[offset:stop]))
        end = max(end, low + stop + 1)
    execfn = auxv.get(AT_EXECFN)
    if execfn is not None and end <= execfn < stack_top:
        end = max(end, execfn)
    return start, end, strings


SECRET_NAMES = re.compile(r"(?i)pass|secret|token|key|auth|cred|cookie|session|private|signature|api")
MIN_SECRET = 6                    # a secret-looking variable's value hunted for on its own


def secrets_of(strings: list[bytes]) -> list[bytes]:
    """What to hunt for elsewhere in kept memory and in values: each whole NAME=value, and
    the values of variables whose names say they are secret (a token, a password). Other
    values alone (a PATH, a HOME) are ordinary text a program holds for its own reasons.
    The longest first, so a string that holds a shorter one goes first."""
    found = set()
    for text in strings:
        if len(text) >= MIN_SCRUBBED:
            found.add(text)
        name, sep, value = text.partition(b"=")
        if sep and len(value) >= MIN_SECRET and SECRET_NAMES.search(name.decode("latin-1")):
            found.add(value)
    return sorted(found, key=len, reverse=True)


def scrub(data: bytes, secrets: list[bytes]) -> bytes:
    """data with every occurrence of each secret zeroed."""
    if not secrets or not data:
        return data
    out = None
    for secret in secrets:
        position = data.find(secret) if out is None else out.find(secret)
        while position >= 0:
            if out is None:
                out = bytearray(data)
            out[position:position + len(secret)] = bytes(len(secret))
            position = out.find(secret, position + len(secret))
    return data if out is None else bytes(out)


BLANKED = "<environment value blanked>"


def scrub_crash(crash, secrets: list[bytes]) -> None:
    """The same secrets out of what analysis wrote from memory (annotations, attributes);
    values are cleaned as they are read (capture/values.py's ValueReader.clean)."""
    texts = [secret.decode("latin-1") for secret in secrets]
    if not texts:
        return

    def clean(text: str) -> str:
        for secret in texts:
            if secret in text:
                text = text.replace(secret, BLANKED)
        return text

    for annotation in crash.annotations:
        annotation.text = clean(annotation.text)
    for key, value in list(crash.attributes.items()):
        crash.attributes[key] = clean(value)


def parse(strings: list[bytes]) -> dict[str, str]:
    out = {}
    for text in strings:
        name, sep, value = text.partition(b"=")
        if sep and name:
            out[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return out
