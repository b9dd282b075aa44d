"""The analyzer plug-in API: what an analyzer sees of a crash and how it adds its findings.

An analyzer is a callable taking one `AnalysisContext`. Built-in analyzers are written
against this API too; others are found through the entry-point group `hydra.analyzers`:

    [project.entry-points."hydra.analyzers"]
    leak-check = "mypackage.analysis:check_leaks"

    def check_leaks(context):
        for thread in context.crash.threads:
            ...
        context.classify("leak", "12 MB in one arena")
        context.annotate("arena grew past its limit", severity="warning", tid=..., frame=0)
        context.attribute("arena.size", "12582912")
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable

from hydra.model.crash import Annotation, Classifier, Crash, Frame, Thread
from hydra.model.memory import MemoryRegion

Reader = Callable[[int, int], "bytes | None"]
SymbolLookup = Callable[[str], "int | None"]

EVIDENCE_LIMIT = 256 << 10     # bytes of memory an analysis may add to the snapshot as evidence


@functools.lru_cache(maxsize=4096)
def base_function_name(name: str | None) -> str:
    """The name the default fingerprint rules give a function: `__GI_raise`, `raise.cold`,
    `__memmove_avx_unaligned_erms`, `ns::f [clone .isra.0]` -> `raise`, `raise`, `memmove`,
    `ns::f`. Analyzers and fingerprints read runtime frames alike (threads repeat names)."""
    from hydra.analysis.fingerprint import default_rules, normalize

    return normalize(name, default_rules()) if name else ""


def runtime_module(path: str | None) -> bool:
    """A C or C++ runtime library, as the default rules' skip-unnamed-module names them."""
    from hydra.analysis.fingerprint import default_rules

    name = (path or "").replace("\\", "/").rsplit("/", 1)[-1]
    return bool(name) and any(p.fullmatch(name) for p in default_rules().skip_unnamed)


class AnalysisContext:
    """Read access to the crash under construction, and the ways to add findings.

    `read` sees the process's memory: the whole core while capturing a core, the dump's
    memory for a minidump, the captured memory for a snapshot. Bytes read from beyond the
    captured memory are kept in the snapshot as evidence (up to EVIDENCE_LIMIT).
    """

    def __init__(self, crash: Crash, read: Reader | None = None, symbol: SymbolLookup | None = None):
        self.crash = crash
        self._read = read
        self._symbol = symbol
        self.pointer_size = 4 if crash.process.architecture in ("x86", "arm") else 8
        self.evidence = 0
        self.instruction = None      # set by the instruction analyzer: hydra.analysis.instruction.Decoded
        self.notes: dict[str, object] = {}   # facts analyzers share (e.g. "fault_address")

    # -- reading

    def read(self, address: int, size: int) -> bytes | None:
        if address < 0 or size <= 0 or size > 1 << 20 or address + size > 1 << 64:
            return None
        data = self.crash.memory.read(address, size)
        if data is not None or self._read is None:
            return data
        try:
            data = self._read(address, size)
        except Exception:  # a reader of a damaged dump may fail any way; the answer is "unreadable"
            return None
        if data is not None and len(data) == size and self.evidence + size <= EVIDENCE_LIMIT:
            if not self.crash.memory.overlaps(address, address + size):
                self.crash.memory.add(MemoryRegion(address, size, kind="evidence", _data=bytes(data)))
                self.evidence += size
        return data

    def read_pointer(self, address: int) -> int | None:
        raw = self.read(address, self.pointer_size)
        if raw is None or len(raw) != self.pointer_size:
            return None
        return struct.unpack("<Q" if self.pointer_size == 8 else "<I", raw)[0]

    def read_u32(self, address: int) -> int | None:
        raw = self.read(address, 4)
        return struct.unpack("<I", raw)[0] if raw is not None and len(raw) == 4 else None

    def read_string(self, address: int, limit: int = 4096) -> str | None:
        """A NUL-terminated string; read in growing pieces so it may end near unmapped memory."""
        out = bytearray()
        chunk = 64
        while len(out) < limit:
            piece = self.read(address + len(out), chunk)
            while piece is None and chunk > 1:
                chunk //= 2
                piece = self.read(address + len(out), chunk)
            if piece is None:
                break
            end = piece.find(b"\0")
            if end >= 0:
                out += piece[:end]
                return out.decode("utf-8", "replace")
            out += piece
            chunk = min(chunk * 2, 1024)
        return out.decode("utf-8", "replace") if out else None

    def symbol_address(self, name: str) -> int | None:
        """Where a (global) symbol is, when the producer can tell (cores: yes)."""
        if self._symbol is None:
            return None
        try:
            return self._symbol(name)
        except Exception:
            return None

    # -- the crash

    @property
    def faulting_thread(self) -> Thread | None:
        """The thread the signal hit (`_mod_faulting_tid` moves the fingerprint, not this)."""
        return self.crash.crashed_thread

    def find_frame(self, thread: Thread | None, names: tuple[str, ...]) -> Frame | None:
        """The innermost frame whose function (without __GI_ and clone suffixes) is one of names."""
        if thread is None:
            return None
        for frame in thread.frames:
            if base_function_name(frame.function) in names:
                return frame
        return None

    def mapped(self, address: int):
        return self.crash.map_entry_at(address)

    # -- findings

    def classify(self, name: str, detail: str = "") -> None:
        for existing in self.crash.classifiers:
            if existing.name == name:
                if detail and not existing.detail:
                    existing.detail = detail
                return
        self.crash.classifiers.append(Classifier(name, detail))

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.crash.classifiers)

    def annotate(self, text: str, severity: str = "info", tid: int | None = None, frame: int | None = None,
                 variable: str | None = None, source: str = "hydra") -> None:
        self.crash.annotations.append(Annotation(text, severity, source, tid, frame, variable))

    def attribute(self, key: str, value: str) -> None:
        self.crash.attributes[key] = value


def chosen_thread_id(crash) -> int | None:
    """The thread an analyzer named as the one to fingerprint (`_mod_faulting_tid`), if
    the attribute holds a thread number at all (it is the dump's text)."""
    wanted = crash.attributes.get("_mod_faulting_tid", "").strip()
    return int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) <= 10 else None
