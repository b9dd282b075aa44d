"""Walking the threads: each thread unwound (capture/unwind.py) and turned into model frames
with names, lines, registers and variables, inline and tail-call frames put back, entry
values resolved; past parallel.MIN_THREADS, shared with a forked copy."""

from __future__ import annotations

import functools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import drgn
import msgpack

from hydra.capture import parallel
from hydra.capture.corefile import CoreInfo
from hydra.capture.entryvalues import jump_target, parameter_values
from hydra.capture.fromtypes import NOT_READ, UNKNOWN_TAG, computed_address, held_bytes
from hydra.capture.memory import ADDRESS_END, bytes_or_none
from hydra.capture.residency import MappedDebugFiles
from hydra.capture.tailcalls import Link, PhysicalFrame, TailFrame, add_tail_call_frames
from hydra.capture.typetable import TypeNotes
from hydra.capture.unwind import Unwinder, Walk, WalkedFrame
from hydra.capture.values import ValueReader, as_reference, describe_error
from hydra.model.crash import OPTIMIZED_OUT, SIGNAL_HANDLER_CALLED, Crash, Frame, Thread, Trust, Variable
from hydra.model.record import replace
from hydra.snapshot.format import decode_threads, encode_threads, forget_packed_variables, pack_variables
from hydra.symbols.callsites import CallSites, EntryParameter
from hydra.symbols.demangle import function_name
from hydra.symbols.dwarf import DebugFile, FunctionScope, frame_base_steps, spelled_as_unit
from hydra.symbols.scopecache import ScopeCache
from hydra.workers import Claims


# parameters whose value at entry is a number in a register: shown as gdb shows them
ENTRY_VALUE_KINDS = (drgn.TypeKind.INT, drgn.TypeKind.BOOL, drgn.TypeKind.ENUM, drgn.TypeKind.POINTER)


THREADS_A_TAKE = 4     # threads each side takes at a time: the sides end at most this far apart


def in_two_processes(info: CoreInfo) -> bool:
    """Whether capture_threads shares the threads with a forked copy."""
    return len(info.threads) >= parallel.MIN_THREADS


def capture_threads(walker: FrameWalker, info: CoreInfo, discovering: bool,
                    mapped: MappedDebugFiles) -> list[Thread]:
    """Unwind and decode every thread; with many, shared with a forked copy, which takes
    threads from the end while this process takes them from the start (workers.Claims).
    discovering: analysis will run, and is warmed up here after the fork (while the copy
    takes more threads) rather than before it."""
    threads = info.threads
    if not in_two_processes(info):
        return walker.capture(threads, info)
    if discovering:
        from hydra.analysis import finish_discovery

        finish_discovery()
    reader = walker.reader
    # both sides look up every frame's pc, most of them in the modules the threads stopped
    # in: those tables are indexed once, here, rather than by each side
    pc = info.arch.pc
    reader.symbols.index_now(thread.registers[pc] for thread in threads if pc in thread.registers)
    # each side may spend half of what is left of the pointed-to object budget
    reserve = max(0, reader.limits.object_budget - reader.object_bytes) // 2
    reader.object_bytes += reserve
    spent_before = reader.object_bytes
    claims = Claims(len(threads))

    def their_part(send) -> bytes:
        mapped.restart_after_fork()
        part: list[Thread] = []
        refs: dict[tuple[str, int], int] = {}
        while taken := claims.take(THREADS_A_TAKE, from_back=True):
            taken_threads = walker.capture(threads[taken.start:taken.stop], info)
            # packed and sent as they come: packing is part of what the claims balance, and
            # this process decodes them while it takes its own
            walker.notes.handover(taken_threads, refs)
            send(encode_threads(taken_threads))
            part[:0] = taken_threads
        return msgpack.packb({
            "pcs": list(walker.pcs.items()),
            "rereads": _places_of(part, reader.rereads),
            "ranges": reader.ranges[ranges_before:], "object_bytes": reader.object_bytes - spent_before,
            "scopes": walker.remembered.new_entries() if walker.remembered is not None else [],
            "type_notes": [list(ref) for ref in refs],
            "functions": [[path, die, entry] for (path, die), entry in walker.notes.functions.items()],
        }, use_bin_type=True)

    ranges_before = len(reader.ranges)
    type_map: list = []         # filled when the types are read, before a variable is read
    others: list[Thread] = []

    def take_theirs(messages: list[bytes]) -> None:
        for message in messages:          # the copy takes threads from the back
            others[:0] = decode_threads(message, type_map)

    helper = None
    started = time.monotonic()
    try:
        helper = parallel.start(their_part)
        if discovering:
            from hydra.analysis import warm_up

            warm_up()
        mine: list[Thread] = []
        # this side packs its threads' variables as it goes too, so that the claims balance
        # the packing and the snapshot's writer finds every thread packed; a thread holding
        # a variable to read again is left unpacked (its values change)
        refs: dict[tuple[str, int], int] = {}
        own_type_map: list = []
        while taken := claims.take(THREADS_A_TAKE):
            rereads_before = len(reader.rereads)
            taken_threads = walker.capture(threads[taken.start:taken.stop], info)
            changing = {place[0] for place in _places_of(taken_threads, reader.rereads[rereads_before:])}
            steady = [thread for position, thread in enumerate(taken_threads) if position not in changing]
            walker.notes.handover(steady, refs)
            pack_variables(steady, own_type_map)
            mine += taken_threads
            if helper:
                take_theirs(helper.arrived())
        walker.notes.take([list(ref) for ref in refs], own_type_map, [])
    except BaseException:
        if helper:
            helper.stop()        # not left blocked on a pipe nobody reads
        raise
    finally:
        claims.close()
    reader.object_bytes -= reserve
    rest = helper.result(timeout=5.0 + 4 * (time.monotonic() - started)) if helper else None
    if rest is None:
        return mine + walker.capture(threads[len(mine):], info)
    take_theirs(rest[:-1])
    theirs = msgpack.unpackb(rest[-1], raw=False, strict_map_key=False)
    if [thread.tid for thread in others] != [core_thread.tid for core_thread in threads[len(mine):]]:
        return mine + walker.capture(threads[len(mine):], info)      # never expected: redone here
    for pc, innermost in theirs["pcs"]:
        walker.pcs[pc] = walker.pcs.get(pc, False) or innermost
    reader.ranges.extend((address, size) for address, size in theirs["ranges"])
    reader.object_bytes += theirs["object_bytes"]
    if walker.remembered is not None:
        walker.remembered.put_entries(theirs["scopes"])
    walker.notes.take(theirs["type_notes"], type_map, theirs["functions"])
    # the variables to read again are taken once the types are read (walker.handed_rereads):
    # decoded before, they would have no types
    walker.handed_rereads = [(others[thread], frame, group, position)
                             for thread, frame, group, position in theirs["rereads"]]
    return mine + others


def take_handed_rereads(walker: FrameWalker) -> None:
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


class FrameWalker:
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
        # Each worker has its own libdw handles (libdw is not safe to share between threads):
        # the first, the walker's own; a second worker pays off on many lookups. Its handles
        # read through the first one's mapping, so a large debug file is not resident (nor
        # inflated) twice. They are all opened here, before the workers start.
        workers = 2 if len(wanted) > 64 else 1
        paths = dict.fromkeys(path for path, _ in wanted)
        handles: list[dict[str, DebugFile]] = [{path: self._debug_file(path) for path in paths}]
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
            # the walker's handles stay open for the frames' variables and the types
            for files in handles[1:]:
                for handle in files.values():
                    handle.close()

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
        return bytes_or_none(self.prog, address, size)

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
