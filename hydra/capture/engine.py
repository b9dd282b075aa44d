"""Capture from a core: drgn unwinds and reads values; this module decides what to keep.

The result is a self-contained Crash: frames with names, lines, registers and variables,
the memory behind stacks and variables, code bytes around every pc, and sources.
"""

from __future__ import annotations

import bisect
import functools
import gc
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import drgn
import msgpack

from hydra.capture import attributes as attrs
from hydra.capture import cplusplus, environment, parallel
from hydra.capture.residency import MappedDebugFiles
from hydra.capture.corefile import AT_RANDOM, CoreInfo, read_core
from hydra.symbols.elffile import open_image
from hydra.symbols.callsites import CallSites, EntryParameter
from hydra.symbols.dwarf import DebugFile, FunctionScope, frame_base_steps, spelled_as_unit
from hydra.symbols.scopecache import ScopeCache
from hydra.capture.sources import Unreadable, parse_source_maps, read_source
from hydra.capture.fromtypes import NOT_READ, UNKNOWN_TAG, computed_address, held_bytes, read_again
from hydra.capture.programsymbols import ProgramSymbols
from hydra.capture.symboltable import build_symbols
from hydra.capture.entryvalues import jump_target, parameter_values
from hydra.capture.tailcalls import Link, PhysicalFrame, TailFrame, add_tail_call_frames
from hydra.capture.typetable import LIBRARY_GLOBAL_DIES, TypedGlobal, TypeNotes, Types
from hydra.capture.unwind import Unwinder, Walk, WalkedFrame
from hydra.capture.options import CaptureOptions
from hydra.capture.values import ValueReader, as_reference, describe_error
from hydra.capture.version import CAPTURE_VERSION
from hydra.model import BadInput
from hydra.model.crash import (
    OPTIMIZED_OUT, SENT_CODES, SIGNAL_HANDLER_CALLED, Classifier, Crash, Frame, MapEntry, Module, Process, Signal,
    SourceFile, Thread, Trust, Variable,
)
from hydra.model.memory import MemoryRegion
from hydra.model.record import replace
from hydra.model.signals import SIGNAL_CLASSES, carries_address, code_name, signal_name
from hydra.snapshot.format import decode_threads, encode_threads, forget_packed_variables
from hydra.symbols.demangle import function_name

# code bytes kept around pcs: the faulting instruction with context on both sides,
# and for callers the instructions leading up to the call
TOP_CODE_CONTEXT = (192, 128)
CALLER_CODE_CONTEXT = (96, 16)
STACK_RED_ZONE = 128
STACK_LIMIT = 4 << 20         # stack bytes kept per thread from sp upwards
STACK_GUARD_GAP = 1 << 20     # Linux's gap below a stack (stack_guard_gap): an overflowed sp is in it
STACK_TOP_KEEP = 64 << 10     # and the top of the stack (argv, env, auxv) beyond that
ADDRESS_END = (1 << 64) - 1   # no read reaches the last byte: drgn counts the end in 64 bits
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
        _check_executable(options.exe, info)
    if options.analysis:
        from hydra.analysis import start_discovery

        start_discovery(preload=True)

    logging.getLogger("drgn").setLevel(logging.CRITICAL)
    prog = drgn.Program()
    try:
        prog.set_core_dump(path if fd is None else os.dup(fd))     # drgn closes what it is given
    except (drgn.BadDataError, ValueError, OSError) as error:
        raise BadInput(path, f"cannot read core: {error}") from None
    crash = Crash(origin="core")
    crash.warnings.extend(info.warnings)
    crash.truncated = info.truncated
    mapped = _load_modules(prog, info, options, crash)
    try:
        file_code = _add_file_memory(prog, info)
        secrets = _environment(prog, info, crash, options.environment)

        crash.process = Process(
            pid=info.pid, command_line=info.psargs, executable=_executable_path(prog, info),
            uid=info.uid, gid=info.gid, capture_time=started, core_path=os.path.abspath(path),
            core_size=info.size, architecture=info.arch.name, state=info.state,
            capture_version=CAPTURE_VERSION,
        )
        crash.signal = _signal(info)
        crash.crashed_tid = info.threads[0].tid
        crash.memory_map = _memory_map(info)
        crash.modules = _modules(prog, crash, options.debug_cache)

        program_symbols = ProgramSymbols(prog)
        reader = ValueReader(prog, program_symbols, options.limits, architecture=info.arch.name,
                             secrets=[secret.decode("latin-1") for secret in secrets])
        executable = [(s.vaddr, s.vaddr + s.memsz) for s in info.segments if s.flags & 1] + file_code
        unwinder = Unwinder(prog, info.arch, lambda a: any(lo <= a < hi for lo, hi in executable))
        remembered = ScopeCache(options.scope_cache) if options.scope_cache else None
        walker = _FrameWalker(prog, reader, options.variables, crash, unwinder, remembered)
        crash.threads = _capture_threads(walker, info, options.analysis, mapped)
        types = Types(walker.debug_files)
        try:
            functions = types.attach(walker.notes)
            _take_handed_rereads(walker)
            typed_globals = _typed_globals(prog, types, crash, functions)
        finally:
            types.close()
            walker.close()

        _follow_global_pointers(prog, reader, types.table, typed_globals)
        for name in options.globals:
            obj = _global_variable(prog, name, crash)
            if obj is None:
                crash.warnings.append(f"--global {name}: no such variable in the debug info")
                continue
            crash.globals.append(reader.variable(name, obj, "global"))

        crash.types = types.table
        _capture_memory(prog, info, crash, reader, walker, secrets, options.memory, typed_globals)
        _capture_sources(crash, source_maps)
        crash.symbols = build_symbols(prog, program_symbols, crash, functions, typed_globals)
        # what drgn could not build, from the types and memory kept; what else it reads of
        # the core (a Rust slice's elements) is kept too
        read = read_again(crash, reader.rereads, lambda address, size: _bytes_or_none(prog, address, size))
        kept = sorted((region.start, region.start + region.size) for region in crash.memory.regions)
        _keep_memory(prog, crash, [(low, high, "object") for address, size in read
                                   for low, high in _uncovered(address, address + size, kept)], secrets)

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
            _fill_debug_cache(prog, options.debug_cache)
        if remembered is not None:
            remembered.save()
        return crash
    finally:
        mapped.stop()      # before prog, and drgn's mappings with it, go away


def _prefill_debug_cache(modules, root: str, directories) -> None:
    """Inflate the compressed debug files that sit in the build-id layout before drgn and
    libdw open them: each would inflate them again otherwise, so a first capture pays for
    inflating once, not three times."""
    from hydra.symbols import debugcache

    searched = [d for d in directories if os.path.isabs(d) and os.path.realpath(d) != os.path.realpath(root)]
    for module in modules:
        if not module.build_id:
            continue
        build_id = module.build_id.hex()
        for directory in searched:
            candidate = os.path.join(directory, ".build-id", build_id[:2], build_id[2:] + ".debug")
            if os.path.isfile(candidate):
                debugcache.store(root, candidate, build_id)
                break


def _fill_debug_cache(prog: drgn.Program, root: str) -> None:
    """Keep inflated copies of the compressed debug files this capture read, so the next
    capture of a crash in the same libraries reads them in place."""
    from hydra.symbols import debugcache

    for module in prog.modules():
        if module.debug_file_path and module.build_id and \
                module.debug_file_status == drgn.ModuleFileStatus.HAVE:
            debugcache.store(root, module.debug_file_path, module.build_id.hex())


def _capture_threads(walker: _FrameWalker, info: CoreInfo, discovering: bool,
                     mapped: MappedDebugFiles) -> list[Thread]:
    """Unwind and decode every thread; with many, the last two fifths in a forked copy."""
    threads = info.threads
    if len(threads) < parallel.MIN_THREADS:
        return walker.capture(threads, info)
    if discovering:
        from hydra.analysis import finish_discovery

        finish_discovery()
    # the copy unwinds more slowly (each page it writes is copied first) and must pack what
    # it found: it takes two fifths, and both sides finish about together
    half = (len(threads) * 3 + 4) // 5
    reader = walker.reader
    # each side may spend half of what is left of the pointed-to object budget
    reserve = max(0, reader.limits.object_budget - reader.object_bytes) // 2
    reader.object_bytes += reserve
    spent_before = reader.object_bytes

    def their_part() -> bytes:
        mapped.restart_after_fork()
        part = walker.capture(threads[half:], info)
        type_notes = walker.notes.handover(part)
        return msgpack.packb({
            "threads": encode_threads(part), "pcs": list(walker.pcs.items()),
            "rereads": _places_of(part, reader.rereads),
            "ranges": reader.ranges[ranges_before:], "object_bytes": reader.object_bytes - spent_before,
            "scopes": walker.remembered.new_entries() if walker.remembered is not None else [],
            "type_notes": type_notes,
            "functions": [[path, die, entry] for (path, die), entry in walker.notes.functions.items()],
        }, use_bin_type=True)

    ranges_before = len(reader.ranges)
    helper = parallel.start(their_part)
    started = time.monotonic()
    mine = walker.capture(threads[:half], info)
    reader.object_bytes -= reserve
    handed = helper.result(timeout=5.0 + 4 * (time.monotonic() - started)) if helper else None
    if handed is None:
        return mine + walker.capture(threads[half:], info)
    theirs = msgpack.unpackb(handed, raw=False, strict_map_key=False)
    for pc, innermost in theirs["pcs"]:
        walker.pcs[pc] = walker.pcs.get(pc, False) or innermost
    reader.ranges.extend((address, size) for address, size in theirs["ranges"])
    reader.object_bytes += theirs["object_bytes"]
    if walker.remembered is not None:
        walker.remembered.put_entries(theirs["scopes"])
    type_map: list = []         # filled when the types are read, before a variable is read
    others = decode_threads(theirs["threads"], type_map)
    walker.notes.take(theirs["type_notes"], type_map, theirs["functions"])
    # the variables to read again are taken once the types are read (walker.handed_rereads):
    # decoded before, they would have no types
    walker.handed_rereads = [(others[thread], frame, group, position)
                             for thread, frame, group, position in theirs["rereads"]]
    return mine + others


def _take_handed_rereads(walker: _FrameWalker) -> None:
    """The forked capture's variables to read again, into the reader's list; their threads'
    variables are then written from the frames, not as the copy packed them."""
    for thread, frame, group, position in walker.handed_rereads:
        walker.reader.rereads.append(getattr(thread.frames[frame], group)[position])
        forget_packed_variables(thread)
    walker.handed_rereads = []


def _places_of(threads: list[Thread], variables: list[Variable]) -> list[list]:
    """Where variables are among the threads' frames: [thread, frame, "args" or "locals",
    position] (a forked capture hands its threads back encoded)."""
    wanted = {id(variable) for variable in variables}
    return [[t, f, group, position] for t, thread in enumerate(threads) for f, frame in enumerate(thread.frames)
            for group in ("args", "locals") for position, variable in enumerate(getattr(frame, group))
            if id(variable) in wanted] if wanted else []


def _typed_globals(prog: drgn.Program, types: Types, crash: Crash, functions: dict[int, int]) -> list[TypedGlobal]:
    """The globals and functions' statics of the executable, then of the libraries with
    debug info, with their types (and their functions' types into `functions`). An
    expression's name finds the executable's first."""
    main = _main_module(prog)
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


# parameters whose value at entry is a number in a register: shown as gdb shows them
ENTRY_VALUE_KINDS = (drgn.TypeKind.INT, drgn.TypeKind.BOOL, drgn.TypeKind.ENUM, drgn.TypeKind.POINTER)
FOLLOWED_GLOBALS = 256       # globals whose pointers' targets (a string, an object) a snapshot keeps


def _follow_global_pointers(prog: drgn.Program, reader: ValueReader, table, typed_globals) -> None:
    """What globals point at, themselves or through their members and elements (a string
    literal in .rodata, a heap object), is kept as for locals: `print greeting` shows its text
    from the snapshot."""
    followed = 0
    for typed in typed_globals:
        if followed >= FOLLOWED_GLOBALS:
            break
        type_ = table.get(table.strip_typedefs(typed.type_id))
        if type_ is None or type_.kind not in ("pointer", "struct", "class", "union", "array") or \
                typed.variable.function:
            continue
        try:
            obj = prog.variable(typed.variable.name)
        except (LookupError, ValueError, NotImplementedError):      # drgn reads no long double object
            continue
        if obj.address_ != typed.address:
            continue
        followed += 1
        try:
            reader.variable(typed.variable.name, obj, "global")
        except Exception:       # a hostile value: its target is simply not kept
            continue


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


def _check_executable(exe: str, info: CoreInfo) -> None:
    if not os.path.exists(exe):
        raise BadInput(exe, "no such executable")
    if os.path.isdir(exe):
        raise BadInput(exe, "is a directory, not an executable")
    if not os.access(exe, os.R_OK):
        raise BadInput(exe, "permission denied")
    image = open_image(exe)
    if image is None:
        raise BadInput(exe, "not an ELF executable")
    if image.machine != info.arch.machine:
        raise BadInput(exe, f"executable is not for {info.arch.name}, the core's architecture")


def _load_modules(prog: drgn.Program, info: CoreInfo, options: CaptureOptions, crash: Crash) -> MappedDebugFiles:
    # Debuginfod would reach for the network; capture uses local files only.
    prog.set_enabled_debug_info_finders(["standard"])
    debug_options = prog.debug_info_options
    if options.debug_dirs:
        debug_options.directories = tuple(options.debug_dirs) + tuple(debug_options.directories)
    cache = options.debug_cache
    if cache:
        try:
            os.makedirs(cache, exist_ok=True)
        except OSError:
            cache = None
    if cache:
        debug_options.directories = (cache,) + tuple(debug_options.directories)
    try:
        prog.create_loaded_modules()
    except Exception as error:  # corrupt link map, unreadable auxv
        crash.warnings.append(f"{info.path}: cannot list loaded modules: {error}")
    modules = list(prog.modules())
    if options.exe:
        try:
            prog.main_module().try_file(options.exe)
        except (LookupError, OSError, drgn.BadDataError):
            pass
    if options.sysroot:
        for module in modules:
            candidate = os.path.join(options.sysroot, module.name.lstrip("/"))
            if (module.wants_loaded_file() or module.wants_debug_file()) and os.path.isfile(candidate):
                try:
                    module.try_file(candidate)
                except (OSError, drgn.BadDataError):
                    pass
                if candidate not in (module.loaded_file_path, module.debug_file_path):
                    # drgn refuses a file whose build-id is not the one the core names
                    crash.warnings.append(f"{candidate}: not the file the process loaded as {module.name} "
                                          f"(another build): not used")
    if cache:
        _prefill_debug_cache(modules, cache, debug_options.directories)
    # the files first, then the index: the abbreviations are re-tagged in between, before
    # drgn or libdw has read any (with DWARF 4, indexing reads some through libdw)
    try:
        prog.find_standard_debug_info(modules)
    except Exception:
        pass            # load_debug_info below says what is missing or wrong
    debug_files = [module.debug_file_path for module in modules if module.debug_file_path]
    try:
        mapped = MappedDebugFiles(debug_files, written=cplusplus.teach_drgn(prog))
    except Exception as error:    # values then read as drgn alone reads them
        crash.warnings.append(f"C++ references and base classes not read: {type(error).__name__}: {error}")
        mapped = MappedDebugFiles(())      # what was written is not known: nothing is released
    mapped.start()
    try:
        _load_debug_info(prog, info, options, crash, modules)
    except BaseException:
        mapped.stop()        # before drgn unmaps the files the thread releases
        raise
    mapped.release()
    return mapped


def _load_debug_info(prog: drgn.Program, info: CoreInfo, options: CaptureOptions, crash: Crash,
                     modules: list) -> None:
    """Index the debug files, and say which binaries are missing or are other builds."""
    try:
        prog.load_debug_info(None, default=True)
    except drgn.MissingDebugInfoError:
        pass
    except Exception as error:
        crash.warnings.append(f"{info.path}: loading debug info failed: {error}")
    main = _main_module(prog)
    if options.exe and main is not None and main.build_id:
        image = open_image(options.exe)
        if image is not None and image.build_id and image.build_id != main.build_id.hex():
            # asked for by name: another build is a mistake to report, not to work around
            raise BadInput(options.exe, f"build-id {image.build_id} differs from the core's "
                                        f"{main.build_id.hex()}: not the executable that crashed")
    for module in modules:
        if module.loaded_file_status != drgn.ModuleFileStatus.HAVE and not module.name.startswith("["):
            expected = module.build_id.hex() if module.build_id else None
            candidates = [module.name]
            if module is main and options.exe:
                candidates.insert(0, options.exe)
            if options.sysroot:
                candidates.insert(0, os.path.join(options.sysroot, module.name.lstrip("/")))
            for candidate in candidates:
                if os.path.isfile(candidate) and not os.access(candidate, os.R_OK):
                    crash.warnings.append(f"{candidate}: permission denied; frames in it show as module+offset")
                    break
                image = open_image(candidate) if os.path.isfile(candidate) else None
                if image and expected and image.build_id and image.build_id != expected:
                    crash.warnings.append(
                        f"{candidate}: build-id {image.build_id} differs from the core's {expected}; "
                        f"not used for {module.name}")
                    break
            else:
                crash.warnings.append(f"{module.name}: binary not found; frames in it show as module+offset")


def _main_module(prog: drgn.Program):
    try:
        return prog.main_module()
    except LookupError:
        return None


def _executable_path(prog: drgn.Program, info: CoreInfo) -> str | None:
    main = _main_module(prog)
    if main is not None and main.name:
        return main.name
    return info.executable


def _add_file_memory(prog: drgn.Program, info: CoreInfo) -> list[tuple[int, int]]:
    """Let drgn read code and read-only data from the binaries where the core lacks them:
    a kernel's core keeps their segments without bytes, gdb's gcore leaves them out. Only
    segments the program cannot have written are read from a file. The executable ranges
    of the mapped binaries, as loaded."""
    covered = sorted((s.vaddr, s.vaddr + s.memsz) for s in info.segments)
    executable: list[tuple[int, int]] = []
    seen: set[tuple[str, int]] = set()
    for mapping in info.files:
        try:
            module = prog.module(mapping.start)
        except LookupError:
            continue
        if not module.loaded_file_path:
            continue
        image = open_image(module.loaded_file_path)
        if image is None:
            continue
        bias = module.loaded_file_bias

        def read(address, count, offset, physical, image=image, bias=bias):
            data = image.read(address - bias, count)
            if data is None or len(data) < count:
                raise drgn.FaultError("not in the binary", address)
            return data

        if (image.path, bias) not in seen:
            seen.add((image.path, bias))
            executable += [(vaddr + bias, vaddr + bias + size) for (vaddr, size, _offset), flags
                           in zip(image.segments, image.flags) if flags & 1]
        wanted = [(max(mapping.start, s.vaddr + s.filesz), min(mapping.end, s.vaddr + s.memsz))
                  for s in info.segments]
        # gcore: no segment at all where the file's read-only segments are mapped
        for (vaddr, size, _offset), flags in zip(image.segments, image.flags):
            if not flags & 2:
                low, high = max(mapping.start, vaddr + bias), min(mapping.end, vaddr + bias + size)
                wanted += _uncovered(low, high, covered)
        for start, end in wanted:
            if start < end:
                prog.add_memory_segment(start, end - start, read)
        # earlier-added core segments stay authoritative where the core has bytes:
        # only ranges the core lacks were added above.
    return executable


def _uncovered(low: int, high: int, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [low, high) outside every sorted (start, end) range."""
    parts = []
    for start, end in covered:
        if end <= low or start >= high:
            continue
        if start > low:
            parts.append((low, start))
        low = max(low, end)
    if low < high:
        parts.append((low, high))
    return parts


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


def _modules(prog: drgn.Program, crash: Crash, debug_cache: str | None) -> list[Module]:
    from hydra.symbols.debugcache import original_path

    modules = []
    for module in prog.modules():
        ranges = list(getattr(module, "address_ranges", None) or [])
        if not ranges:
            continue
        base = min(start for start, _ in ranges)
        end = max(stop for _, stop in ranges)
        modules.append(Module(
            path=module.name,
            base=base,
            size=end - base,
            build_id=module.build_id.hex() if module.build_id else None,
            debug_file=original_path(module.debug_file_path, debug_cache),
            has_symbols=module.debug_file_status == drgn.ModuleFileStatus.HAVE,
            code_file=module.loaded_file_path,
        ))
    modules.sort(key=lambda m: m.base)
    return modules


class _FrameWalker:
    def __init__(self, prog: drgn.Program, reader: ValueReader, variables: bool, crash: Crash,
                 unwinder: Unwinder, remembered: ScopeCache | None = None):
        self.prog = prog
        self.remembered = remembered
        self.unwinder = unwinder
        self.reader = reader
        self.variables = variables
        self.crash = crash
        self.debug_files: dict[str, DebugFile] = {}
        self.scope_cache: dict[tuple[str, int], list[FunctionScope]] = {}
        self.symbol_cache: dict[int, tuple[str | None, int | None]] = {}
        self.module_facts: dict[str, tuple[str | None, int, bool]] = {}
        self.go_modules: dict[str | None, bool] = {}
        self.call_sites: dict[str, CallSites | None] = {}
        self.pcs: dict[int, bool] = {}     # pc -> is the innermost frame of its thread
        # (thread, frame, "args" or "locals", position) of the forked copy's variables to read again
        self.handed_rereads: list[tuple] = []
        self._gdb_lines: dict[tuple, tuple] = {}      # (debug file, address, drgn's file and line) -> gdb's
        self._tail_parameters: dict[tuple, tuple] = {}   # a tail-call frame's parameters, by its jump
        # variables drgn could not build, placed by their DWARF, to be read again (fromtypes.py)
        # once the frames have their CFA: (frame, variable, the operations that give its
        # address), and (frame, variable, its pieces) for those held in registers or constants
        self._located: list[tuple[Frame, Variable, list[tuple[int, int]]]] = []
        self._held: list[tuple[Frame, Variable, list[tuple[int, int, int]]]] = []
        self.notes = TypeNotes()

    def close(self) -> None:
        for debug_file in self.debug_files.values():
            debug_file.close()

    def walk(self, core_thread, info: CoreInfo) -> tuple[Thread, Walk | None]:
        registers = dict(core_thread.registers)
        registers.update(core_thread.fp_registers)
        thread = Thread(tid=core_thread.tid, registers=registers)
        thread.crashed = core_thread is info.threads[0]
        thread.state = "F" if thread.crashed else "?"
        try:
            drgn_thread = self.prog.thread(core_thread.tid)
            thread.name = drgn_thread.name
            walk = self.unwinder.walk(drgn_thread)
        except Exception as error:  # a corrupt core surfaces as any of drgn's errors
            thread.unwind_note = f"cannot unwind: {error}"
            return thread, None
        thread.unwind_note = walk.note
        return thread, walk

    @staticmethod
    def _groups(walk: Walk):
        group: list[WalkedFrame] = []
        for walked in walk.frames:
            group.append(walked)
            if not walked.frame.is_inline:
                yield group
                group = []
        if group:
            yield group

    @staticmethod
    def _lookup_address(group: list[WalkedFrame]) -> int:
        # a caller's pc is a return address: look up the call instruction before it;
        # a frame stopped by a signal (or the crash) is at the instruction itself
        walked = group[-1]
        frame = walked.frame
        exact = group[0].trust == Trust.CONTEXT or frame.interrupted or walked.signal_trampoline
        return frame.pc if exact else frame.pc - 1

    def capture(self, core_threads, info: CoreInfo) -> list[Thread]:
        walked = [self.walk(core_thread, info) for core_thread in core_threads]
        # each frame's pc is looked up now and again for the snapshot's symbols
        self.reader.symbols.expect(group[-1].frame.pc for _thread, walk in walked if walk is not None
                                   for group in self._groups(walk))
        self.prefetch_scopes(walked)
        for thread, walk in walked:
            self.emit(thread, walk)
        return [thread for thread, _ in walked]

    def prefetch_scopes(self, walked: list) -> None:
        """Find every frame's DWARF scopes up front, two at a time: libdw runs without
        the interpreter lock, and on large binaries each lookup rescans a CU."""
        wanted = {}
        for _thread, walk in walked:
            if walk is None:
                continue
            for group in self._groups(walk):
                module = self._module(group[-1].frame.pc)
                if module is not None and module.debug_file_path:
                    key = (module.debug_file_path, self._lookup_address(group) - module.debug_file_bias)
                    if not self._recall(key):
                        wanted[key] = None
        if not wanted:
            return
        # Each worker has its own libdw handles (libdw is not safe to share between threads);
        # a second worker pays off on many lookups. Its handles read through the first
        # one's mapping, so a large debug file is not resident twice. They are all opened
        # here, before the workers start, and closed second first.
        workers = 2 if len(wanted) > 64 else 1
        paths = dict.fromkeys(path for path, _ in wanted)
        handles: list[dict[str, DebugFile]] = [{path: DebugFile(path) for path in paths}]
        if workers == 2:
            handles.append({path: DebugFile(path, share=handles[0][path]) for path in paths})
        local = threading.local()
        lock = threading.Lock()
        taken: list[int] = []

        def lookup(key):
            path, address = key
            files = getattr(local, "files", None)
            if files is None:
                with lock:
                    files = local.files = handles[len(taken)]
                    taken.append(1)
            try:
                return files[path].function_scopes(address) if files[path].dwarf else None
            except Exception:
                return None

        # Wait for all: drgn work alongside would contend for the interpreter lock with
        # the workers' many short libdw calls, and be slower than taking turns.
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for key, scopes in zip(wanted, pool.map(lookup, wanted)):
                    self.scope_cache[key] = scopes or []
                    if scopes is not None and self.remembered is not None:
                        self.remembered.put(*key, scopes)
        finally:
            # the first worker's handles stay open for the frames' variables and the types
            for files in reversed(handles[1:]):
                for handle in files.values():
                    handle.close()
            for path, handle in handles[0].items():
                if path in self.debug_files:
                    handle.close()
                else:
                    self.debug_files[path] = handle

    def emit(self, thread: Thread, walk: Walk | None) -> None:
        if walk is None:
            return
        shift = 0            # inline frames found here that drgn's walk did not show
        shifted = {}
        physical: list[PhysicalFrame] = []
        for group in self._groups(walk):
            first = len(thread.frames)
            shift += self._emit_group(thread, group, shift)
            shifted[id(group[-1])] = shift
            concrete = group[-1]
            outer = thread.frames[-1] if len(thread.frames) > first else None
            physical.append(PhysicalFrame(first, len(thread.frames), concrete.frame.pc, self._lookup_address(group),
                                          self._module(concrete.frame.pc),
                                          concrete.frame.interrupted or concrete.signal_trampoline,
                                          outer.registers if outer is not None else {}, concrete.frame, outer))
        if walk.elided_after is not None:
            thread.elided_frames = walk.elided
            gap = walk.frames[walk.elided_after]
            thread.elided_after = gap.index + shifted.get(id(gap), shift)
        # a frame's CFA (gdb's "frame at") is the sp its caller was unwound to
        for inner, caller in zip(physical, physical[1:]):
            if caller.end > caller.first and thread.frames[caller.first].sp is not None:
                for frame in thread.frames[inner.first:inner.end]:
                    frame.cfa = thread.frames[caller.first].sp
        # where the values drgn could not build are, to be read again (fromtypes.py)
        names = self.unwinder.arch.dwarf_registers
        for frame, variable, steps in self._located:
            address = computed_address(steps, frame.registers, names, frame.cfa, self._read_or_none)
            if address is not None:
                variable.address = address
                if variable.note != NOT_READ:          # placeholders are listed already
                    self.reader.rereads.append(variable)
        self._located = []
        for frame, variable, pieces in self._held:
            raw, missing = held_bytes(pieces, frame.registers, names)
            if raw is None:
                variable.value = variable.note = OPTIMIZED_OUT
            else:
                variable.raw, variable.missing = raw, missing
                if variable.note != NOT_READ:          # placeholders are listed already
                    self.reader.rereads.append(variable)
        self._held = []
        links, tail_frames = add_tail_call_frames(
            thread, physical, self._call_sites, self._scopes,
            lambda link: jump_target(link, self.unwinder.arch, self._read_or_none))
        if self.variables:
            self._entry_values(physical, links)
            for tail in tail_frames:
                self._tail_call_arguments(tail)

    def _entry_values(self, physical: list[PhysicalFrame], links: list[list[Link]]) -> None:
        """Parameters' values at entry (entryvalues.py), on each function's model frame."""
        for position, frame in enumerate(physical):
            if not links[position] or frame.outer is None or not frame.outer.args:
                continue
            sites = self._call_sites(frame.module)
            if sites is None:
                continue
            # the links of the callers further out, as far as they are known without a gap
            chain: list[Link] = []
            for further in links[position:]:
                if not further:
                    break
                chain += further
            try:
                parameters = sites.entry_parameters(frame.lookup - frame.module.debug_file_bias)
            except Exception:       # hostile DWARF: no entry values
                continue
            wanted = {v.name for v in frame.outer.args}
            parameters = [p for p in parameters if p.name in wanted]
            if not parameters:
                continue
            found = parameter_values(chain, parameters, self.unwinder.arch, self._read_or_none)
            for variable in frame.outer.args:
                if variable.name in found:
                    self._set_entry(variable, frame.frame, *found[variable.name])

    def _tail_call_arguments(self, tail: TailFrame) -> None:
        """A tail-call frame's arguments, as gdb gives them: the parameters of the function
        at its jump (an inlined one's too), those whose location there is their value at
        entry with that value from the call sites that led in (`p=p@entry=0`; just `p=0`
        in an inlined function, which has no entry of its own), constants, the others
        <optimized out> (the frame has no registers of its own; but the one that jumped to
        an address outside all code has the faulting frame's: `handler=0x10`). Their types
        are drgn's, by name."""
        frame = tail.frame
        key = (id(tail.sites), tail.address, frame.function)
        if key not in self._tail_parameters:        # the same jump in many threads: read once
            try:
                inlined, parameters = tail.sites.scope_parameters(tail.address)
                types = {p.name: p.type for p in self.prog.function(frame.function).type_.parameters} \
                    if parameters and frame.function else {}
            except Exception:            # no such function for drgn, or hostile DWARF
                inlined, parameters, types = False, [], {}
            self._tail_parameters[key] = (inlined, parameters, types)
        inlined, parameters, types = self._tail_parameters[key]
        if not parameters or any(parameter.name not in types for parameter in parameters):
            return
        arch = self.unwinder.arch
        wanted = [EntryParameter(parameter.name, parameter.entry_register, True) for parameter in parameters
                  if parameter.entry_register is not None]
        found = parameter_values(tail.links, wanted, arch, self._read_or_none)
        args = []
        for parameter in parameters:
            name, declared = parameter.name, types[parameter.name]
            try:
                scalar = declared.unaliased().kind in ENTRY_VALUE_KINDS
                size = drgn.sizeof(declared)
                held = tail.registers.get(arch.dwarf_registers[parameter.register]) \
                    if tail.registers and parameter.register is not None and \
                    parameter.register < len(arch.dwarf_registers) else None
                at_entry = name in found and scalar
                if at_entry:
                    value = drgn.Object(self.prog, declared, value=found[name][0])
                elif parameter.constant is not None and len(parameter.constant) >= size:
                    value = drgn.Object.from_bytes_(self.prog, declared, parameter.constant[:size])
                elif held is not None and scalar:
                    value = drgn.Object(self.prog, declared, value=held)
                else:
                    value = drgn.Object(self.prog, declared)
                variable = self.reader.variable(name, value, "arg")
                if at_entry and not inlined:
                    variable.entry = variable.value
                args.append(variable)
            except Exception:        # a type drgn cannot build a value of
                args.append(Variable(name, "?", OPTIMIZED_OUT, "arg", note=OPTIMIZED_OUT))
        frame.args = args

    def _set_entry(self, variable: Variable, drgn_frame, value: int, only_at_entry: bool) -> None:
        try:
            declared = drgn_frame[variable.name].type_
            if declared.unaliased().kind not in ENTRY_VALUE_KINDS:
                return
            text = self.reader.variable(variable.name, drgn.Object(self.prog, declared, value=value), "arg").value
        except Exception:            # a type drgn cannot build from a number
            return
        variable.entry = text
        if only_at_entry and variable.note is not None:
            # its location is its value at entry: that value is its value
            variable.value, variable.note = text, None

    def _read_or_none(self, address: int, size: int) -> bytes | None:
        return _bytes_or_none(self.prog, address, size)

    def _call_sites(self, module) -> CallSites | None:
        """The call sites of a module's debug file (tailcalls.py), read as asked for."""
        path = module.debug_file_path
        if not path:
            return None
        if path not in self.call_sites:
            debug_file = self._debug_file(path)
            low, high = min(s for s, _ in module.address_ranges), max(e for _, e in module.address_ranges)
            bias = module.debug_file_bias

            versioned: dict[str, int] = {}

            @functools.cache                 # threads call the same functions
            def resolve(name: str) -> int | None:
                try:
                    found = self.prog.symbols(name)
                except (LookupError, ValueError):
                    found = []
                address = next((s.address for s in found if low <= s.address < high), None)
                if address is None:
                    # a library's exported name carries its version (pthread_join@@GLIBC_2.34)
                    if not versioned:
                        # the default version (@@) over an older one kept for old programs (@)
                        for symbol in sorted((s for s in self.prog.symbols() if "@" in s.name and
                                              low <= s.address < high), key=lambda s: "@@" in s.name):
                            versioned[symbol.name.split("@", 1)[0]] = symbol.address
                        versioned.setdefault("", 0)
                    address = versioned.get(name)
                return address - bias if address else None

            def concrete(address: int) -> int | None:
                return next((scope.concrete for scope in self._scopes(module, address + bias)
                             if not scope.inlined and scope.concrete is not None), None)

            self.call_sites[path] = CallSites(debug_file, resolve, concrete) if debug_file.dwarf else None
        return self.call_sites[path]

    def _emit_group(self, thread: Thread, group: list[WalkedFrame], shift: int) -> int:
        """Model frames for one physical frame and its inline frames; how many inline
        frames were added to drgn's."""
        concrete = group[-1].frame
        pc = concrete.pc
        module = self._module(pc)
        registers = {}
        try:
            registers = {_register_name(name): value for name, value in concrete.registers().items()}
        except Exception:
            pass
        lookup = self._lookup_address(group)
        symbol_name, symbol_start = self._symbol(lookup)
        symbol_offset = pc - symbol_start if symbol_start is not None else None
        module_name, module_base, has_debug_info = self._module_facts(module)
        with_variables = self.variables and has_debug_info
        self.reader.go = self._is_go(module_name)
        # the DWARF scopes were looked up in the background meanwhile
        scopes = self._scopes(module, lookup) if module is not None else []
        frames = []
        decoded = []
        for walked in group:
            model_frame = Frame(walked.index + shift, pc, inline=walked.frame.is_inline, trust=walked.trust,
                                sp=concrete.sp, symbol=symbol_name, symbol_offset=symbol_offset,
                                registers=registers)
            if module is not None:
                model_frame.module = module_name
                model_frame.module_offset = pc - module_base
            try:
                source = walked.frame.source()
                model_frame.file, model_frame.line, model_frame.column = source[0], source[1], source[2]
            except LookupError:
                pass
            else:
                if walked is group[0] and module is not None and module.debug_file_path:
                    self._as_gdb_reads_lines(model_frame, module, lookup, scopes[-1] if scopes else None)
            frames.append(model_frame)
            decoded.append(self._variables(walked.frame) if with_variables else {})
        owners = group
        added = 0
        if len(group) == 1 and len(scopes) > 1 and not group[0].signal_trampoline:
            # drgn saw no inline frames here (it does not find functions nested in namespaces,
            # as Rust's are): they come from the scopes, each at its caller's call site
            walked = group[0]
            added = len(scopes) - 1
            physical = frames[0]
            inner = [replace(physical, index=physical.index + depth, inline=True)
                     for depth in range(added)]
            physical.index += added
            for depth in range(1, len(scopes)):
                target = inner[depth] if depth < added else physical
                target.file, target.line, target.column = scopes[depth - 1].call_file, scopes[depth - 1].call_line, None
            frames = inner + [physical]
            decoded = [{} for _ in inner] + decoded
            owners = [walked] * len(frames)
        for position, (walked, model_frame, variables) in enumerate(zip(owners, frames, decoded)):
            # scopes are innermost first, like drgn's inline frames
            scope = scopes[position] if len(scopes) == len(frames) else None
            model_frame.function = SIGNAL_HANDLER_CALLED if walked.signal_trampoline else \
                self._function_name(walked.frame, scope, symbol_name)
            parameters = scope.parameters if scope else []
            if scope is not None:
                if not variables and with_variables and scope.visible and not walked.frame.is_inline:
                    # drgn found no scope here (Rust's functions, nested in namespaces): the
                    # variables DWARF places, read after capture (fromtypes.py) from memory or
                    # from the frame's registers (or nowhere at the pc: optimized out)
                    variables = {name: Variable(name, "?", NOT_READ, "local", note=NOT_READ)
                                 for name in [*parameters, *scope.visible] if name in scope.visible}
                    self.reader.rereads.extend(variables.values())
                    self._held += [(model_frame, variables[name], pieces)
                                   for name, pieces in scope.held.items() if name in variables]
                    self._located += [(model_frame, variables[name], steps)
                                      for name, steps in scope.computed.items() if name in variables]
                for name, kind in scope.references.items():
                    if name in variables:
                        as_reference(variables[name], kind)
                for name, (base, offset) in scope.places.items():
                    variable = variables.get(name)
                    if variable is not None and variable.address is None and variable.note and \
                            (UNKNOWN_TAG in variable.note or variable.note == NOT_READ):
                        self._located.append((model_frame, variable, frame_base_steps(base, offset)))
                for name, pieces in scope.held.items():
                    variable = variables.get(name)
                    if variable is not None and variable.raw is None and variable.note and \
                            UNKNOWN_TAG in variable.note:       # a pointer to member in a register
                        self._held.append((model_frame, variable, pieces))
            model_frame.args = [variables[name] for name in parameters if name in variables]
            model_frame.locals = [v for name, v in variables.items() if name not in parameters]
            for variable in model_frame.args:
                variable.kind = "arg"
            if scope is not None and module is not None and module.debug_file_path:
                self.notes.note(model_frame.args + model_frame.locals, scope, module.debug_file_path,
                                module.debug_file_bias)
            thread.frames.append(model_frame)
        self.pcs[pc] = self.pcs.get(pc, False) or group[0].trust == Trust.CONTEXT
        return added

    def _module(self, pc: int):
        try:
            return self.prog.module(pc)
        except LookupError:
            return None

    def _module_facts(self, module) -> tuple[str | None, int, bool]:
        """(name, base, has debug info) of a drgn module, asked of drgn once per module."""
        if module is None:
            return None, 0, False
        facts = self.module_facts.get(module.name)
        if facts is None:
            facts = self.module_facts[module.name] = (
                module.name, min(start for start, _ in module.address_ranges),
                module.debug_file_status == drgn.ModuleFileStatus.HAVE)
        return facts

    def _is_go(self, path: str | None) -> bool:
        """Whether a module was built by Go's toolchain (it has Go's build info section)."""
        if path not in self.go_modules:
            from hydra.symbols.elffile import section_table

            table = section_table(path) if path and path.startswith("/") else None
            self.go_modules[path] = table is not None and ".go.buildinfo" in table.sections
        return self.go_modules[path]

    def _as_gdb_reads_lines(self, frame: Frame, module, lookup: int, scope: FunctionScope | None) -> None:
        """A frame's line where gdb reads the line table otherwise than drgn: a line-0 row
        (clang's merged code) takes the line of the row before it; the unit's own source,
        listed under a relative folder, takes the unit's name (which the pc's scopes know,
        remembered or not: libdw need not open the debug file for it)."""
        if frame.line != 0 and (not frame.file or os.path.isabs(frame.file)):
            return
        key = (module.debug_file_path, lookup - module.debug_file_bias, frame.file, frame.line)
        if key not in self._gdb_lines:        # the same pc in many threads: asked once
            file, line, column = frame.file, frame.line, frame.column
            if line == 0:
                debug_file = self._debug_file(module.debug_file_path)
                found_file, found_line, _start = debug_file.line_before_zero(key[1])
                file, line, column = (found_file, found_line, None) if found_line else (file, None, None)
            if file and not os.path.isabs(file):
                file = spelled_as_unit(file, scope.unit_name, scope.unit_folder) if scope is not None else \
                    self._debug_file(module.debug_file_path).unit_spelling(key[1], file)
            self._gdb_lines[key] = (file, line, column)
        frame.file, frame.line, frame.column = self._gdb_lines[key]

    def _debug_file(self, path: str) -> DebugFile:
        """The walker's libdw handle on a debug file, opened when first asked for."""
        if path not in self.debug_files:
            self.debug_files[path] = DebugFile(path)
        return self.debug_files[path]

    def _scopes(self, module, address: int) -> list[FunctionScope]:
        path = module.debug_file_path
        if not path:
            return []
        key = (path, address - module.debug_file_bias)
        if not self._recall(key):
            debug_file = self._debug_file(path)
            try:
                self.scope_cache[key] = debug_file.function_scopes(address - module.debug_file_bias)
            except Exception:
                self.scope_cache[key] = []
            else:
                if debug_file.dwarf and self.remembered is not None:
                    self.remembered.put(*key, self.scope_cache[key])
        return self.scope_cache[key]

    def _recall(self, key: tuple[str, int]) -> bool:
        """Whether the scopes for key are at hand: found earlier in this capture, or
        remembered from an earlier one."""
        if key not in self.scope_cache and self.remembered is not None:
            known = self.remembered.get(*key)
            if known is not None:
                self.scope_cache[key] = known
        return key in self.scope_cache

    def _symbol(self, address: int) -> tuple[str | None, int | None]:
        """(name, start) of the ELF symbol holding address."""
        if address not in self.symbol_cache:
            if not 0 <= address < ADDRESS_END:      # pc 0 at the outer end of a stack (Go), less one
                return None, None
            try:
                symbol = self.reader.symbols.best(address)
                self.symbol_cache[address] = (symbol.name, symbol.address)
            except LookupError:
                self.symbol_cache[address] = (None, None)
        return self.symbol_cache[address]

    @staticmethod
    def _function_name(frame, scope: FunctionScope | None, symbol: str | None) -> str | None:
        if scope is not None and scope.name:
            linkage = scope.linkage_name
            if linkage and not linkage.startswith(("_Z", "_R")) and "::" not in scope.name:
                return linkage  # a C alias such as __GI_raise, the name gdb prints
            return scope.name
        if not frame.is_inline and symbol:
            return function_name(symbol)
        name = frame.name
        if name and not name.startswith("0x"):
            return function_name(name)
        return None

    def _variables(self, frame) -> dict[str, Variable]:
        """Every named object in scope at the frame, innermost declaration of each name."""
        try:
            names = frame.locals()
        except Exception:
            return {}
        variables: dict[str, Variable] = {}
        for name in names:
            if name in variables:
                continue
            try:
                obj = frame[name]
            except (KeyError, LookupError):
                continue
            except Exception as error:
                note = describe_error(error)
                variables[name] = Variable(name, "?", note, "local", note=note)
            else:
                variables[name] = self.reader.variable(name, obj, "local")
        return variables


@functools.lru_cache(maxsize=None)
def _register_name(drgn_name: str) -> str:
    return drgn_name.replace(".", "_")


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


def _capture_memory(prog: drgn.Program, info: CoreInfo, crash: Crash, reader: ValueReader,
                    walker: _FrameWalker, secrets: list[bytes], memory: str = "default",
                    typed_globals: list[TypedGlobal] = ()) -> None:
    ranges: list[tuple[int, int, str]] = _global_ranges(info, crash, typed_globals)
    ranges += _more_memory(info, crash, memory)
    segments = sorted(info.segments, key=lambda s: s.vaddr)
    starts = [s.vaddr for s in segments]
    for thread in crash.threads:
        sp = thread.registers.get(info.arch.sp)
        if sp is None:
            continue
        segment = _stack_segment(segments, starts, sp)
        if segment is None:
            continue
        top = segment.vaddr + segment.memsz
        low = max(segment.vaddr, sp - STACK_RED_ZONE)
        ranges.append((low, min(top, low + STACK_LIMIT), "stack"))
        if top - low > STACK_LIMIT:
            ranges.append((max(low + STACK_LIMIT, top - STACK_TOP_KEEP), top, "stack"))
    for pc, innermost in walker.pcs.items():
        before, after = TOP_CODE_CONTEXT if innermost else CALLER_CODE_CONTEXT
        ranges.append((max(0, pc - before), pc + after, "code"))
    for address, size in reader.ranges:
        ranges.append((address, address + size, "object"))
    _keep_memory(prog, crash, ranges, secrets)


def _keep_memory(prog: drgn.Program, crash: Crash, ranges: list[tuple[int, int, str]], secrets: list[bytes]) -> None:
    """The core's bytes in ranges ([start, end, kind]) into the snapshot's memory, the
    environment's secrets blanked."""
    for start, end, kind in _merge(ranges):
        start, end = max(0, start), min(end, ADDRESS_END)      # a wild pc near the top of the space
        if start >= end:
            continue
        data = _read_available(prog, start, end)
        for piece_start, piece in data:
            crash.memory.add(MemoryRegion(piece_start, len(piece), kind, _data=environment.scrub(piece, secrets)))


def _stack_segment(segments: list, starts: list[int], sp: int):
    """The segment of the stack sp is in (segments sorted by address, starts their
    addresses); for a stack that overflowed, sp may be just below it, in the guard gap (the
    faulting instruction moved it there before writing)."""
    at = bisect.bisect_right(starts, sp)
    if at and sp < segments[at - 1].vaddr + segments[at - 1].memsz:
        return segments[at - 1]
    if at < len(segments) and segments[at].vaddr - sp <= STACK_GUARD_GAP and segments[at].flags & 2:
        return segments[at]
    return None


GLOBAL_DATA_BYTES = 16 << 20     # the executable's writable data and globals kept by default


def _global_ranges(info: CoreInfo, crash: Crash, typed_globals) -> list[tuple[int, int, str]]:
    """The globals, then the executable's writable data, then that of the libraries whose
    globals were read, within GLOBAL_DATA_BYTES."""
    executable = crash.process.executable
    def size_of(typed) -> int:
        type_ = crash.types.get(typed.type_id)
        return max(1, type_.size or 8) if type_ is not None else 8

    libraries = {g.module for g in typed_globals} - {executable}
    spans = [(m.base, m.base + m.size) for m in crash.modules if m.path in libraries]
    wanted = [(g.address, g.address + size_of(g)) for g in typed_globals if g.variable.constant is None]
    wanted += [(entry.start, entry.end) for entry in crash.memory_map
               if entry.path == executable and "w" in entry.perms]
    wanted += [(entry.start, entry.end) for entry in crash.memory_map if "w" in entry.perms and
               any(low <= entry.start < high for low, high in spans)]     # a path may name it otherwise
    ranges, left = [], GLOBAL_DATA_BYTES
    for start, end in wanted:
        size = min(end - start, left)
        if size <= 0:
            break
        ranges.append((start, start + size, "global"))
        left -= size
    return ranges


def _more_memory(info: CoreInfo, crash: Crash, memory: str) -> list[tuple[int, int, str]]:
    """--memory heap: every anonymous writable mapping that is not a thread's stack (glibc's
    heap and arenas, mmap'd blocks); --memory all: every writable mapping."""
    if memory == "default":
        return []
    stacks = [thread.registers.get(info.arch.sp) for thread in crash.threads]
    ranges = []
    for entry in crash.memory_map:
        if "w" not in entry.perms:
            continue
        anonymous = entry.path is None
        stack = any(sp is not None and entry.start <= sp < entry.end for sp in stacks)
        if memory == "all" or (anonymous and not stack):
            ranges.append((entry.start, entry.end, "heap" if anonymous and not stack else "data"))
    return ranges


def _merge(ranges: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[list] = []
    for start, end, kind in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            if kind == "stack":
                merged[-1][2] = kind
        else:
            merged.append([start, end, kind])
    return [tuple(item) for item in merged]


def _bytes_or_none(prog: drgn.Program, address: int, size: int) -> bytes | None:
    try:
        return prog.read(address, size)
    except (drgn.FaultError, OSError, ValueError, OverflowError):
        return None


def _read_available(prog: drgn.Program, start: int, end: int) -> list[tuple[int, bytes]]:
    """Read [start, end) in page-aligned pieces, skipping what the core does not hold."""
    try:
        return [(start, prog.read(start, end - start))]
    except (drgn.FaultError, OSError):   # OSError: a segment pointing outside a corrupt core
        pass
    pieces: list[tuple[int, bytes]] = []
    cursor = start
    run_start = None
    run = bytearray()
    while cursor < end:
        step = min(end, (cursor & ~0xFFF) + 0x1000) - cursor
        try:
            chunk = prog.read(cursor, step)
        except (drgn.FaultError, OSError):
            # as much of the page as can be read: code near the end of a binary's text
            # segment is read from the file, which ends before the page does
            prefix = _readable_prefix(prog, cursor, step)
            if prefix:
                if run_start is None:
                    run_start = cursor
                run += prefix
            if run:
                pieces.append((run_start, bytes(run)))
                run = bytearray()
            run_start = None
        else:
            if run_start is None:
                run_start = cursor
            run += chunk
        cursor += step
    if run:
        pieces.append((run_start, bytes(run)))
    return pieces


def _readable_prefix(prog: drgn.Program, start: int, size: int) -> bytes:
    """The longest readable start of [start, start + size), to 16 bytes, by halving."""
    low, high, found = 0, size, b""
    while high - low > 16:
        middle = (low + high) // 2
        try:
            found = prog.read(start, middle)
            low = middle
        except (drgn.FaultError, OSError):
            high = middle
    return found


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
