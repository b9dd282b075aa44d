"""Frames that exist only through tail calls, put back as gdb puts them back.

A function that ends in a jump to another leaves no frame: the caller's call site names
the function it called, but the frame below runs another one. When the DWARF's call sites
(symbols/callsites.py) give exactly one chain of tail calls between the two, each function
on it is a frame (trust `tailcall`) at the address after its jump: `__pthread_kill_internal`
between `__pthread_kill_implementation` and `raise` in every glibc abort.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hydra.model.crash import Frame, Thread
from hydra.symbols.callsites import CallSite, CallSites
from hydra.symbols.dwarf import DebugFile

TAILCALL = "tailcall"


@dataclass
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


@dataclass
class TailFrame:
    """A frame put back from a tail call, and what gives its arguments: the call sites that
    led into its function (innermost first), in whose library, at which address in it."""

    frame: Frame
    sites: CallSites
    address: int                      # in the function, file-relative (its jump's address)
    links: list[Link]


@dataclass(frozen=True)
class Link:
    """A call site that led into a function, and what its values are evaluated with: the
    registers of the physical frame that made the call, and its library's bias."""

    site: CallSite
    registers: dict
    bias: int
    cfa: int | None = None            # the calling frame's CFA (its caller's sp)
    frame_base: tuple | None = None   # the calling function's DW_AT_frame_base there


def add_tail_call_frames(thread: Thread, physical: list[PhysicalFrame], call_sites,
                         scopes) -> tuple[list[list[Link]], list[TailFrame]]:
    """Insert the tail-call frames between each physical frame and its caller; frame
    numbers after an insertion move on. call_sites(module) -> CallSites | None;
    scopes(module, address) -> the function scopes there, innermost first.
    For each physical frame, the call sites that led into its function, innermost first
    (the jumps of the tail calls, then its caller's call): [] where they are not known;
    and the frames inserted, with the call sites that led into each."""
    inserts: list[tuple[int, list[Frame]]] = []
    links: list[list[Link]] = []
    tail_frames: list[TailFrame] = []
    for position, (callee, caller) in enumerate(zip(physical, physical[1:])):
        links.append([])
        if caller.interrupted or callee.module is None or caller.module is None:
            continue
        callee_sites, caller_sites = call_sites(callee.module), call_sites(caller.module)
        if callee_sites is None or caller_sites is None:
            continue
        frames, sites = _between(callee_sites, caller_sites, callee, caller, thread.frames[callee.end - 1],
                                 scopes)
        if frames:
            inserts.append((callee.end, frames))
        callee_bias, caller_bias = callee.module.debug_file_bias, caller.module.debug_file_bias
        outer = physical[position + 2] if position + 2 < len(physical) else None
        cfa = outer.frame.sp if outer is not None and outer.frame is not None else None
        frame_base = caller_sites.frame_base(caller.lookup - caller_bias) if sites else None
        links[-1] = [Link(site, caller.registers, callee_bias, cfa) for site in sites[:-1]] + \
            [Link(sites[-1], caller.registers, caller_bias, cfa, frame_base)] if sites else []
        # the tail-call frames, innermost first: the k-th was entered through the sites
        # after its own jump (sites[k]), out to the caller's call
        for number, frame in enumerate(frames):
            jump = sites[number]
            tail_frames.append(TailFrame(frame, callee_sites, jump.return_pc - 1, links[-1][number + 1:]))
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
             below: Frame, scopes_at) -> list[Frame]:
    """The tail-call frames between callee and its caller (the chain runs in the callee's
    library; the caller may call into it from another), and the call sites that led into
    the callee, innermost first; none when the caller's call site does not lead there."""
    bias = callee.module.debug_file_bias
    caller_bias = caller.module.debug_file_bias
    site = caller_sites.at(caller.pc - caller_bias - 1, caller.pc - caller_bias)
    if site is None:
        return [], []
    if caller.module.name == callee.module.name:
        start = site.target
    else:
        start = sites.resolve(site.target_name) if site.target_name and sites.resolve else None
    entry = sites.entry_of(callee.lookup - bias)
    if start is None or entry is None:
        return [], []
    if start == entry:
        return [], [site]
    chain = sites.tail_chain(start, entry)
    if not chain:
        return [], []
    frames = []
    debug_file: DebugFile = sites.file
    base = min(start for start, _ in callee.module.address_ranges)
    for jump in reversed(chain):            # innermost first, as frames are listed
        pc = jump.return_pc + bias
        scopes = scopes_at(callee.module, pc - 1)
        file, line, _ = debug_file.source_line(jump.return_pc - 1)
        frames.append(Frame(0, pc, function=scopes[0].name if scopes else sites.name(jump.target),
                            file=file, line=line, module=below.module, module_offset=pc - base,
                            trust=TAILCALL, sp=below.sp))
    return frames, list(reversed(chain)) + [site]
