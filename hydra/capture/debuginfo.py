"""The program's debug info for a capture: drgn's modules found and loaded (build-id folders,
--sysroot, --debug-dir, inflated copies of compressed files), the executable checked against
the core, and the file-backed code the core leaves out added back."""

from __future__ import annotations

import os

import drgn

from hydra.capture import cplusplus
from hydra.capture.corefile import CoreInfo
from hydra.capture.memory import uncovered
from hydra.capture.options import CaptureOptions
from hydra.capture.residency import MappedDebugFiles
from hydra.model import BadInput
from hydra.model.crash import Crash, Module
from hydra.symbols.dwarf import OpenedAhead
from hydra.symbols.elffile import open_image


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


def fill_debug_cache(prog: drgn.Program, root: str) -> None:
    """Keep inflated copies of the compressed debug files this capture read, so the next
    capture of a crash in the same libraries reads them in place."""
    from hydra.symbols import debugcache

    for module in prog.modules():
        if module.debug_file_path and module.build_id and \
                module.debug_file_status == drgn.ModuleFileStatus.HAVE:
            debugcache.store(root, module.debug_file_path, module.build_id.hex())


def check_executable(exe: str, info: CoreInfo) -> None:
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


def load_modules(prog: drgn.Program, info: CoreInfo, options: CaptureOptions, crash: Crash,
                 opening: OpenedAhead | None = None) -> MappedDebugFiles:
    """drgn's modules and their files found and loaded; `opening` opens the debug files for
    libdw meanwhile, on another thread."""
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
        if opening is not None:
            # after the mappings above are told apart from its own; the modules the threads
            # stopped in, which every capture reads (the others are opened when asked)
            opening.start(_stopped_in(prog, info))
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
    main = main_module(prog)
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


def _stopped_in(prog: drgn.Program, info: CoreInfo) -> list[str]:
    """The debug files of the modules holding a thread's pc."""
    found = []
    for thread in info.threads:
        pc = thread.registers.get(info.arch.pc)
        try:
            module = prog.module(pc) if pc is not None else None
        except (LookupError, OverflowError, ValueError):
            continue
        if module is not None and module.debug_file_path:
            found.append(module.debug_file_path)
    return list(dict.fromkeys(found))


def main_module(prog: drgn.Program):
    try:
        return prog.main_module()
    except LookupError:
        return None


def executable_path(prog: drgn.Program, info: CoreInfo) -> str | None:
    main = main_module(prog)
    if main is not None and main.name:
        return main.name
    return info.executable


def add_file_memory(prog: drgn.Program, info: CoreInfo) -> list[tuple[int, int]]:
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
                wanted += uncovered(low, high, covered)
        for start, end in wanted:
            if start < end:
                prog.add_memory_segment(start, end - start, read)
        # earlier-added core segments stay authoritative where the core has bytes:
        # only ranges the core lacks were added above.
    return executable


def modules_of(prog: drgn.Program, crash: Crash, debug_cache: str | None) -> list[Module]:
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
