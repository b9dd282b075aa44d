"""Exploitability in CASR's terms: EXPLOITABLE, PROBABLY_EXPLOITABLE, NOT_EXPLOITABLE, and the
rule (CASR's class name) that decided it."""

from __future__ import annotations

from hydra.analysis.api import AnalysisContext
from hydra.analysis.faults import NEAR_NULL, is_kernel_reported, signal_class

TIERS = {
    "SegFaultOnPc": "EXPLOITABLE", "ReturnAv": "EXPLOITABLE", "CallAv": "EXPLOITABLE",
    "BranchAv": "EXPLOITABLE", "DestAv": "EXPLOITABLE",
    "SegFaultOnPcNearNull": "PROBABLY_EXPLOITABLE", "CallAvNearNull": "PROBABLY_EXPLOITABLE",
    "BranchAvNearNull": "PROBABLY_EXPLOITABLE", "DestAvNearNull": "PROBABLY_EXPLOITABLE",
    "BadInstruction": "PROBABLY_EXPLOITABLE", "StackGuard": "PROBABLY_EXPLOITABLE",
    "HeapError": "PROBABLY_EXPLOITABLE",
    "SafeFunctionCheck": "NOT_EXPLOITABLE", "AbortSignal": "NOT_EXPLOITABLE", "TrapSignal": "NOT_EXPLOITABLE",
    "FPE": "NOT_EXPLOITABLE", "StackOverflow": "NOT_EXPLOITABLE", "SourceAv": "NOT_EXPLOITABLE",
    "SourceAvNearNull": "NOT_EXPLOITABLE", "AccessViolation": "NOT_EXPLOITABLE",
    "Killed": "NOT_EXPLOITABLE", "QuitSignal": "NOT_EXPLOITABLE",
    "CallAvTainted": "EXPLOITABLE", "DestAvTainted": "EXPLOITABLE",
}


def casr_class(context: AnalysisContext) -> str | None:
    kind = signal_class(context.crash)
    has = context.has
    if has("killed"):
        return "Killed"
    if kind in ("ill", "sys"):
        return "BadInstruction"
    if kind == "trap":
        return "TrapSignal"
    if kind == "fpe":
        return "FPE"
    if kind in ("quit", "resource"):
        return "QuitSignal"
    if kind == "abort" or has("abort"):
        if has("stack-overflow"):
            return "StackOverflow"
        if has("stack-smashing"):
            return "StackGuard"
        if has("heap-corruption") or has("double-free") or has("invalid-free"):
            return "HeapError"
        if has("fortify"):
            return "SafeFunctionCheck"
        return "AbortSignal"
    if kind not in ("segv", "bus"):
        return None
    address = context.notes.get("fault_address")
    near_null = (isinstance(address, int) and address < NEAR_NULL and not is_kernel_reported(context.crash)) \
        or has("null-dereference")
    suffix = "NearNull" if near_null else ""
    decoded = context.instruction
    if has("exec"):
        return "SegFaultOnPc" + suffix
    if has("stack-overflow"):
        return "StackOverflow"
    if decoded is not None:
        if "ret" in decoded.groups:
            return "ReturnAv"
        if decoded.is_call and _indirect(decoded):
            return "CallAv" + suffix
        if "jump" in decoded.groups and _indirect(decoded):
            return "BranchAv" + suffix
    if has("write"):
        return "DestAv" + suffix
    if has("read"):
        return _tainted(context, decoded) or "SourceAv" + suffix
    return "AccessViolation"


FOLLOWING = 8        # instructions looked at after a faulting load


def _tainted(context: AnalysisContext, decoded) -> str | None:
    """A load from an address the program computed (base plus an index register) whose value
    the next instructions call through or store through: what an unoptimized build does in
    steps an optimized one does in one instruction (`call [rax + rdx*8]`), as CASR's
    CallAvTainted and DestAvTainted."""
    from hydra.analysis.instruction import decode

    if decoded is None or not decoded.accesses or not decoded.written or decoded.is_branch:
        return None
    access = decoded.accesses[0]
    if not access.read or access.write or access.index is None:
        return None
    carried = set(decoded.written) - {"rflags", "rip"}
    address = decoded.address + decoded.size
    code = context.read(address, 15 * FOLLOWING)
    offset = 0
    for _ in range(FOLLOWING):
        if not code or offset >= len(code):
            return None
        following = decode(code[offset:], address + offset, {}, 64)
        if following is None or not following.size:
            return None
        offset += following.size
        if following.is_call or "jump" in following.groups:
            if following.target_register in carried:
                return "CallAvTainted"
            if any(a.base in carried for a in following.accesses if a.read and not a.write):
                return "CallAvTainted"
            return None
        if any(a.write and (a.base in carried or a.index in carried) for a in following.accesses):
            return "DestAvTainted"
        if following.mnemonic.startswith("mov") and following.registers and \
                set(following.registers) & carried and following.written:
            carried |= set(following.written) - {"rflags", "rip"}      # the value moves on
        elif set(following.written) & carried:
            carried -= set(following.written)
            if not carried:
                return None
    return None


def _indirect(decoded) -> bool:
    return bool(decoded.registers) or any(a.read for a in decoded.accesses)


def analyze_severity(context: AnalysisContext) -> None:
    rule = casr_class(context)
    if rule is None:
        return
    context.attribute("severity", TIERS[rule])
    context.attribute("severity.rule", rule)
