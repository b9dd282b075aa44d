"""Open any crash file Hydra understands into the model: a snapshot or a core."""

from __future__ import annotations

import os

from hydra.model import BadInput, Crash


def detect(path: str) -> str:
    try:
        if os.path.isdir(path):
            raise BadInput(path, "is a directory, not a snapshot or core file")
        with open(path, "rb") as handle:
            head = handle.read(18)
    except FileNotFoundError:
        raise BadInput(path, "no such file") from None
    except PermissionError:
        raise BadInput(path, "permission denied") from None
    except OSError as error:
        raise BadInput(path, f"cannot read: {error.strerror or error}") from None
    from hydra.snapshot.format import MAGIC

    if head.startswith(MAGIC):
        return "snapshot"
    if head.startswith(b"\x7fELF"):
        return "core"
    if head.startswith(b"MDMP"):
        return "minidump"
    if not head:
        raise BadInput(path, "empty file, not a snapshot or core file")
    raise BadInput(path, "not a Hydra snapshot or an ELF core file")


def open_crash(path: str, capture_options=None) -> Crash:
    kind = detect(path)
    if kind == "snapshot":
        from hydra.snapshot.format import read_snapshot

        return read_snapshot(path)
    if kind == "core":
        try:
            from hydra.capture.engine import capture_core
        except ImportError as error:
            raise BadInput(path, f"capturing a core needs the capture engine (drgn, Linux): {error}") from None
        return capture_core(path, capture_options)
    raise BadInput(path, "minidumps are not supported yet")
