"""A minidump, unwound and symbolized, as the crash model every view reads."""

from __future__ import annotations

from hydra.minidump.contexts import ARCH_ARM, ARCH_X86, CPU_NAMES, LAYOUTS, MODEL_ARCH, parse_context
from hydra.minidump.format import Dump, RawModule, read_minidump
from hydra.minidump.reason import PLATFORM_IOS, PLATFORM_NAMES, PLATFORM_WINDOWS, crash_address, crash_reason
from hydra.minidump.stackwalk import MAX_FRAMES, CodeModule, ModuleMap, Stackwalker, WalkFrame
from hydra.model.crash import Classifier, Crash, Frame, MapEntry, Module, Process, Signal, Thread, Trust
from hydra.model.errors import BadInput
from hydra.model.memory import Memory, MemoryRegion
from hydra.model.signals import REASON_CLASSES, SIGNAL_CLASSES, code_name, signal_name
from hydra.symbols.breakpad import open_symbols
from hydra.symbols.locate import basename, find_elf_files, find_sym_file

PROTECTIONS = {0x01: "---", 0x02: "r--", 0x04: "rw-", 0x08: "rw-", 0x10: "--x", 0x20: "r-x",
               0x40: "rwx", 0x80: "rwx"}
MEM_COMMIT = 0x1000
FRAME_BUDGET = 100_000       # frames walked per dump, all threads together
# patterns are compiled where first used (by re's cache): most dumps need none of them
MAPS_LINE = r"^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+([0-9a-f]+)\s+\S+\s+\d+\s*(.*)$"


def open_minidump(path: str, symbol_dirs: list[str] | None = None, rules: str | None = None,
                  analysis: bool = True) -> Crash:
    dump = read_minidump(path)
    if not dump.threads and dump.exception is None:
        raise BadInput(path, "no thread list and no exception stream: nothing to show "
                             "(a truncated or corrupt minidump)")
    crash = Crash(origin="minidump")
    crash.warnings += dump.warnings
    system = dump.system
    if system is None:
        crash.warnings.append("no SystemInfo stream: assuming an amd64 Linux process")
    architecture = system.architecture if system else 9
    platform = system.platform if system else 0x8201
    layout = LAYOUTS.get(architecture)
    pointer_size = layout.pointer_size if layout else 8
    crash.process = Process(pid=dump.pid, command_line=dump.command_line, capture_time=float(dump.time),
                            core_path=path, core_size=dump.size,
                            architecture=MODEL_ARCH.get(architecture, CPU_NAMES.get(architecture, f"cpu 0x{architecture:x}")))
    crash.memory = _memory(dump, crash.warnings)
    crash.modules, code_modules = _modules(dump, symbol_dirs or [], crash, pointer_size)
    if crash.modules:
        crash.process.executable = crash.modules[0].path
    crash.memory_map = _memory_map(dump, crash)
    _exception(dump, crash, platform, architecture, pointer_size)
    _attributes(dump, crash, platform, architecture)
    if layout is None:
        crash.warnings.append(f"{CPU_NAMES.get(architecture, hex(architecture))} threads are shown without unwinding")
    walker_modules = ModuleMap(code_modules)
    budget = FRAME_BUDGET
    for raw in dump.threads:
        thread = Thread(tid=raw.tid, name=dump.thread_names.get(raw.tid), state="?" if raw.suspend_count == 0 else "T")
        if raw.tid == dump.dump_tid and raw.tid != crash.crashed_tid and thread.name is None:
            thread.name = "(dump writer)"    # Breakpad's own thread: its stack is the dumping code
        thread.crashed = raw.tid == crash.crashed_tid
        context = dump.exception.context if thread.crashed and dump.exception and dump.exception.context else raw.context
        raw_context = dump.bytes_at(context)
        if raw_context is None:
            crash.warnings.append(f"thread {raw.tid}: its context lies outside the file")
        else:
            try:
                thread.registers = parse_context(raw_context, architecture)
            except ValueError as error:
                crash.warnings.append(f"thread {raw.tid}: {error}")
        if layout is not None and thread.registers:
            # like Breakpad, a walk reads only the thread's own stack
            stack = crash.memory.region_at(raw.stack_start) if raw.stack.size else None
            walker = Stackwalker(layout, Memory([stack] if stack else []), walker_modules,
                                 windows=platform in PLATFORM_WINDOWS,
                                 frame_pointers=architecture != ARCH_ARM or platform == PLATFORM_IOS)
            walked = walker.walk(thread.registers, max(1, min(MAX_FRAMES, budget)))
            _frames(thread, walked, walker, crash)
            budget -= max(len(walked), len(thread.frames))      # inline frames count too
            if budget <= 0 and len(walked) == 1:
                thread.unwind_note = f"not unwound: the dump's threads used up the {FRAME_BUDGET} frames walked per dump"
        crash.threads.append(thread)
    if crash.crashed_tid is not None and crash.thread(crash.crashed_tid) is None:
        crash.warnings.append(f"the crashing thread {crash.crashed_tid} is not in the thread list")
    if analysis:
        from hydra.analysis import analyze

        analyze(crash, rules_file=rules)
    return crash


def _memory(dump: Dump, warnings: list[str]) -> Memory:
    memory = Memory()
    stacks = {raw.stack_start for raw in dump.threads}
    # Each byte of the file backs at most one region: entries pointing at bytes another
    # one already uses would make a small file describe gigabytes.
    used = Memory()
    shared = 0
    for address, size, offset in sorted(dump.memory):
        if size <= 0 or memory.overlaps(address, address + size):
            continue    # overlapping ranges: the first one wins
        if used.overlaps(offset, offset + size):
            shared += 1
            continue
        used.add(MemoryRegion(offset, size))
        memory.add(MemoryRegion(address, size, kind="stack" if address in stacks else "data",
                                _loader=lambda offset=offset, size=size: dump.slice(offset, size)))
    for raw in dump.threads:     # stacks not also listed in the memory list
        rva, size = raw.stack.rva, raw.stack.size
        if size and not memory.overlaps(raw.stack_start, raw.stack_start + size) and rva + size <= dump.size:
            if used.overlaps(rva, rva + size):
                shared += 1
                continue
            used.add(MemoryRegion(rva, size))
            memory.add(MemoryRegion(raw.stack_start, size, kind="stack",
                                    _loader=lambda rva=rva, size=size: dump.slice(rva, size)))
    if shared:
        warnings.append(f"{shared} memory ranges point at bytes of the file another range holds; not read")
    return memory


def _modules(dump: Dump, symbol_dirs: list[str], crash: Crash, pointer_size: int):
    modules, code_modules, missing = [], [], []
    machine = "x86_64" if pointer_size == 8 else "x86"
    if crash.process.architecture == "aarch64":
        machine = "aarch64"
    for raw in dump.modules:
        module = Module(path=raw.name, base=raw.base, size=raw.size, build_id=raw.build_id,
                        debug_file=raw.debug_file, debug_id=raw.debug_id, code_file=raw.name)
        symbols = _symbols_for(raw, symbol_dirs, crash, machine)
        module.has_symbols = symbols is not None and symbols.has_functions
        if symbols is None:
            missing.append(f"{basename(raw.debug_file or raw.name)} ({raw.debug_id or 'no debug id'})")
        modules.append(module)
        code_modules.append(CodeModule(raw.base, raw.size, symbols))
    if missing:
        crash.attributes["_missing_symbols"] = ", ".join(missing)
    return modules, code_modules


def _symbols_for(raw: RawModule, symbol_dirs: list[str], crash: Crash, machine: str):
    sym = find_sym_file(symbol_dirs, raw.debug_file, raw.debug_id, raw.name, raw.code_id)
    if sym is not None:
        try:
            symbols = open_symbols(sym)
        except (OSError, ValueError) as error:
            crash.warnings.append(f"{sym}: cannot read symbols: {error}")
        else:
            for warning in symbols.warnings:
                crash.warnings.append(f"{sym}: {warning}")
            if symbols.debug_id and raw.debug_id and symbols.debug_id.upper() != raw.debug_id.upper():
                crash.warnings.append(f"{sym}: its debug id {symbols.debug_id} is not the module's {raw.debug_id}; not used")
            else:
                return symbols
    found = find_elf_files(symbol_dirs, raw.name, raw.build_id)
    if found is not None:
        from hydra.symbols.elfsymbols import ElfSymbols

        return ElfSymbols(found[0], found[1], machine)
    return None


def _memory_map(dump: Dump, crash: Crash) -> list[MapEntry]:
    maps = dump.texts.get("LinuxMaps")
    entries: list[MapEntry] = []
    if maps:
        import re

        for line in maps.splitlines():
            match = re.match(MAPS_LINE, line)
            if match:
                entries.append(MapEntry(int(match[1], 16), int(match[2], 16), match[3][:3],
                                        int(match[4], 16), match[5].strip() or None))
        return entries
    for info in dump.memory_info:
        if info.state != MEM_COMMIT:
            continue
        module = crash.module_at(info.base)
        entries.append(MapEntry(info.base, info.base + info.size, PROTECTIONS.get(info.protect & 0xFF, "???"),
                                0, module.path if module else None))
    return sorted(entries, key=lambda e: e.start)     # empty when the dump does not say


def _exception(dump: Dump, crash: Crash, platform: int, architecture: int, pointer_size: int) -> None:
    record = dump.exception
    if record is None:
        return
    crash.crashed_tid = record.tid
    reason = crash_reason(platform, record.code, record.flags, record.parameters, architecture in (ARCH_X86, 9))
    address = crash_address(platform, record.code, record.address, record.parameters, pointer_size)
    first = reason.split(" ", 1)[0]
    if platform in (0x8201, 0x8203, 0x8202) and 0 < record.code < 65:
        name = signal_name(record.code)
        crash.signal = Signal(record.code, name, record.flags, code_name(name, record.flags), address)
        kind = SIGNAL_CLASSES.get(name)
    else:
        detail = reason.split(" / ", 1)[1] if " / " in reason else None
        # only memory faults carry a data address; for the rest it is where the code was
        faulted = first.startswith(("EXCEPTION_ACCESS_VIOLATION", "EXCEPTION_IN_PAGE_ERROR", "EXC_BAD_ACCESS"))
        crash.signal = Signal(record.code, first, record.flags, detail, address if faulted else None)
        kind = REASON_CLASSES.get(first)
    if kind:
        crash.classifiers.append(Classifier(kind, reason))
    crash.attributes["crash_reason"] = reason
    crash.attributes["crash_address"] = f"0x{address:x}"
    if record.parameters:
        crash.attributes["crash_parameters"] = " ".join(f"0x{p:x}" for p in record.parameters)


def _attributes(dump: Dump, crash: Crash, platform: int, architecture: int) -> None:
    attributes = crash.attributes
    system = dump.system
    if system is not None:
        attributes["os"] = PLATFORM_NAMES.get(platform, f"platform 0x{platform:x}")
        version = f"{system.major}.{system.minor}.{system.build}"
        attributes["os_version"] = f"{version} {system.csd}".strip() if version != "0.0.0" else system.csd
        attributes["cpu"] = CPU_NAMES.get(architecture, f"0x{architecture:x}")
        if system.cpu_info:
            attributes["cpu_info"] = system.cpu_info
        attributes["cpu_count"] = str(system.cpu_count)
        crash.system.update(os=attributes["os"], os_version=attributes["os_version"],
                            cpu=attributes["cpu"], cpu_info=system.cpu_info, cpu_count=system.cpu_count)
    if dump.process_create_time:
        attributes["process_uptime"] = f"{max(0, dump.time - dump.process_create_time)} s"
        crash.system["process_create_time"] = dump.process_create_time
    if dump.assertion and any(dump.assertion[k] for k in ("expression", "function", "file")):
        a = dump.assertion
        attributes["assertion"] = f"{a['expression']} ({a['function']} at {a['file']}:{a['line']})"
    for annotation in dump.annotations:
        key = annotation.name if annotation.module is None else f"{basename(annotation.module)}:{annotation.name}"
        attributes[key] = annotation.value
    for key, value in dump.crashpad.items():
        attributes[f"crashpad.{key}"] = value
    if dump.unknown_streams:
        attributes["_unknown_streams"] = ", ".join(dump.unknown_streams)
    attributes["minidump.streams"] = ", ".join(name for name, _kind, _size in dump.streams)
    lsb = dump.texts.get("LinuxLsbRelease", "")
    for line in lsb.splitlines():
        if line.startswith("DISTRIB_DESCRIPTION="):
            attributes["lsb_release"] = line.split("=", 1)[1].strip('"')
    status = dump.texts.get("LinuxProcStatus")
    if status:
        crash.system["proc_status"] = dict(
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in status.splitlines()) if k.strip())
        name = crash.system["proc_status"].get("Name")
        if name and crash.crashed_tid is not None and crash.crashed_tid not in dump.thread_names:
            dump.thread_names.setdefault(crash.crashed_tid, name)
    if dump.environment:
        crash.system["environment"] = len(dump.environment)
    if dump.handles:
        crash.system["handles"] = len(dump.handles)
    for text in dump.comments:
        attributes.setdefault("comment", text)


def _frames(thread: Thread, walked: list[WalkFrame], walker: Stackwalker, crash: Crash) -> None:
    layout = walker.layout
    for frame in walked:
        pc = frame.registers[layout.pc]
        lookup = frame.lookup_address(layout)
        module = frame.module
        registers = {name: frame.registers[name] for name in layout.display_order if name in frame.valid}
        if frame.trust == Trust.CONTEXT:
            registers = dict(frame.registers)
        model_module = crash.module_at(lookup) if module else None
        symbols = module.symbols.symbolize(lookup - module.base) if module and module.symbols else []
        if not symbols:
            symbols = [None]
        for position, symbol in enumerate(symbols):
            model = Frame(index=len(thread.frames), pc=pc, trust=frame.trust,
                          sp=frame.registers.get(layout.sp), registers=registers)
            if model_module is not None:
                model.module = model_module.path
                model.module_offset = pc - model_module.base
            else:
                model.module_offset = pc      # outside every module: the address itself
            if symbol is not None:
                model.function = symbol.function
                model.file = symbol.file
                model.line = symbol.line
                model.inline = symbol.inline
                model.symbol_offset = pc - (module.base + symbol.function_base) if module else None
            model.args, model.locals = [], []       # a minidump has no variables
            thread.frames.append(model)
    if walker.frames and len(walker.frames) >= 1024:
        thread.unwind_note = "stopped after 1024 frames"
