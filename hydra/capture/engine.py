"""Capture from a core: drgn unwinds and reads values; this module is the recipe, and each
stage has a module of its own: the debug info (debuginfo.py), the threads (walker.py), the
memory kept (memory.py).

The result is a self-contained Crash: frames with names, lines, registers and variables,
the memory behind stacks and variables, code bytes around every pc, and sources.
"""

from __future__ import annotations

import gc
import logging
import os
import time

import drgn

from hydra.capture import attributes as attrs
from hydra.capture import environment
from hydra.capture.corefile import AT_RANDOM, CoreInfo, read_core
from hydra.capture.debuginfo import (add_file_memory, check_executable, executable_path, fill_debug_cache,
                                     load_modules, main_module, modules_of)
from hydra.capture.fromtypes import read_again
from hydra.capture.memory import bytes_or_none, capture_memory, follow_global_pointers, keep_memory, uncovered
from hydra.capture.options import CaptureOptions
from hydra.capture.programsymbols import ProgramSymbols
from hydra.capture.sources import Unreadable, parse_source_maps, read_source
from hydra.capture.symboltable import build_symbols
from hydra.capture.typetable import LIBRARY_GLOBAL_DIES, TypedGlobal, Types
from hydra.capture.unwind import Unwinder
from hydra.capture.values import ValueReader
from hydra.capture.version import CAPTURE_VERSION
from hydra.capture.walker import FrameWalker, capture_threads, in_two_processes, take_handed_rereads
from hydra.model import BadInput
from hydra.model.crash import SENT_CODES, Classifier, Crash, MapEntry, Process, Signal, SourceFile
from hydra.model.signals import SIGNAL_CLASSES, carries_address, code_name, signal_name
from hydra.snapshot.format import compress_ahead
from hydra.symbols.dwarf import OpenedAhead
from hydra.symbols.scopecache import ScopeCache

MAX_SOURCES_BYTES = 64 << 20  # all sources of a snapshot (a file named by many paths counts once)


def capture_core(path: str, options: CaptureOptions | None = None, fd: int | None = None) -> Crash:
    """The crash in the core at path; `fd`, when given, is the core already open (a core
    Hydra may no longer open by its path, having dropped to another user's rights)."""
    # Capture builds tens of thousands of small acyclic objects (frames, variable trees);
    # the cycle collector would rescan them all again and again for nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _capture(path, options or CaptureOptions(), fd)
    finally:
        if collecting:
            gc.enable()


def _capture(path: str, options: CaptureOptions, fd: int | None) -> Crash:
    started = time.time()
    info = read_core(path, fd)
    try:
        source_maps = parse_source_maps(options.source_maps)
        user_attributes = attrs.parse_pairs(options.kv, "--kv")
        env_attributes = attrs.environment_attributes()
    except ValueError as error:
        raise BadInput(path, str(error)) from None
    if options.exe:
        check_executable(options.exe, info)
    if options.analysis:
        from hydra.analysis import start_discovery

        # with many threads, analysis warms up after the fork (capture_threads) instead:
        # there it takes this process's time, not both's
        start_discovery(preload=not in_two_processes(info))

    logging.getLogger("drgn").setLevel(logging.CRITICAL)
    prog = drgn.Program()
    try:
        prog.set_core_dump(path if fd is None else os.dup(fd))     # drgn closes what it is given
    except (drgn.BadDataError, ValueError, OSError) as error:
        raise BadInput(path, f"cannot read core: {error}") from None
    crash = Crash(origin="core")
    crash.warnings.extend(info.warnings)
    crash.truncated = info.truncated
    opening = OpenedAhead()
    try:
        mapped = load_modules(prog, info, options, crash, opening)
    except BaseException:
        opening.close()
        raise
    try:
        file_code = add_file_memory(prog, info)
        secrets = _environment(prog, info, crash, options.environment)

        crash.process = Process(
            pid=info.pid, command_line=info.psargs, executable=executable_path(prog, info),
            uid=info.uid, gid=info.gid, capture_time=started, core_path=os.path.abspath(path),
            core_size=info.size, architecture=info.arch.name, state=info.state,
            capture_version=CAPTURE_VERSION,
        )
        crash.signal = _signal(info)
        crash.crashed_tid = info.threads[0].tid
        crash.memory_map = _memory_map(info)
        crash.modules = modules_of(prog, crash, options.debug_cache)

        program_symbols = ProgramSymbols(prog)
        reader = ValueReader(prog, program_symbols, options.limits, architecture=info.arch.name,
                             secrets=[secret.decode("latin-1") for secret in secrets])
        executable = [(s.vaddr, s.vaddr + s.memsz) for s in info.segments if s.flags & 1] + file_code
        unwinder = Unwinder(prog, info.arch, lambda a: any(lo <= a < hi for lo, hi in executable))
        remembered = ScopeCache(options.scope_cache) if options.scope_cache else None
        walker = FrameWalker(prog, reader, options.variables, crash, unwinder, remembered)
        try:
            walker.debug_files.update(opening.take())
            crash.threads = capture_threads(walker, info, options.analysis, mapped)
            types = Types(walker.debug_files)
            try:
                functions = types.attach(walker.notes)
                take_handed_rereads(walker)
                if options.written:
                    # the packed threads' variables are final now: compressed while the rest is done
                    compress_ahead(crash)
                typed_globals = _typed_globals(prog, types, crash, functions)
            finally:
                types.close()
        finally:
            walker.close()

        follow_global_pointers(prog, reader, types.table, typed_globals)
        for name in options.globals:
            obj = _global_variable(prog, name, crash)
            if obj is None:
                crash.warnings.append(f"--global {name}: no such variable in the debug info")
                continue
            crash.globals.append(reader.variable(name, obj, "global"))

        crash.types = types.table
        capture_memory(prog, info, crash, reader, walker, secrets, options.memory, typed_globals)
        _capture_sources(crash, source_maps)
        crash.symbols = build_symbols(prog, program_symbols, crash, functions, typed_globals)
        # what drgn could not build, from the types and memory kept; what else it reads of
        # the core (a Rust slice's elements) is kept too
        read = read_again(crash, reader.rereads, lambda address, size: bytes_or_none(prog, address, size))
        kept = sorted((region.start, region.start + region.size) for region in crash.memory.regions)
        keep_memory(prog, crash, [(low, high, "object") for address, size in read
                                  for low, high in uncovered(address, address + size, kept)], secrets)

        crash.attributes.update(attrs.host_attributes(os.path.basename(crash.process.executable or "") or info.fname))
        crash.attributes.update(env_attributes)
        crash.attributes.update(user_attributes)
        missing = [m for m in crash.modules if not m.has_symbols and not m.path.startswith("[")
                   and "vdso" not in m.path]
        if missing:
            crash.attributes["_missing_symbols"] = ",".join(m.path for m in missing)
            if options.exe and any(m.path == crash.process.executable for m in missing):
                crash.warnings.append(f"{options.exe}: no symbols or debug info (stripped?): the program's "
                                      f"frames show as module+offset")
        if crash.signal and crash.signal.name in SIGNAL_CLASSES:
            crash.classifiers.append(Classifier(SIGNAL_CLASSES[crash.signal.name], crash.signal.name))
        if options.analysis:
            from hydra.analysis import analyze

            analyze(crash, read=lambda address, size: prog.read(address, size),
                    symbol=lambda name: prog.symbol(name).address, rules_file=options.rules)
        environment.scrub_crash(crash, secrets)
        crash.system["capture_seconds"] = round(time.time() - started, 3)
        if options.debug_cache:
            fill_debug_cache(prog, options.debug_cache)
        if remembered is not None:
            remembered.save()
        return crash
    finally:
        opening.close()    # what an error left untaken
        mapped.stop()      # before prog, and drgn's mappings with it, go away


def _typed_globals(prog: drgn.Program, types: Types, crash: Crash, functions: dict[int, int]) -> list[TypedGlobal]:
    """The globals and functions' statics of the executable, then of the libraries with
    debug info, with their types (and their functions' types into `functions`). An
    expression's name finds the executable's first."""
    main = main_module(prog)
    found: list[TypedGlobal] = []
    if main is not None and main.debug_file_path:
        found, complete = types.globals_of(main.debug_file_path, main.name, main.debug_file_bias, functions)
        if not complete:
            crash.warnings.append(f"{main.name}: only the globals of its first compile units are kept "
                                  f"(its debug info is large)")
    # the libraries share a budget, the smallest debug files first: a program's own
    # libraries are read before a large system library, which is left out whole (a part of
    # its globals would be an arbitrary part)
    libraries = [m for m in prog.modules() if isinstance(m, drgn.SharedLibraryModule) and m.debug_file_path]
    left, cut = [LIBRARY_GLOBAL_DIES], []
    for module in sorted(libraries, key=lambda m: _file_size(m.debug_file_path)):
        # debug files hold about one DIE in 14 to 24 bytes: one far beyond the budget is not walked
        if not cut and _file_size(module.debug_file_path) // 24 <= left[0]:
            library_globals, complete = types.globals_of(module.debug_file_path, module.name,
                                                         module.debug_file_bias, functions, left, whole=True)
            found += library_globals
            if complete:
                continue
        cut.append(module.name)
    if cut:
        # a budget's choice, not a fault in the core: noted in the System tab, not warned about
        crash.system["globals_not_kept"] = ", ".join(os.path.basename(name) for name in cut) + \
            " (large debug info; --global NAME shows one)"
    return found


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _global_variable(prog: drgn.Program, name: str, crash: Crash):
    """`NAME` or `FILE:NAME`. A bare name prefers the program's own definition, looked up
    in the source files its frames are in, over a library's variable of the same name."""
    filename, _, bare = name.rpartition(":") if ":" in name and "::" not in name else ("", "", name)
    executable = crash.process.executable
    files = [filename] if filename else list(dict.fromkeys(
        f.file for t in crash.threads for f in t.frames if f.file and f.module == executable))
    for source in files:
        try:
            return prog.variable(bare, source)
        except (LookupError, ValueError):
            continue
    if filename:
        return None
    try:
        return prog.variable(bare)
    except (LookupError, ValueError):
        return None


def _signal(info: CoreInfo) -> Signal | None:
    if info.siginfo:
        number, _errno, code, address = info.siginfo
    elif info.threads and info.threads[0].signal:
        number, code, address = info.threads[0].signal, None, None
    else:
        return None
    name = signal_name(number)
    signal = Signal(number=number, name=name, code=code, code_name=code_name(name, code),
                    address=address if carries_address(name, code) else None)
    if info.siginfo and code in SENT_CODES and address is not None:
        # kill's siginfo holds the sender's pid and uid where a fault's holds the address
        signal.sender_pid, signal.sender_uid = address & 0xFFFFFFFF, address >> 32
    return signal


def _memory_map(info: CoreInfo) -> list[MapEntry]:
    entries = []
    for segment in sorted(info.segments, key=lambda s: s.vaddr):
        path = None
        offset = 0
        for mapping in info.files:
            if mapping.start <= segment.vaddr < mapping.end:
                path = mapping.path
                offset = mapping.offset + segment.vaddr - mapping.start
                break
        entries.append(MapEntry(segment.vaddr, segment.vaddr + segment.memsz, segment.perms + "p",
                                offset, path))
    return entries


def _environment(prog: drgn.Program, info: CoreInfo, crash: Crash, keep: bool) -> list[bytes]:
    """Unless kept, the environment block reads as zeros from here on; what to zero
    wherever else kept memory holds it (see capture/environment.py)."""
    marker = info.auxv.get(environment.AT_EXECFN) or info.auxv.get(AT_RANDOM)
    segment = next((s for s in info.segments if marker is not None and s.vaddr <= marker < s.vaddr + s.memsz), None)
    if segment is None:
        return []
    found = environment.find_environment(lambda address, size: prog.read(address, size), info.auxv,
                                         segment.vaddr + segment.memsz, segment.vaddr)
    if found is None:
        return []
    start, end, strings = found
    if keep:
        crash.system["environment"] = environment.parse(strings)
        return []
    prog.add_memory_segment(start, end - start, lambda address, count, offset, physical: bytes(count))
    return environment.secrets_of(strings)


def _capture_sources(crash: Crash, source_maps: list[tuple[str, str]]) -> None:
    wanted = []
    for thread in crash.threads:
        for frame in thread.frames:
            if frame.file and frame.file not in crash.sources and frame.file not in wanted:
                wanted.append(frame.file)
    seen: dict = {}
    budget = [MAX_SOURCES_BYTES]
    for path in wanted:
        try:
            text = read_source(path, source_maps, seen=seen, budget=budget)
        except Unreadable as denied:
            crash.warnings.append(f"source {denied}: permission denied; left out")
            continue
        if text is not None:
            crash.sources[path] = SourceFile(path, _text=text)
