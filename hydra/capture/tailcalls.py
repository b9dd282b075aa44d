"""Frames that exist only through tail calls, put back as gdb puts them back.

A function that ends in a jump to another leaves no frame: the caller's call site names
the function it called, but the frame below runs another one. When the DWARF's call sites
(symbols/callsites.py) give exactly one chain of tail calls between the two, each function
on it is a frame (trust `tailcall`) at the address after its jump: `__pthread_kill_internal`
between `__pthread_kill_implementation` and `raise` in every glibc abort.
"""

from __future__ import annotations

import os

from hydra.model.crash import Frame, Thread, Trust
from hydra.model.record import field, record
from hydra.symbols.callsites import CallSite, CallSites
from hydra.symbols.dwarf import DebugFile



@record
class PhysicalFrame:
    """A physical frame as emitted: its model frames are thread.frames[first:end]."""

    first: int
    end: int
    pc: int
    lookup: int              # the address its function is looked up at (pc, or pc - 1 for a caller)
    module: object | None    # drgn's module
    interrupted: bool        # a signal interrupted it: no call site returns to it
    registers: dict[str, int] = field(default_factory=dict)
    frame: object = None     # drgn's frame
    outer: Frame | None = None   # the model frame of its function (its inline frames come before)


@record
class TailFrame:
    """A frame put back from a tail call, and what gives its arguments: the call sites that
    led into its function (innermost first), in whose library, at which address in it."""

    frame: Frame
    sites: CallSites
    address: int                      # in the function, file-relative (its jump's address)
    links: list[Link]
    # the registers at its jump, when they are known: a jump into unmapped memory faulted
    # before any instruction ran there, and the faulting frame's registers are the jump's
    registers: dict | None = None


@record(frozen=True)
class Link:
    """A call site that led into a function, and what its values are evaluated with: the
    registers of the physical frame that made the call, and its library's bias."""

    site: CallSite
    registers: dict
    bias: int
    cfa: int | None = None            # the calling frame's CFA (its caller's sp)
    frame_base: tuple | None = None   # the calling function's DW_AT_frame_base there
    # the registers are those at the call itself (a jump just taken into unmapped memory:
    # the fault came before any instruction there ran), not at a return address after it
    exact: bool = False


def add_tail_call_frames(thread: Thread, physical: list[PhysicalFrame], call_sites,
                         scopes, jump_target=None) -> tuple[list[list[Link]], list[TailFrame]]:
    """Insert the tail-call frames between each physical frame and its caller; frame
    numbers after an insertion move on. call_sites(module) -> CallSites | None;
    scopes(module, address) -> the function scopes there, innermost first;
    jump_target(link) -> the address an indirect jump's site went to, when known.
    For each physical frame, the call sites that led into its function, innermost first
    (the jumps of the tail calls, then its caller's call): [] where they are not known;
    and the frames inserted, with the call sites that led into each."""
    inserts: list[tuple[int, list[Frame]]] = []
    links: list[list[Link]] = []
    tail_frames: list[TailFrame] = []
    for position, (callee, caller) in enumerate(zip(physical, physical[1:])):
        links.append([])
        if caller.interrupted or caller.module is None:
            continue
        caller_sites = call_sites(caller.module)
        below = thread.frames[callee.end - 1]
        exact = None
        if callee.module is None and position == 0 and jump_target is not None and caller_sites is not None:
            frames, sites, chain_sites, chain_bias = _into_nowhere(caller_sites, callee, caller, below, scopes,
                                                                   jump_target)
            exact = callee.registers
        else:
            callee_sites = call_sites(callee.module) if callee.module is not None else None
            if callee_sites is None or caller_sites is None:
                continue
            frames, sites, chain_sites, chain_bias = _between(callee_sites, caller_sites, callee, caller, below,
                                                              scopes)
        if frames:
            inserts.append((callee.end, frames))
        caller_bias = caller.module.debug_file_bias
        outer = physical[position + 2] if position + 2 < len(physical) else None
        cfa = outer.frame.sp if outer is not None and outer.frame is not None else None
        frame_base = caller_sites.frame_base(caller.lookup - caller_bias) if sites else None
        links[-1] = [Link(site, caller.registers, chain_bias, cfa) for site in sites[:-1]] + \
            [Link(sites[-1], caller.registers, caller_bias, cfa, frame_base)] if sites else []
        # the tail-call frames, innermost first: the k-th was entered through the sites
        # after its own jump (sites[k]), out to the caller's call
        for number, frame in enumerate(frames):
            jump = sites[number]
            tail_frames.append(TailFrame(frame, chain_sites, jump.inside, links[-1][number + 1:],
                                         exact if number == 0 else None))
    links.append([])
    _insert(thread, inserts)
    return links, tail_frames


def _insert(thread: Thread, inserts: list[tuple[int, list[Frame]]]) -> None:
    if not inserts:
        return
    added = 0
    for position, frames in inserts:
        at = position + added
        base = thread.frames[at - 1].index + 1
        for offset, frame in enumerate(frames):
            frame.index = base + offset
        for later in thread.frames[at:]:
            later.index += len(frames)
        if thread.elided_after is not None and thread.elided_after >= base:
            thread.elided_after += len(frames)
        thread.frames[at:at] = frames
        added += len(frames)


def _between(sites: CallSites, caller_sites: CallSites, callee: PhysicalFrame, caller: PhysicalFrame,
             below: Frame, scopes_at) -> tuple[list[Frame], list[CallSite], CallSites | None, int]:
    """The tail-call frames between callee and its caller, the call sites that led into
    the callee (innermost first; none when the caller's call site does not lead there),
    and the call sites and bias of the library whose functions made the jumps. The chain runs in
    the callee's library (the caller may call into it from another), or, as gdb follows
    it, in the caller's when its own function jumps into the callee's library (a
    `release` that ends in `free(p)`)."""
    bias = callee.module.debug_file_bias
    caller_bias = caller.module.debug_file_bias
    site = caller_sites.at(caller.pc - caller_bias - 1, caller.pc - caller_bias)
    entry = sites.entry_of(callee.lookup - bias) if site is not None else None
    if entry is None:
        return [], [], None, 0
    chain, owner, module, owner_bias = None, sites, callee.module, bias
    if caller.module.name == callee.module.name:
        start = site.target
    else:
        start = sites.resolve(site.target_name) if site.target_name and sites.resolve else None
    if start == entry:
        return [], [site], None, 0
    if start is not None:
        chain = sites.tail_chain(start, entry)
    elif site.target is not None and sites.resolve is not None:
        resolve = sites.resolve
        chain = caller_sites.tail_chain_to(site.target, ("elsewhere", entry, resolve),
                                           lambda jump: jump.target is None and bool(jump.target_name)
                                           and resolve(jump.target_name) == entry)
        owner, module, owner_bias = caller_sites, caller.module, caller_bias
    if not chain:
        return [], [], None, 0
    module_name = below.module if owner is sites else (caller.outer.module if caller.outer else None)
    frames = _frames(chain, owner, owner_bias, module, module_name, below, scopes_at)
    return frames, list(reversed(chain)) + [site], owner, owner_bias


def _into_nowhere(caller_sites: CallSites, callee: PhysicalFrame, caller: PhysicalFrame, below: Frame,
                  scopes_at, jump_target) -> tuple[list[Frame], list[CallSite], CallSites | None, int]:
    """The tail-call frames above a pc outside all code, reached by a jump: the caller
    called a function that (through tail calls) ends in an indirect jump, whose call
    site's target, evaluated with the registers of the faulting frame (none ran since the
    jump), is that pc. gdb stops at such a pc; `call_handler` that ran `jmp *%rax` with
    rax = 0x10 is put back above `?? 0x10`."""
    bias = caller.module.debug_file_bias
    site = caller_sites.at(caller.pc - bias - 1, caller.pc - bias)
    if site is None or site.target is None:
        return [], [], None, 0
    pc = callee.pc

    def lands_there(jump: CallSite) -> bool:
        return jump.target is None and jump.target_name is None and bool(jump.target_expression) and \
            jump_target(Link(jump, callee.registers, bias, exact=True)) == pc

    registers = frozenset(callee.registers.items())
    chain = caller_sites.tail_chain_to(site.target, ("nowhere", pc, registers), lands_there)
    if not chain:
        return [], [], None, 0
    frames = _frames(chain, caller_sites, bias, caller.module, caller.outer.module if caller.outer else None,
                     below, scopes_at)
    return frames, list(reversed(chain)) + [site], caller_sites, bias


def _frames(chain: list[CallSite], owner: CallSites, bias: int, module, module_name: str | None, below: Frame,
            scopes_at) -> list[Frame]:
    """The frames of a tail chain's functions, innermost first, each at its jump."""
    frames = []
    debug_file: DebugFile = owner.file
    base = min(start for start, _ in module.address_ranges)
    for jump in reversed(chain):
        pc = jump.return_pc + bias
        scopes = scopes_at(module, jump.inside + bias)
        file, line, _ = debug_file.source_line(jump.inside)
        if file and not os.path.isabs(file):          # as gdb names a unit's own source
            file = debug_file.unit_spelling(jump.inside, file)
        frames.append(Frame(0, pc, function=scopes[0].name if scopes else owner.name(jump.target),
                            file=file, line=line, module=module_name, module_offset=pc - base,
                            trust=Trust.TAILCALL, sp=below.sp))
    return frames
