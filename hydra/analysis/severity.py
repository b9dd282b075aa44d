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
        return "SourceAv" + suffix
    return "AccessViolation"


def _indirect(decoded) -> bool:
    return bool(decoded.registers) or any(a.read for a in decoded.accesses)


def analyze_severity(context: AnalysisContext) -> None:
    rule = casr_class(context)
    if rule is None:
        return
    context.attribute("severity", TIERS[rule])
    context.attribute("severity.rule", rule)
