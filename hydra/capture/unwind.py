"""Unwinding on top of drgn, with the repairs its walk needs:

- restart from any register set (through a synthetic struct pt_regs), which carries the
  walk past drgn's ~1024-frame limit and past a call through a wild pointer;
- a deep recursion is walked at the inside, then jumped over to its outermost frames,
  and the frames in between are counted rather than kept;
- a walk that stops making progress (seen inside clone3) is cut.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import drgn

from hydra.model.arch import Architecture

ENGINE_CHUNK = 1000          # a drgn walk this long may have been cut short by drgn
INNER_FRAMES = 2000          # physical frames kept at the inside of a deep stack
OUTER_FRAMES = 200           # and at the outside, after a jump over a recursion
MAX_PHYSICAL = INNER_FRAMES + OUTER_FRAMES


@dataclass
class WalkedFrame:
    frame: drgn.StackFrame
    trust: str
    index: int               # the frame's number as gdb would count it (inline frames too)
    # the return path out of a signal handler: the frame after it was interrupted
    signal_trampoline: bool = False


@dataclass
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
        except (LookupError, drgn.FaultError):
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
        trusts = ["context"] + ["cfi"] * (len(frames) - 1) if frames else []
        walk = Walk([])
        if not frames:
            walk.note = "no frames: the thread's registers do not lead anywhere"
            return walk
        if not self.is_code(frames[0].pc) and self.arch.return_address_on_stack:
            # a call through a wild pointer: the caller's return address is at [sp]
            caller = self._caller_from_stack(frames[0])
            if caller:
                frames = frames[:1] + caller
                trusts = ["context", "scan"] + ["cfi"] * (len(caller) - 1)
        cut = len(frames) >= ENGINE_CHUNK      # drgn may have stopped short
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
            frames += restart
            trusts += ["cfi"] * len(restart)
            cut = len(restart) >= ENGINE_CHUNK
        self._assemble(walk, frames, trusts)
        if cut and walk.note is None:
            self._jump(walk, frames)
        return walk

    def _caller_from_stack(self, frame) -> list:
        registers = frame.registers()
        sp = registers.get(self.arch.sp)
        if sp is None:
            return []
        try:
            return_address = self.prog.read_u64(sp)
        except drgn.FaultError:
            return []
        if not self.is_code(return_address):
            return []
        callers = self.trace_returning(registers, sp)
        if callers:
            return callers
        registers = dict(registers)
        registers[self.arch.pc] = return_address
        registers[self.arch.sp] = sp + 8
        return self.trace_from(registers)

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
            walk.frames.append(WalkedFrame(frame, "cfi", base + skipped + position))
        walk.note = (f"deep recursion: {walk.elided} frames between #{walk.frames[walk.elided_after].index} "
                     f"and #{base + skipped} elided")
