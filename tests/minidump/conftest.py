"""The shared real minidumps (Breakpad's and Sentry's test data) and per-test symbol folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [os.environ.get("HYDRA_MINIDUMP_DATA", ""), str(ROOT.parent / "shared" / "data" / "minidumps"),
              "/work/shared/data/minidumps"]


def data_root() -> Path | None:
    for candidate in CANDIDATES:
        if candidate and (Path(candidate) / "INDEX.md").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def dumps() -> Path:
    root = data_root()
    if root is None:
        pytest.skip("the shared minidump data is not here (set HYDRA_MINIDUMP_DATA to its folder)")
    return root


@pytest.fixture(autouse=True)
def _symbol_cache(tmp_path_factory, monkeypatch):
    """Symbol caches go to a folder of this test run, never the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("HYDRA_SYMBOL_PATH", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))


def symbol_folder(tmp: Path, layout: dict[str, Path], keep=lambda line: True) -> Path:
    """A symbol-server folder: {"module/DEBUGID/module.sym": source .sym file}."""
    for relative, source in layout.items():
        target = tmp / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, encoding="utf-8", errors="replace") as handle:
            target.write_text("".join(line for line in handle if keep(line)))
    return tmp


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, dirs_exist_ok=True)
    return target
