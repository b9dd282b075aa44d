"""Session fixtures: real programs compiled and crashed once per test run."""

from __future__ import annotations

import os
import resource
import shutil
import sys
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

# tests/ is on the import path both for pytest and for the benchmarks that import this file
from store.engines import postgresql_server, store_location  # noqa: E402, F401  (fixtures)

PROGRAMS = Path(__file__).parent / "programs"


@dataclass(frozen=True)
class CrashedProgram:
    name: str
    exe: str
    core: str
    source: str
    libraries: tuple[str, ...] = ()      # shared libraries built beside exe, which it loads



def _allow_cores():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _cargo_build(workspace: Path, out: Path) -> Path:
    """`cargo build --release` of a workspace (its profile says how), built from a copy so
    that nothing (Cargo.lock, target/) is written into the tests' folder; the program is the
    workspace's one binary."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not installed (.ci/run installs it)")
    copy = out.parent / "workspace"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(workspace, copy)
    environment = {**os.environ, "CARGO_HOME": str(out.parent / "cargo-home"), "CARGO_TARGET_DIR": str(copy / "target")}
    subprocess.run([cargo, "build", "--release", "--offline", "--quiet"], check=True, capture_output=True,
                   text=True, cwd=copy, env=environment)
    built = [path for path in (copy / "target" / "release").iterdir() if path.is_file() and os.access(path, os.X_OK)]
    if len(built) != 1:
        raise RuntimeError(f"{workspace.name}: expected one program, cargo built {[p.name for p in built]}")
    shutil.copy2(built[0], out)
    return out


def compile_program(source: Path, out: Path, flags: list[str]) -> Path:
    if (source / "Cargo.toml").is_file():
        return _cargo_build(source, out)
    if source.suffix == ".rs":
        rustc = shutil.which("rustc")
        if rustc is None:
            pytest.skip("rustc is not installed (.ci/run installs it)")
        levels = [flag[2:] for flag in flags if flag.startswith("-O")]
        command = [rustc, "-g", "-C", "panic=abort", *(["-C", f"opt-level={levels[-1]}"] if levels else []),
                   "-o", str(out), str(source)]
        subprocess.run(command, check=True, capture_output=True, text=True)
        return out
    if source.suffix == ".go":
        go = shutil.which("go")
        if go is None:
            pytest.skip("go is not installed (.ci/run installs golang-go)")
        # -O0: without optimizations or inlining, as `go build -gcflags=all='-N -l'`
        gcflags = ["-gcflags=all=-N -l"] if "-O0" in flags else []
        cache = out.parent / "go-cache"
        environment = {**os.environ, "GOCACHE": str(cache), "GOPATH": str(cache / "path"), "GO111MODULE": "off",
                       "GOFLAGS": "", "CGO_ENABLED": "0"}
        subprocess.run([go, "build", *gcflags, "-o", str(out), str(source)], check=True, capture_output=True,
                       text=True, env=environment, cwd=out.parent)
        return out
    compiler = "g++" if source.suffix == ".cpp" else "gcc"
    chosen = [flag for flag in flags if flag.startswith("CC=")]     # extra=("CC=clang",): another compiler
    if chosen:
        compiler = chosen[-1][3:]
        if shutil.which(compiler) is None:
            pytest.skip(f"{compiler} is not installed (.ci/run installs it)")
    links = [flag for flag in flags if flag.startswith("-l")]       # after the source that needs them
    command = [compiler, "-g", *(f for f in flags if f not in links and f not in chosen), "-o", str(out),
               str(source), *links, "-pthread"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out


def crash_program(exe: Path, workdir: Path, args: list[str] | None = None) -> Path:
    """Run until it dies of a signal and return the core it leaves in workdir."""
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|"):
        raise RuntimeError(f"core_pattern pipes cores to {pattern!r}; tests need cores written as files")
    for old in workdir.glob("core*"):
        old.unlink()
    # a Go program's fatal error ends in SIGABRT with a core only with GOTRACEBACK=crash
    process = subprocess.run([str(exe), *(args or [])], cwd=workdir, preexec_fn=_allow_cores,
                             capture_output=True, timeout=120, env={**os.environ, "GOTRACEBACK": "crash"})
    if process.returncode >= 0:
        raise RuntimeError(f"{exe.name} exited with {process.returncode} instead of crashing")
    cores = sorted(workdir.glob("core*"), key=lambda p: p.stat().st_mtime)
    if not cores:
        raise RuntimeError(f"{exe.name} crashed but left no core (core_pattern {pattern!r})")
    final = workdir / f"{exe.name}.core"
    shutil.move(str(cores[-1]), final)
    return final


class ProgramFactory:
    def __init__(self, root: Path):
        self.root = root
        self.cache: dict[tuple, CrashedProgram] = {}

    def __call__(self, source: str, opt: str = "-O0", extra: tuple[str, ...] = (),
                 args: tuple[str, ...] = (), libraries: tuple[str, ...] = ()) -> CrashedProgram:
        """`libraries`: sources built (with `opt`) into lib<stem>.so beside the program,
        which links them and finds them through its rpath."""
        key = (source, opt, extra, args, libraries)
        if key not in self.cache:
            suffix = Path(source).suffix
            stem = Path(source).stem + ("" if suffix == ".c" else "_" + suffix[1:]) + opt.replace("-", "_") + \
                "".join(e.replace("-", "_").replace("=", "_") for e in extra)
            exe_dir = self.root / stem
            workdir = exe_dir / ("run_" + "_".join(args) if args else "run")
            workdir.mkdir(parents=True, exist_ok=True)
            exe = exe_dir / stem
            built = [exe_dir / f"lib{Path(library).stem}.so" for library in libraries]
            if not exe.exists():
                for library, output in zip(libraries, built):
                    compile_program(PROGRAMS / library, output, [opt, "-shared", "-fPIC"])
                links = [f"-l{Path(library).stem}" for library in libraries]
                linking = [f"-L{exe_dir}", "-Wl,-rpath,$ORIGIN", *links] if libraries else []
                compile_program(PROGRAMS / source, exe, [opt, *extra, *linking])
            core = crash_program(exe, workdir, list(args))
            self.cache[key] = CrashedProgram(stem, str(exe), str(core), str(PROGRAMS / source),
                                             tuple(str(path) for path in built))
        return self.cache[key]


@pytest.fixture(scope="session")
def crashed(tmp_path_factory) -> ProgramFactory:
    return ProgramFactory(tmp_path_factory.mktemp("programs"))


_captures: dict = {}


@pytest.fixture(scope="session")
def capture():
    """capture(program) -> Crash, cached for the session."""
    from hydra.capture.engine import CaptureOptions, capture_core

    def run(program: CrashedProgram):
        if program.core not in _captures:
            # with the environment kept, as gdb shows it: a stale stack buffer may hold
            # environment strings, which a capture blanks by default
            _captures[program.core] = capture_core(program.core, CaptureOptions(environment=True))
        return _captures[program.core]

    return run


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory):
    """The run's own cache folder: the programs it builds live in temporary folders, and
    what Hydra remembers about them (scopes, the plug-in listing) is no use afterwards."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("HYDRA_ATTRIBUTES", raising=False)
    yield


def hydra_command() -> list[str]:
    return [sys.executable, "-m", "hydra"]


def snapshot_text(crash) -> str:
    """Everything a crash holds that someone could read: memory, sources, values, names,
    attributes, warnings and the system facts, as one text to search."""
    import json

    parts = [region.data.decode("latin-1") for region in crash.memory.regions]
    parts += [source.text for source in crash.sources.values()]
    parts += list(crash.attributes.values()) + list(crash.warnings) + [json.dumps(crash.system)]

    def walk(variable):
        parts.append(variable.value)
        for child in variable.children:
            walk(child)

    for variable in crash.globals:
        walk(variable)
    for thread in crash.threads:
        for frame in thread.frames:
            for variable in frame.args + frame.locals:
                walk(variable)
    return "\n".join(parts)
