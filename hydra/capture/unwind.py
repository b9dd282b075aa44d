"""Unwinding on top of drgn, with the repairs its walk needs:

- restart from any register set (through a synthetic struct pt_regs), which carries the
  walk past drgn's ~1024-frame limit and past a call through a wild pointer;
- a deep recursion is walked at the inside, then jumped over to its outermost frames,
  and the frames in between are counted rather than kept;
- a walk that stops making progress (seen inside clone3) is cut;
- in clone on the parent's side, where glibc's CFI ends, the caller is at [sp];
- it ends at a return address of 0 (where clone and Go's mcall leave the stack) and
  after Go's runtime.goexit, the first frame of every goroutine;
- it goes on through Go's signal frames (runtime.sigreturn as the restorer, which has no
  CFI), from the registers the kernel saved on the signal stack;
- after a return address outside the program's code (a smashed stack) it scans the
  stack for the next return address, as Breakpad's stackwalker does.
"""

from __future__ import annotations

import struct

import drgn

from hydra.model.arch import Architecture
from hydra.model.crash import Trust
from hydra.model.record import record

ENGINE_CHUNK = 1000          # a drgn walk this long may have been cut short by drgn
INNER_FRAMES = 2000          # physical frames kept at the inside of a deep stack
OUTER_FRAMES = 200           # and at the outside, after a jump over a recursion
MAX_PHYSICAL = INNER_FRAMES + OUTER_FRAMES
OUTERMOST_FUNCTIONS = frozenset({"runtime.goexit"})   # nothing called them
CLONE_FUNCTIONS = frozenset({"clone", "__clone", "clone3", "__clone3"})
# Go's sa_restorer, by Go's versions
GO_SIGNAL_RETURNS = ("runtime.sigreturn.abi0", "runtime.sigreturn__sigaction.abi0", "runtime.sigreturn",
                     "runtime.sigreturn__sigaction")
SCAN_WORDS = 256             # stack words looked at for a return address past a smashed one
MAX_REPAIRS = 16             # signal frames and scans in one walk


@record
class WalkedFrame:
    frame: drgn.StackFrame
    trust: str
    index: int               # the frame's number as gdb would count it (inline frames too)
    # the return path out of a signal handler: the frame after it was interrupted
    signal_trampoline: bool = False


@record
class Walk:
    frames: list[WalkedFrame]
    note: str | None = None
    elided: int = 0
    elided_after: int | None = None    # position in `frames` of the frame the gap follows


def _after_first_physical(frames: list) -> list:
    for position, frame in enumerate(frames):
        if not frame.is_inline:
            return frames[position + 1 :]
    return []


def _drop_last_group(frames: list, trusts: list[str]) -> None:
    """Remove the last physical frame and the inline frames that belong to it."""
    frames.pop()
    trusts.pop()
    while frames and frames[-1].is_inline:
        frames.pop()
        trusts.pop()


def _name(frame) -> str | None:
    try:
        return frame.name
    except (LookupError, ValueError):
        return None


def _usable(frames) -> list:
    usable = []
    for frame in frames:
        try:
            frame.pc, frame.sp
        except LookupError:
            break
        usable.append(frame)
    return usable


class Unwinder:
    def __init__(self, prog: drgn.Program, arch: Architecture, is_code):
        self.prog = prog
        self.arch = arch
        self.is_code = is_code        # address -> bool: inside an executable mapping
        self._pt_regs = None
        self._go_signal_returns: set[int] | None = None

    def _pt_regs_type(self):
        if self._pt_regs is None:
            word = self.prog.int_type("unsigned long", 8, False)
            members = [drgn.TypeMember(word, name, index * 64) for index, name in enumerate(self.arch.pt_regs)]
            self._pt_regs = self.prog.struct_type("pt_regs", 8 * len(members), members)
        return self._pt_regs

    def trace_from(self, registers: dict[str, int]) -> list:
        data = b"".join(struct.pack("<Q", registers.get(name, 0) & (2**64 - 1)) for name in self.arch.pt_regs)
        try:
            obj = drgn.Object.from_bytes_(self.prog, self._pt_regs_type(), data)
            return _usable(self.prog.stack_trace(obj))
        except (ValueError, LookupError, drgn.FaultError, NotImplementedError):
            return []

    def trace_returning(self, registers: dict[str, int], slot: int) -> list:
        """The walk from the frame that the return address at [slot] returns into, with
        the registers that frame holds.

        A walk restarted from registers takes its first frame for an interrupted one and
        looks its pc up as is; a return address must be looked up one byte back (a call
        that never returns ends its function, so the address after it is in the next
        function, with that function's line, inline chain and CFI). So the walk starts in
        a made-up frame at a function's entry (the caller's own), where the return address
        is at [sp] and every other register is still the caller's; that frame is left out.
        Empty when no entry is known or the walk does not lead where it must."""
        if not self.arch.return_address_on_stack:
            return []
        try:
            return_address = self.prog.read_u64(slot)
            entry = self.prog.symbol(return_address - 1).address
        except (LookupError, drgn.FaultError, OverflowError):       # a return address of 0
            return []
        registers = dict(registers)
        registers[self.arch.pc] = entry
        registers[self.arch.sp] = slot
        callers = _after_first_physical(self.trace_from(registers))
        if not callers or callers[0].pc != return_address or callers[0].sp != slot + 8:
            return []
        return callers

    def walk(self, thread: drgn.Thread) -> Walk:
        frames = _usable(thread.stack_trace())
        trusts = [Trust.CONTEXT] + [Trust.CFI] * (len(frames) - 1) if frames else []
        walk = Walk([])
        if not frames:
            walk.note = "no frames: the thread's registers do not lead anywhere"
            return walk
        if not self.is_code(frames[0].pc) and self.arch.return_address_on_stack:
            # a call through a wild pointer: the caller's return address is at [sp]
            caller = self._caller_from_stack(frames[0])
            if caller:
                frames = frames[:1] + caller
                trusts = [Trust.CONTEXT, Trust.SCAN] + [Trust.CFI] * (len(caller) - 1)
        elif _name(frames[0]) in CLONE_FUNCTIONS and self.arch.return_address_on_stack:
            # the parent's side of clone, after the syscall, where glibc's CFI says the
            # caller is unknown (true only of the child): the return address is at [sp]
            slot = frames[0].sp
            try:
                returns_after_call = self._follows_call(self.prog.read_u64(slot))
            except (drgn.FaultError, OverflowError):
                returns_after_call = False
            caller = self._caller_from_stack(frames[0]) if returns_after_call else []
            if caller:
                frames = frames[:1] + caller
                trusts = [Trust.CONTEXT, Trust.SCAN] + [Trust.CFI] * (len(caller) - 1)
        frames, trusts, ended = self._repair(frames, trusts, 1)
        cut = not ended and len(frames) >= ENGINE_CHUNK      # drgn may have stopped short
        while cut:
            # drgn's own last frame lacks some values (arguments show as optimized out):
            # a restarted copy of it replaces it, or it goes
            if sum(1 for f in frames if not f.is_inline) >= INNER_FRAMES:
                _drop_last_group(frames, trusts)
                break
            restart = self._restart(frames[-1])
            if len(restart) < 2:
                cut = False
                break
            _drop_last_group(frames, trusts)
            start = len(frames)
            frames += restart
            trusts += [Trust.CFI] * len(restart)
            frames, trusts, ended = self._repair(frames, trusts, start)
            cut = not ended and len(restart) >= ENGINE_CHUNK
        self._assemble(walk, frames, trusts)
        if cut and walk.note is None:
            self._jump(walk, frames)
        return walk

    def _caller_from_stack(self, frame, slot: int | None = None) -> list:
        """The walk from the return address at [slot] (the frame's sp by default)."""
        registers = frame.registers()
        if slot is None:
            slot = registers.get(self.arch.sp)
        if slot is None:
            return []
        try:
            return_address = self.prog.read_u64(slot)
        except drgn.FaultError:
            return []
        if not self.is_code(return_address):
            return []
        callers = self.trace_returning(registers, slot)
        if callers:
            return callers
        registers = dict(registers)
        registers[self.arch.pc] = return_address
        registers[self.arch.sp] = slot + 8
        return self.trace_from(registers)

    def _repair(self, frames: list, trusts: list[str], start: int) -> tuple[list, list[str], bool]:
        """drgn's walk from `start` on, ended and mended (see the module's notes); and
        whether the walk ends there."""
        position = max(1, start)          # the first frame holds the thread's own registers
        repairs = 0
        while position < len(frames):
            frame = frames[position]
            if frame.is_inline:
                position += 1
                continue
            if frame.pc == 0 or _name(frame) in OUTERMOST_FUNCTIONS:
                return frames[: position + 1], trusts[: position + 1], True
            if repairs < MAX_REPAIRS and self.arch.return_address_on_stack:
                if self._is_go_signal_return(frame.pc):
                    interrupted = self._interrupted_by_signal(frame)
                    if interrupted:
                        frames = frames[: position + 1] + interrupted
                        trusts = trusts[: position + 1] + [Trust.CONTEXT] + [Trust.CFI] * (len(interrupted) - 1)
                        repairs += 1
                elif not self.is_code(frame.pc):
                    found = self._scan(frame)
                    if not found:
                        return frames[: position + 1], trusts[: position + 1], True
                    frames = frames[: position + 1] + found
                    trusts = trusts[: position + 1] + [Trust.SCAN] + [Trust.CFI] * (len(found) - 1)
                    repairs += 1
            position += 1
        return frames, trusts, False

    def _is_go_signal_return(self, pc: int) -> bool:
        if self._go_signal_returns is None:       # looked up once, by name: most programs have none
            found = set()
            for name in GO_SIGNAL_RETURNS:
                try:
                    found.update(symbol.address for symbol in self.prog.symbols(name))
                except (LookupError, ValueError):
                    continue
            self._go_signal_returns = found
        return pc in self._go_signal_returns

    def _interrupted_by_signal(self, frame) -> list:
        """The walk from the registers a signal interrupted, which the kernel saved above
        the sp the handler returned with."""
        if not self.arch.sigcontext:
            return []
        try:
            data = self.prog.read(frame.sp + self.arch.sigcontext_offset, 8 * len(self.arch.sigcontext))
        except (drgn.FaultError, OverflowError, ValueError):
            return []
        registers = dict(zip(self.arch.sigcontext, struct.unpack(f"<{len(self.arch.sigcontext)}Q", data)))
        return self.trace_from(registers)

    def _scan(self, frame) -> list:
        """Past a return address outside the code: the walk from the next word up the
        stack that returns just after a call instruction."""
        sp = frame.sp
        for slot in range(sp, sp + 8 * SCAN_WORDS, 8):
            try:
                word = self.prog.read_u64(slot)
            except (drgn.FaultError, OverflowError):
                return []
            if self.is_code(word) and self._follows_call(word):
                callers = self._caller_from_stack(frame, slot)
                if callers:
                    return callers
        return []

    def _follows_call(self, address: int) -> bool:
        """Whether the instruction before `address` is a call (x86-64: e8 rel32, or ff /2
        with a ModRM of 2 to 7 bytes)."""
        try:
            before = self.prog.read(address - 7, 7)
        except (drgn.FaultError, OverflowError, ValueError):
            return False
        if before[2] == 0xE8:
            return True
        return any(before[7 - length] == 0xFF and (before[8 - length] >> 3) & 7 == 2 for length in range(2, 8))

    def _restart(self, frame) -> list:
        """drgn's walk again from a frame it reached (a return address: the frame is a
        caller), that frame included."""
        registers = frame.registers()
        if self.arch.return_address_on_stack:
            callers = self.trace_returning(registers, frame.sp - 8)
            if callers:
                return callers
        return self.trace_from(registers)

    def _assemble(self, walk: Walk, frames: list, trusts: list[str]) -> None:
        previous = None
        repeats = 0
        for frame, trust in zip(frames, trusts):
            if not frame.is_inline:
                key = (frame.pc, frame.sp)
                repeats = repeats + 1 if key == previous else 0
                previous = key
                if repeats >= 1:
                    walk.note = "unwinding stopped: the caller repeats the same frame"
                    # drop the inline frames already added for the repeated frame
                    while walk.frames and walk.frames[-1].frame.is_inline:
                        walk.frames.pop()
                    return
            if frame.interrupted and not frame.is_inline:
                # the previous physical frame is where the handler returns to
                for earlier in reversed(walk.frames):
                    if not earlier.frame.is_inline:
                        earlier.signal_trampoline = True
                        break
            walk.frames.append(WalkedFrame(frame, trust, len(walk.frames)))

    def _jump(self, walk: Walk, frames: list) -> None:
        """Jump over a recursion to its outermost frames; count what lies between."""
        physical = [f for f in frames if not f.is_inline]
        tail = physical[-64:]
        period = delta = None
        for candidate in range(1, 9):
            if len(tail) < 3 * candidate:
                break
            pcs_repeat = all(tail[i].pc == tail[i + candidate].pc for i in range(len(tail) - candidate))
            deltas = {tail[i + candidate].sp - tail[i].sp for i in range(len(tail) - candidate)}
            if pcs_repeat and len(deltas) == 1 and next(iter(deltas)) > 0:
                period, delta = candidate, next(iter(deltas))
                break
        if period is None or not self.arch.return_address_on_stack:
            walk.note = f"unwinding stopped after {len(physical)} frames"
            return
        last, before = physical[-1], physical[-1 - period]
        cycles = 0
        while True:
            slot = last.sp + (cycles + 1) * delta - 8
            try:
                if self.prog.read_u64(slot) != last.pc:
                    break
            except drgn.FaultError:
                break
            cycles += 1
            if cycles > 50_000_000 // max(delta, 1):
                break
        # land a few cycles short of the end, so the outermost calls show too
        cycles = max(1, cycles - 4)
        if cycles <= 1:
            walk.note = f"unwinding stopped after {len(physical)} frames"
            return
        registers = {}
        last_registers, before_registers = last.registers(), before.registers()
        for name, value in last_registers.items():
            step = value - before_registers.get(name, value)
            registers[name] = value + cycles * delta if step == delta else value
        landing = last.sp + cycles * delta
        outer = self.trace_returning(registers, landing - 8)
        # the frame landed on holds the extrapolated registers, which are not its own
        # where they vary between calls (a counter in a callee-saved register): it goes,
        # and the frames after it have theirs from the stack
        landed = len(outer) - len(_after_first_physical(outer))
        outer = outer[landed:]
        if not outer:
            walk.note = f"unwinding stopped after {len(physical)} frames"
            return
        # frames as gdb counts them, inline ones too: a cycle has as many as the last one walked
        per_cycle = 0
        groups = 0
        for walked in reversed(walk.frames):
            if not walked.frame.is_inline:
                if groups == period:
                    break
                groups += 1
            per_cycle += 1
        walk.elided_after = len(walk.frames) - 1
        walk.elided = cycles * per_cycle
        base = walk.frames[-1].index + walk.elided + 1
        kept = outer[-OUTER_FRAMES:]
        skipped = len(outer) - len(kept)
        walk.elided += skipped
        for position, frame in enumerate(kept):
            walk.frames.append(WalkedFrame(frame, Trust.CFI, base + skipped + position))
        walk.note = (f"deep recursion: {walk.elided} frames between #{walk.frames[walk.elided_after].index} "
                     f"and #{base + skipped} elided")
