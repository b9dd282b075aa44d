"""Analysis: classifiers, annotations, severity and a fingerprint for a crash.

Runs at capture time for cores (with the whole core's memory to read) and at open time for
minidumps. Built-in analyzers use the same API (`hydra.analysis.api`) as plug-ins found
through the `hydra.analyzers` entry-point group.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from hydra.config import cache_dir
from hydra.model.files import read_cache, write_cache
from hydra.model.record import record

from hydra.analysis.api import AnalysisContext, Reader, SymbolLookup

ENTRY_POINT_GROUP = "hydra.analyzers"


def builtin_analyzers() -> list[tuple[str, Callable[[AnalysisContext], None]]]:
    from hydra.analysis import aborts, evidence, faults, severity

    return [
        ("fault", faults.analyze_fault),
        ("abort", aborts.analyze_aborts),
        ("heap", evidence.analyze_heap),
        ("aliases", evidence.analyze_aliases),
        ("arguments", evidence.analyze_arguments),
        ("bit-flips", evidence.analyze_bit_flips),
        ("deadlock", evidence.analyze_deadlock),
        ("severity", severity.analyze_severity),
    ]


_discovery: dict[str, object] = {}


def start_discovery(preload: bool = False) -> None:
    """Look for plug-ins in the background (and with preload, warm_up() there too): tens
    of milliseconds that a capture spends in drgn meanwhile, which releases the interpreter
    lock. Pure-Python work (a minidump) gains nothing from it, and looks for them itself."""
    if "thread" in _discovery:
        return

    def discover():
        _discover()
        if preload:
            warm_up()

    import threading

    thread = threading.Thread(target=discover, name="hydra-plugins", daemon=True)
    _discovery["thread"] = thread
    thread.start()


def _discover() -> None:
    try:
        _discovery["entries"] = _entry_points()
    except Exception as error:
        _discovery["error"] = error


@record
class _EntryPoint:
    name: str
    value: str          # module:attribute.path [extras]

    def load(self):
        import re

        match = re.match(_ENTRY_POINT_VALUE, self.value)
        if match is None:
            raise ValueError(f"not an entry point: {self.value!r}")
        from importlib import import_module

        found = import_module(match["module"])
        for part in (match["attribute"] or "").split(".") if match["attribute"] else ():
            found = getattr(found, part)
        return found


# compiled where first used (by re's cache): only a plug-in needs it
_ENTRY_POINT_VALUE = r"(?P<module>[\w.]+)\s*(:\s*(?P<attribute>[\w.]+)\s*)?(\[.*\])?\s*$"


def _entry_points() -> list[_EntryPoint]:
    """The group's entry points, remembered for one state of the import path.

    Listing them imports importlib.metadata and reads every installed distribution's
    metadata, which costs a short capture a tenth of its time. Installing or removing a
    distribution adds or removes its metadata folder, which changes the modification time
    of the folder on sys.path that holds it; that is the key. Remembered with marshal, as
    the symbol cache is (json would cost each start 2 ms to import).
    """
    stamp = []
    for folder in sys.path:
        try:
            stamp.append([folder, os.stat(folder or ".").st_mtime_ns])
        except OSError:
            continue
    folder = cache_dir()
    remembered = read_cache(os.path.join(folder, "analyzers.cache"), folder) if folder else None
    try:
        if remembered["stamp"] == stamp:
            return [_EntryPoint(name, value) for name, value in remembered["entries"]
                    if isinstance(name, str) and isinstance(value, str)]
    except (TypeError, KeyError, ValueError):
        pass                # none remembered, or damaged
    from importlib.metadata import entry_points

    found = [_EntryPoint(entry.name, entry.value) for entry in entry_points(group=ENTRY_POINT_GROUP)]
    if folder:
        write_cache(os.path.join(folder, "analyzers.cache"), folder,
                    {"stamp": stamp, "entries": [[e.name, e.value] for e in found]})
    return found


def warm_up() -> None:
    """Import the analyzers' modules, load capstone, and compile the default rules: what
    analyze() would do first, done ahead while the process has time to spare."""
    from hydra.analysis import libcapstone

    libcapstone.load()
    from importlib import import_module

    for name in ("hydra.analysis.aborts", "hydra.analysis.evidence",
                 "hydra.analysis.faults", "hydra.analysis.severity"):
        try:
            import_module(name)
        except ImportError:
            pass
    from hydra.analysis.fingerprint import default_rules

    default_rules()


def finish_discovery() -> None:
    """Wait for the background discovery, if one runs (before forking: a thread caught in
    the middle of an import would leave the child's import lock held)."""
    thread = _discovery.get("thread")
    if thread is not None:
        thread.join()       # type: ignore[attr-defined]


def plugin_analyzers(warnings: list[str]) -> list[tuple[str, Callable[[AnalysisContext], None]]]:
    if "thread" in _discovery:
        finish_discovery()
    elif "entries" not in _discovery and "error" not in _discovery:
        _discover()
    if "error" in _discovery:
        warnings.append(f"analyzer plug-ins: cannot list them: {_discovery['error']}")
    found = []
    for entry in _discovery.get("entries", []):     # type: ignore[union-attr]
        try:
            found.append((entry.name, entry.load()))
        except Exception as error:    # a broken plug-in must not stop the crash from opening
            warnings.append(f"analyzer {entry.name}: cannot load: {type(error).__name__}: {error}")
    return found


def analyze(crash, read: Reader | None = None, symbol: SymbolLookup | None = None,
            rules_file=None) -> None:
    """Add classifiers, annotations and attributes (severity, fingerprint) to crash.
    rules_file: a fingerprint rules file, or Rules already read."""
    started = time.perf_counter()
    context = AnalysisContext(crash, read, symbol)
    for name, analyzer in builtin_analyzers() + plugin_analyzers(crash.warnings):
        before = (len(crash.classifiers), len(crash.annotations), dict(crash.attributes))
        try:
            analyzer(context)
        except Exception as error:    # one failing analyzer costs its findings, not the crash
            del crash.classifiers[before[0]:], crash.annotations[before[1]:]
            crash.attributes.clear()
            crash.attributes.update(before[2])
            crash.warnings.append(f"analyzer {name} failed: {type(error).__name__}: {error}; its findings are "
                                  f"left out")
    set_fingerprint(crash, rules_file)
    crash.system["analysis_seconds"] = round(time.perf_counter() - started, 4)


# what the built-in analyzers write (AnalysisContext.attribute) and the fingerprint
ANALYSIS_ATTRIBUTES = ("severity", "severity.rule", "fingerprint", "fingerprint.frames", "abort_message",
                       "arena.size", "assertion", "crash_address.adjusted", "exception.type", "exception.what")


def without_analysis(crash) -> None:
    """A crash as opened with analysis off (a snapshot keeps what its capture found): the
    signal's own class stays, as a capture without analysis gives it."""
    from hydra.model.signals import SIGNAL_CLASSES

    signal = crash.signal.name if crash.signal else None
    crash.classifiers[:] = [c for c in crash.classifiers[:1]
                            if signal in SIGNAL_CLASSES and c.name == SIGNAL_CLASSES[signal]]
    crash.annotations.clear()
    for name in ANALYSIS_ATTRIBUTES:
        crash.attributes.pop(name, None)


def set_fingerprint(crash, rules_file=None) -> None:
    """The fingerprint attributes under a rules file (or Rules already read), the defaults'
    when None."""
    from hydra.analysis.fingerprint import Rules, RulesError, fingerprint, load_rules

    try:
        rules = rules_file if isinstance(rules_file, Rules) else load_rules(rules_file)
    except RulesError as error:
        crash.warnings.append(f"fingerprint rules: {error}; using the defaults")
        rules = load_rules(None)
    try:
        digest, frames = fingerprint(crash, rules)
    except Exception as error:     # a user's rules must not cost the crash its other findings
        crash.warnings.append(f"fingerprint failed: {type(error).__name__}: {error}")
    else:
        crash.attributes["fingerprint"] = digest
        crash.attributes["fingerprint.frames"] = " | ".join(frames)
