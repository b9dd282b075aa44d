"""Open any crash file Hydra understands into the model: a snapshot, a core or a minidump."""

from __future__ import annotations

import os

from hydra.model import BadInput, Crash


def detect(path: str) -> str:
    try:
        if os.path.isdir(path):
            raise BadInput(path, "is a directory, not a snapshot or core file")
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise BadInput(path, "no such file") from None
    except PermissionError:
        raise BadInput(path, "permission denied") from None
    except OSError as error:
        raise BadInput(path, f"cannot read: {error.strerror or error}") from None
    from hydra.snapshot import MAGIC

    if head.startswith(MAGIC):
        return "snapshot"
    if head.startswith(b"\x7fELF"):
        return "core"
    if head.startswith((b"MDMP", b"PMDM")):
        return "minidump"
    if not head:
        raise BadInput(path, "empty file, not a snapshot, core or minidump")
    if b"BEGIN BREAKPAD MICRODUMP" in head:
        raise BadInput(path, "a Breakpad microdump (an Android log), not a minidump; not supported")
    raise BadInput(path, "not a Hydra snapshot, an ELF core file or a minidump")


def open_crash(path: str, capture_options=None, symbol_dirs: list[str] | None = None,
               rules: str | None = None, analysis: bool = True, config=None) -> Crash:
    """capture_options apply to cores; symbol_dirs (with HYDRA_SYMBOL_PATH and the `symbols`
    of config, the user's config when not given) to minidumps."""
    try:
        return _open(path, capture_options, symbol_dirs, rules, analysis, config)
    except MemoryError:
        raise BadInput(path, "out of memory while reading it (is it hostile, or the memory limit low?)") from None


def _open(path: str, capture_options, symbol_dirs: list[str] | None, rules: str | None, analysis: bool,
          config) -> Crash:
    kind = detect(path)
    if kind == "snapshot":
        from hydra.snapshot.format import read_snapshot

        crash = read_snapshot(path)
        # the analysis stored at capture, unless these options ask otherwise
        if not analysis:
            from hydra.analysis import without_analysis

            without_analysis(crash)
        elif rules is not None:
            from hydra.analysis import set_fingerprint

            set_fingerprint(crash, rules)
        return crash
    if kind == "core":
        try:
            from hydra.capture.asuser import capture_for_owner
            import hydra.capture.engine  # noqa: F401  (drgn: Linux only)
        except ImportError as error:
            raise BadInput(path, f"capturing a core needs the capture engine (drgn, Linux): {error}") from None
        return capture_for_owner(path, capture_options)
    from hydra.minidump.opener import open_minidump
    from hydra.symbols.locate import symbol_directories

    return open_minidump(path, symbol_directories(symbol_dirs or [], config), rules, analysis)
