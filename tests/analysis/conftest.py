"""Programs that crash in one class each, built and crashed once per test run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import PROGRAMS, compile_program, crash_program

BUILDS = {
    "O0": ["-O0", "-fstack-protector-all"],
    "fortify": ["-O2", "-D_FORTIFY_SOURCE=2"],
}


class CrashFactory:
    def __init__(self, root: Path):
        self.root = root
        self.exes: dict[tuple, Path] = {}
        self.cores: dict[tuple, str] = {}

    def exe(self, source: str, build: str) -> Path:
        key = (source, build)
        if key not in self.exes:
            folder = self.root / f"{Path(source).stem}-{build}"
            folder.mkdir(parents=True, exist_ok=True)
            flags = BUILDS.get(build, [f"-{build}"])
            self.exes[key] = compile_program(PROGRAMS / source, folder / Path(source).stem, flags)
        return self.exes[key]

    def core(self, source: str, build: str, *args: str, env: dict | None = None) -> str:
        key = (source, build, args, tuple(sorted((env or {}).items())))
        if key not in self.cores:
            exe = self.exe(source, build)
            folder = exe.parent / ("-".join(args) + ("-env" if env else "") or "default")
            folder.mkdir(exist_ok=True)
            saved = {k: os.environ.get(k) for k in (env or {})}
            os.environ.update(env or {})
            try:
                self.cores[key] = str(crash_program(exe, folder, list(args)))
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        return self.cores[key]


@pytest.fixture(scope="session")
def crashes(tmp_path_factory) -> CrashFactory:
    return CrashFactory(tmp_path_factory.mktemp("classes"))


_captured: dict[str, object] = {}


@pytest.fixture(scope="session")
def analyzed():
    from hydra.capture.engine import capture_core

    def run(core: str):
        if core not in _captured:
            _captured[core] = capture_core(core)
        return _captured[core]

    return run
