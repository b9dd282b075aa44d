"""Unwinding a minidump thread the way Breakpad's stackwalkers do.

Per frame: Windows frame data (`STACK WIN`, x86), then CFI (`STACK CFI` from `.sym` files or
a local ELF file's `.eh_frame`), then the frame pointer, then a scan of the stack for a
return address. Every frame records which of these found it.
"""

from __future__ import annotations

import bisect
import struct

from hydra.minidump.contexts import ARM, ARM64, X86, CpuLayout
from hydra.minidump.postfix import EvaluationError, cfi_rules, evaluate, run_program
from hydra.model.crash import Trust
from hydra.model.memory import Memory
from hydra.model.record import field, record
from hydra.symbols.breakpad import SymbolFrame, WindowsFrameInfo

MAX_FRAMES = 1024
SCAN_WORDS = 40


class Symbols:
    """What the walker asks of a module's symbols (a .sym file's, an ELF file's), by duck typing:
    typing.Protocol would cost every start typing's import."""

    has_functions: bool

    def symbolize(self, address: int) -> list[SymbolFrame]: ...
    def cfi_rules(self, address: int) -> str | None: ...
    def windows_frame_info(self, address: int) -> WindowsFrameInfo | None: ...
    def parameter_size(self, address: int) -> int | None: ...


@record
class CodeModule:
    base: int
    size: int
    symbols: Symbols | None = None


@record
class WalkFrame:
    registers: dict[str, int]
    valid: set[str]
    trust: str
    win_info: WindowsFrameInfo | None = None
    parameter_size: int | None = None
    module: CodeModule | None = None

    def pc(self, layout: CpuLayout) -> int:
        return self.registers[layout.pc]

    def lookup_address(self, layout: CpuLayout) -> int:
        """Where the frame's code is: the pc itself for the context frame, else the call."""
        pc = self.registers[layout.pc]
        if self.trust == Trust.CONTEXT:
            return pc
        # inside the call: 32-bit ARM's return address in Thumb state carries bit 0, and
        # pc - 1 would be the return address itself (a FUNC's first byte, another line),
        # so ARM steps back 2 as Breakpad does; elsewhere 1 byte lands in the call
        return pc - 2 if layout.name == "arm" else pc - 1


class ModuleMap:
    def __init__(self, modules: list[CodeModule]):
        self.modules = sorted(modules, key=lambda m: m.base)
        self._bases = [m.base for m in self.modules]

    def at(self, address: int) -> CodeModule | None:
        index = bisect.bisect_right(self._bases, address) - 1
        if index >= 0:
            module = self.modules[index]
            if address < module.base + module.size:
                return module
        return None


@record
class Stackwalker:
    layout: CpuLayout
    memory: Memory
    modules: ModuleMap
    windows: bool = False
    frame_pointers: bool = True      # arm: only on iOS, as Breakpad
    frames: list[WalkFrame] = field(default_factory=list)

    def __post_init__(self):
        self.word = self.layout.pointer_size
        self.mask = (1 << (8 * self.word)) - 1
        self._format = "<Q" if self.word == 8 else "<I"

    # -- memory and symbols

    def read(self, address: int) -> int | None:
        if address < 0 or address > self.mask:
            return None
        raw = self.memory.read(address, self.word)
        return struct.unpack(self._format, raw)[0] if raw is not None else None

    def _symbols_at(self, address: int) -> tuple[CodeModule | None, int]:
        module = self.modules.at(address)
        return module, (address - module.base if module else 0)

    def seems_return_address(self, address: int) -> bool:
        """The call instruction before it (the byte before) is in a module and, when the
        module's symbols list functions, in a function. As Breakpad decides: a module's
        first byte or a pointer to the start of a function is no return address, and a
        call that ends its module returns just past it."""
        module, offset = self._symbols_at(address - 1)
        if module is None:
            return False
        if module.symbols is None or not module.symbols.has_functions:
            return True
        return bool(module.symbols.symbolize(offset))

    def strip_authentication(self, address: int) -> int:
        """arm64 return addresses may carry pointer-authentication bits above the address:
        keep the low 48 bits when that lands in a module and the whole value does not."""
        if self.layout is ARM64 and address >> 48 and self.modules.at(address) is None:
            stripped = address & ((1 << 48) - 1)
            if self.modules.at(stripped) is not None:
                return stripped
        return address

    def scan(self, start: int, words: int) -> tuple[int, int] | None:
        """(location, return address) of the first plausible return address from start."""
        for location, value in self._words(start, words + 1):
            value = self.strip_authentication(value)
            if self.seems_return_address(value):
                return location, value
        return None

    def _words(self, start: int, count: int):
        """(location, value) of up to count words from start, while memory holds them: a
        region's words unpacked together, a word across two regions read alone."""
        location, end = start, start + count * self.word
        while location < end:
            region = self.memory.region_at(location) if 0 <= location <= self.mask else None
            data = region.data if region is not None else b""
            stop = min(end, region.start + len(data)) if region is not None else location
            stop -= (stop - location) % self.word
            if stop <= location:
                value = self.read(location)
                if value is None:
                    return
                yield location, value
                location += self.word
                continue
            offset = location - region.start
            for (value,) in struct.iter_unpack(self._format, memoryview(data)[offset:offset + stop - location]):
                yield location, value
                location += self.word

    # -- the walk

    def walk(self, registers: dict[str, int], limit: int = MAX_FRAMES) -> list[WalkFrame]:
        frame = WalkFrame(dict(registers), set(registers), Trust.CONTEXT)
        self._describe(frame)
        self.frames = [frame]
        while len(self.frames) < limit:
            caller = self._caller()
            if caller is None:
                break
            self._describe(caller)
            self.frames.append(caller)
        return self.frames

    def _describe(self, frame: WalkFrame) -> None:
        address = frame.lookup_address(self.layout)
        module, offset = self._symbols_at(address)
        frame.module = module
        if module is not None and module.symbols is not None:
            if self.layout is X86:
                frame.win_info = module.symbols.windows_frame_info(offset)
            frame.parameter_size = module.symbols.parameter_size(offset)

    def _caller(self) -> WalkFrame | None:
        last = self.frames[-1]
        if self.layout is X86:
            caller = self._by_windows_frame_info() or self._by_cfi() or self._x86_by_ebp()
        else:
            caller = self._by_cfi()
            if caller is None and self.frame_pointers and not (self.windows and self.layout.name == "amd64"):
                caller = self._by_frame_pointer()
            if caller is None:
                caller = self._by_scan()
        if caller is None:
            return None
        pc = caller.registers.get(self.layout.pc, 0)
        sp = caller.registers.get(self.layout.sp, 0)
        last_sp = last.registers.get(self.layout.sp, 0)
        if pc < 4096:
            return None
        # the first unwind may keep sp: where the return address lives in a register
        first_unwind = last.trust == Trust.CONTEXT
        if sp < last_sp if first_unwind else sp <= last_sp:
            return None
        return caller

    # -- CFI

    def _by_cfi(self) -> WalkFrame | None:
        last = self.frames[-1]
        module = last.module
        if module is None or module.symbols is None:
            return None
        text = module.symbols.cfi_rules(last.lookup_address(self.layout) - module.base)
        if text is None:
            return None
        try:
            rules = cfi_rules(text)
        except EvaluationError:
            return None
        if ".cfa" not in rules or ".ra" not in rules:
            return None
        values = {}
        for name in last.valid:
            value = last.registers[name]
            values[name] = value
            values["$" + name] = value
        try:
            cfa = evaluate(rules[".cfa"], values, self.read, self.mask)
            values[".cfa"] = cfa
            registers: dict[str, int] = {}
            valid: set[str] = set()
            for name in self.layout.callee_saved:
                if name in last.valid:
                    registers[name] = last.registers[name]
                    valid.add(name)
            for name, expression in rules.items():
                if name in (".cfa", ".ra"):
                    continue
                register = name.lstrip("$")
                if expression == [".undef"]:
                    registers.pop(register, None)
                    valid.discard(register)
                    continue
                try:
                    registers[register] = evaluate(expression, values, self.read, self.mask)
                    valid.add(register)
                except EvaluationError:
                    registers.pop(register, None)
                    valid.discard(register)
            registers[self.layout.pc] = self.strip_authentication(evaluate(rules[".ra"], values, self.read, self.mask))
            registers[self.layout.sp] = cfa
        except EvaluationError:
            return None
        valid |= {self.layout.pc, self.layout.sp}
        return WalkFrame(registers, valid, Trust.CFI)

    # -- frame pointers

    def _by_frame_pointer(self) -> WalkFrame | None:
        last = self.frames[-1]
        layout = self.layout
        fp = last.registers.get(layout.fp)
        if fp is None or layout.fp not in last.valid:
            return None
        if layout is ARM64:
            return self._arm64_by_frame_record(last, fp)
        if layout is ARM:
            link = "lr"
            if link not in last.valid:
                return None
            caller_fp = self.read(fp) if fp else 0
            caller_lr = self.read(fp + self.word) if fp else 0
            if caller_fp is None or caller_lr is None:
                return None
            caller_sp = fp + 2 * self.word if fp else last.registers[layout.sp]
            registers = {layout.fp: caller_fp, link: caller_lr, layout.sp: caller_sp,
                         layout.pc: self.strip_authentication(last.registers[link])}
            if caller_fp and caller_fp < caller_sp:
                return None
            return WalkFrame(registers, set(registers), Trust.FRAME_POINTER)
        if fp % self.word:
            return None
        caller_pc = self.read(fp + self.word)
        caller_fp = self.read(fp)
        if caller_pc is None or caller_fp is None:
            return None
        caller_sp = fp + 2 * self.word
        if self.word == 8 and 0x0000800000000000 <= caller_pc <= 0xFFFF7FFFFFFFFFFF:
            return None
        if caller_sp <= fp or caller_fp < caller_sp:
            return None
        if self.read(caller_fp) is None:
            return None
        registers = {layout.pc: caller_pc, layout.sp: caller_sp, layout.fp: caller_fp}
        return WalkFrame(registers, set(registers), Trust.FRAME_POINTER)

    def _arm64_by_frame_record(self, last: WalkFrame, fp: int) -> WalkFrame | None:
        """rust-minidump's arm64 rule, which departs from Breakpad's on purpose: every frame
        is taken for a normal one, whose frame record at fp holds the caller's fp and return
        address; the link register is never the caller's pc (in a frame that is not a leaf it
        is stale: taken as the caller, a frame from before the crash enters the backtrace and
        the fingerprint; in a leaf, the leaf's caller is left out and the walk stays in step).
        The caller's lr comes from its own record, for CFI rows such as `.ra: x30` further
        on. A frame pointer of 0 gives nothing: the stack is scanned."""
        layout = self.layout
        if fp == 0 or fp >= (1 << 64) - 2 * self.word:
            return None
        caller_fp, return_address = self.read(fp), self.read(fp + self.word)
        if caller_fp is None or return_address is None:
            return None
        caller_pc = self.strip_authentication(return_address)
        if not 0x1000 <= caller_pc <= 0x000FFFFFFFFFFFFF:
            return None
        caller_fp = self.strip_authentication(caller_fp)
        registers = {layout.pc: caller_pc, layout.fp: caller_fp, layout.sp: fp + 2 * self.word}
        caller_lr = self.read(caller_fp + self.word) if caller_fp else None
        if caller_lr is not None:
            registers["x30"] = self.strip_authentication(caller_lr)
        return WalkFrame(registers, set(registers), Trust.FRAME_POINTER)

    # -- stack scanning

    def _by_scan(self) -> WalkFrame | None:
        last = self.frames[-1]
        layout = self.layout
        found = self.scan(last.registers[layout.sp], _scan_words(last))
        if found is None:
            return None
        location, value = found
        registers = {layout.pc: value, layout.sp: location + self.word}
        if layout.name == "amd64" and layout.fp in last.valid:
            fp = last.registers[layout.fp]
            if location - self.word == fp:
                saved = self.read(fp)
                if saved is not None and saved > location:
                    registers[layout.fp] = saved
            elif fp >= location + self.word:
                registers[layout.fp] = fp
        return WalkFrame(registers, set(registers), Trust.SCAN)

    # -- x86: Windows frame data and %ebp chains

    def _by_windows_frame_info(self) -> WalkFrame | None:
        last = self.frames[-1]
        info = last.win_info
        if info is None:
            # a FUNC record's parameter size alone is no unwind program: Breakpad and
            # rust-minidump go on to CFI (Linux x86 .sym files have no STACK WIN records;
            # a program made of it walks main into a fake `_fini` frame). The size still
            # serves as a callee's, below.
            return None
        callee_params = 0
        if len(self.frames) >= 2:
            callee = self.frames[-2]
            if callee.win_info is not None:
                callee_params = callee.win_info.parameter_size
            elif callee.parameter_size is not None:
                callee_params = callee.parameter_size
        regs = last.registers
        values = {"$ebp": regs.get("ebp", 0), "$esp": regs["esp"]}
        if "ebx" in last.valid:
            values["$ebx"] = regs["ebx"]
        values[".cbCalleeParams"] = callee_params
        values[".cbSavedRegs"] = info.saved_register_size
        values[".cbLocals"] = info.local_size
        search_start = regs["esp"] + callee_params + info.local_size + info.saved_register_size
        original_start = search_start
        found = self.scan(search_start, 3)
        if found is not None:
            search_start = found[0]
            if (last.trust == Trust.CONTEXT and last.win_info is not None and last.win_info.type == 0
                    and original_start == search_start and found[1] == regs["eip"]):
                again = self.scan(search_start + 4, 3)
                search_start = again[0] if again else search_start + 4
        values[".cbParams"] = info.parameter_size
        recover_ebp = True
        trust = Trust.CFI
        if info.program:
            program = info.program
        elif info.allocates_base_pointer:
            program = ("$eip .raSearchStart ^ = $esp .raSearchStart 4 + = "
                       "$ebp $esp .cbCalleeParams - .cbSavedRegs + 12 - ^ =")
        else:
            program = "$eip .raSearchStart ^ = $esp .raSearchStart 4 + ="
            recover_ebp = False
        if "@" in program:
            search_start = regs.get("ebp", 0) + 4
        values[".raSearchStart"] = search_start
        values[".raSearch"] = search_start
        try:
            assigned = run_program(program, values, self.read, self.mask)
            if "$eip" not in assigned or "$esp" not in assigned:
                raise EvaluationError("program did not recover eip and esp")
        except EvaluationError:
            assigned = set()
            scanned = self.scan(regs["esp"], _scan_words(last))
            if scanned is None:
                return None
            values["$eip"], values["$esp"] = scanned[1], scanned[0] + 4
            trust = Trust.SCAN
        if values.get("$eip", 0) != 0 or values.get("$ebp", 0) != 0:
            offset = 0
            if self.modules.at(values["$eip"]) is None:
                start = values[".raSearchStart"] + 4
                scanned = self.scan(start, _scan_words(last))
                if scanned is not None:
                    values["$eip"], values["$esp"] = scanned[1], scanned[0] + 4
                    offset = scanned[0] - start
                    trust = Trust.SCAN     # Breakpad's "call frame info with scanning"
            if recover_ebp:
                ebp = values.get("$ebp", 0)
                skipped = trust != Trust.CFI and ebp <= search_start + offset
                if skipped or self.read(ebp) is None:
                    end = regs["esp"] + callee_params
                    location = end + info.saved_register_size + offset
                    while location >= end:
                        candidate = self.read(location)
                        if candidate is None:
                            break
                        if self.read(candidate) is not None:
                            values["$ebp"] = candidate
                            break
                        location -= 4
        registers = {"eip": values["$eip"], "esp": values["$esp"], "ebp": values.get("$ebp", 0)}
        for name in ("$ebx", "$esi", "$edi"):
            if name in assigned:
                registers[name[1:]] = values[name]
        return WalkFrame(registers, set(registers), trust)

    def _x86_by_ebp(self) -> WalkFrame | None:
        last = self.frames[-1]
        ebp = last.registers.get("ebp", 0)
        esp = last.registers["esp"]
        caller_eip = self.read(ebp + 4)
        caller_ebp = self.read(ebp)
        if caller_eip is not None and caller_ebp is not None:
            registers = {"eip": caller_eip, "esp": ebp + 8, "ebp": caller_ebp}
            return WalkFrame(registers, set(registers), Trust.FRAME_POINTER)
        found = self.scan(esp, _scan_words(last))
        if found is None:
            return None
        location, caller_eip = found
        caller_esp = location + 4
        saved = self.read(caller_esp - 8)
        if saved is not None and saved > caller_esp - 8 and saved - (caller_esp - 8) < 128 * 1024:
            caller_ebp = saved
        else:
            caller_ebp = ebp
        registers = {"eip": caller_eip, "esp": caller_esp, "ebp": caller_ebp}
        return WalkFrame(registers, set(registers), Trust.SCAN)


def _scan_words(last: WalkFrame) -> int:
    """Words a scan for the caller of `last` looks at: four times more above the context
    frame, as Breakpad and rust-minidump scan."""
    return SCAN_WORDS * 4 if last.trust == Trust.CONTEXT else SCAN_WORDS
