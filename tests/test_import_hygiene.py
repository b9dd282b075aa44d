"""Layers: the model, format, capture, symbols and report code never load the UI toolkit,
and the CLI loads heavy modules only for the command that needs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

UI = ("textual", "rich")


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", [
    "hydra.model", "hydra.snapshot.format", "hydra.capture.engine", "hydra.symbols.demangle",
    "hydra.report.backtrace", "hydra.loader", "hydra.minidump.opener", "hydra.symbols.breakpad",
    "hydra.symbols.locate", "hydra.symbols.elfsymbols", "hydra.config", "hydra.analysis.fingerprint",
    "hydra.live.snapshot", "hydra.coresnap.handler", "hydra.coresnap.install", "hydra.report.buckets",
    "hydra.store.db", "hydra.store.index", "hydra.store.query", "hydra.store.output", "hydra.workers",
])
def test_core_layers_do_not_import_the_ui(module):
    modules = loaded_after(f"import {module}")
    assert not {m for m in modules if m.split(".")[0] in UI}


def _disassembly(modules) -> set[str]:
    """capstone's binding or our calls into its library (which load ctypes and the library)."""
    return {m for m in modules if m.split(".")[0] == "capstone" or m == "hydra.analysis.libcapstone"}


def test_cli_import_is_light():
    modules = loaded_after("import hydra.cli")
    heavy = {"drgn", "_drgn", "elftools", "capstone", "textual", "rich", "pygments", "msgpack"}
    assert not {m for m in modules if m.split(".")[0] in heavy}
    assert not _disassembly(modules)


def test_reading_a_snapshot_needs_no_capture_engine():
    modules = loaded_after("import hydra.snapshot.format, hydra.report.backtrace")
    assert not {m for m in modules if m.split(".")[0] in ("drgn", "_drgn", "elftools", "capstone")}
    assert not _disassembly(modules)


def test_the_ui_reads_the_model_and_parses_no_files():
    modules = loaded_after("import hydra.tui.app")
    assert not {m for m in modules if m.startswith(("hydra.capture", "hydra.minidump", "hydra.symbols.breakpad"))}
    assert not {m for m in modules if m.split(".")[0] in ("drgn", "_drgn", "elftools", "capstone")}
    assert not _disassembly(modules)       # the code view loads it when first shown


def test_minidumps_need_no_capture_engine():
    modules = loaded_after("import hydra.minidump.opener, hydra.analysis.faults, hydra.analysis.evidence")
    assert not {m for m in modules if m.split(".")[0] in ("drgn", "_drgn", "capstone")}
    assert not _disassembly(modules)       # loaded by the first dump whose instruction is decoded
    assert not {m for m in modules if m.startswith("hydra.capture")}
