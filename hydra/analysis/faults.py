"""Memory faults and other signals: the faulting instruction, its operand, the class of the
fault (null dereference, invalid address, stack overflow, ...) and its direction."""

from __future__ import annotations


from hydra.analysis.api import AnalysisContext
from hydra.analysis.instruction import decode, is_canonical
from hydra.model.crash import SENT_CODES, Variable
from hydra.model.signals import REASON_CLASSES, SIGNAL_CLASSES

NEAR_NULL = 64 * 1024
_HEX = r"(?:^|\) )(0x[0-9a-f]+)"      # compiled where first used, by re's cache


def signal_class(crash) -> str | None:
    """segv, bus, fpe, ill, trap, abort, sys: for cores' signals and minidumps' reasons alike."""
    signal = crash.signal
    if signal is None:
        return None
    if signal.name in SIGNAL_CLASSES:
        return SIGNAL_CLASSES[signal.name]
    return REASON_CLASSES.get(signal.name)


def sent_by_another(crash) -> bool:
    """The signal came from another process (kill, sigqueue, tgkill), not from a fault or
    from the program itself (abort's raise): no fault to look for."""
    signal = crash.signal
    return signal is not None and signal.sender_pid is not None and signal.code in SENT_CODES and \
        (crash.process is None or signal.sender_pid != crash.process.pid)


def is_kernel_reported(crash) -> bool:
    """The kernel reports a non-canonical access as SI_KERNEL at address 0 (x86-64); Windows
    as a read at all-ones; macOS as EXC_I386_GPFLT: the address must come from the code."""
    signal = crash.signal
    if signal is None:
        return False
    if signal.name in ("SIGSEGV", "SIGBUS") and signal.code == 0x80:
        return True
    if signal.name == "SIGBUS" and signal.code_name == "BUS_ADRALN" and not signal.address:
        return True          # an alignment check: the kernel gives no address either
    if signal.name == "EXCEPTION_ACCESS_VIOLATION_READ" and signal.address == 0xFFFFFFFFFFFFFFFF:
        return True
    return signal.name == "EXC_BAD_ACCESS" and signal.code_name == "EXC_I386_GPFLT"


def _below_a_stack(crash, address: int, sp: int) -> bool:
    """The address is near sp, unmapped or a guard page, and a writable mapping (the stack)
    starts at most 1 MiB above it."""
    if abs(address - sp) > 65536:
        return False
    entry = crash.map_entry_at(address)
    if entry is not None and not entry.perms.startswith("---"):
        return False
    above = [e for e in crash.memory_map if address < e.start <= address + (1 << 20) and "w" in e.perms]
    return bool(above)


def _code_at(context: AnalysisContext, pc: int) -> bytes | None:
    size = 16
    while size:
        code = context.read(pc, size)
        if code:
            return code
        size //= 2
    return None


def pointer_value(var: Variable) -> int | None:
    import re

    match = re.search(_HEX, var.value or "")
    return int(match.group(1), 16) if match else None


def variable_holding(frame, value: int) -> str | None:
    """The path of an argument or local (or a member one level down) whose value is value."""
    for kind, variables in (("args", frame.args), ("locals", frame.locals)):
        for var in variables:
            if "*" in var.type and pointer_value(var) == value:
                return f"{kind}/{var.name}"
            for child in var.children[:64]:
                if "*" in child.type and pointer_value(child) == value:
                    return f"{kind}/{var.name}/{child.name}"
    return None


def analyze_fault(context: AnalysisContext) -> None:
    crash = context.crash
    thread = context.faulting_thread
    kind = signal_class(crash)
    if kind is None or thread is None or not thread.frames:
        return
    if sent_by_another(crash):
        signal = crash.signal
        context.classify("killed", f"{signal.name} sent by pid {signal.sender_pid} (uid {signal.sender_uid})")
        context.annotate(f"{signal.name} was sent by process {signal.sender_pid} (uid {signal.sender_uid}) with "
                         f"{signal.code_name or 'kill'}: not a fault of this program", severity="warning",
                         tid=thread.tid, source="fault")
        return
    frame = thread.frames[0]
    registers = thread.registers
    architecture = crash.process.architecture
    pc = frame.pc
    decoded = None
    if architecture in ("x86_64", "x86") and kind in ("segv", "bus", "fpe", "ill", "trap"):
        code = _code_at(context, pc)
        if kind == "trap" and context.read(pc - 1, 1) == b"\xcc":
            pc, code = pc - 1, b"\xcc"         # int3 reports the address after itself
        if code:
            decoded = decode(code, pc, registers, 64 if architecture == "x86_64" else 32)
    context.instruction = decoded
    if decoded is not None and kind in ("segv", "bus", "fpe", "ill", "trap"):
        context.annotate(f"faulting instruction: {decoded.text}", tid=thread.tid, frame=0, source="fault")

    if kind == "fpe":
        signal = crash.signal
        if (signal.code_name in ("FPE_INTDIV", "FPE_FLTDIV") or "DIVIDE_BY_ZERO" in signal.name
                or (decoded is not None and decoded.is_division)):
            context.classify("divide-by-zero", decoded.text if decoded else signal.name)
    elif kind == "ill":
        context.classify("illegal-instruction", decoded.text if decoded else "")
    elif kind == "trap":
        context.classify("breakpoint", decoded.text if decoded else "")
    elif kind == "bus":
        context.classify("bus-error", crash.signal.code_name or "")
    if kind in ("segv", "bus"):
        _memory_fault(context, thread, decoded)


def _branch_target(context: AnalysisContext, decoded, registers: dict, sp: int | None) -> tuple[int, str] | None:
    """Where a call, jump or return was going, and from where it took it."""
    if "ret" in decoded.groups:
        value = context.read_pointer(sp) if sp is not None else None
        return (value, "the return address on the stack") if value is not None else None
    if decoded.target_register:
        value = registers.get(decoded.target_register)
        return (value, decoded.target_register) if value is not None else None
    operand = next((a for a in decoded.accesses if a.read and not a.write and a.address is not None), None)
    value = context.read_pointer(operand.address) if operand is not None else None
    return (value, f"memory at 0x{operand.address:x}") if value is not None else None


def _wild_branch(context: AnalysisContext, thread, decoded, sp: int | None) -> bool:
    """A call, jump or return to a non-canonical address faults on the branch itself (the
    kernel names no address): the fault is its target, not the stack slot a call would
    have written (CASR's CallAv, SegFaultOnPc)."""
    if decoded is None or not decoded.is_branch or context.pointer_size != 8:
        return False
    found = _branch_target(context, decoded, thread.registers, sp)
    if found is None or is_canonical(found[0]):
        return False
    target, source = found
    kind = "return" if "ret" in decoded.groups else "call" if decoded.is_call else "jump"
    context.notes["fault_address"] = target
    context.notes["direction"] = "exec"
    context.attribute("crash_address.adjusted", f"0x{target:x}")
    context.classify("exec", f"0x{target:x}")
    context.classify("invalid-address", f"non-canonical 0x{target:x}")
    context.annotate(f"the {kind} goes to 0x{target:x}, which is not an address (from {source})",
                     severity="warning", tid=thread.tid, frame=0, source="fault")
    return True


def _memory_fault(context: AnalysisContext, thread, decoded) -> None:
    crash = context.crash
    signal = crash.signal
    frame = thread.frames[0]
    pc = frame.pc
    registers = thread.registers
    sp = registers.get("rsp", registers.get("esp", registers.get("sp")))
    kernel_reported = is_kernel_reported(crash)
    if kernel_reported and _wild_branch(context, thread, decoded, sp):
        return
    address = None if kernel_reported else signal.address
    access = None
    if decoded is not None and decoded.accesses:
        if address is not None:
            access = next((a for a in decoded.accesses if a.address is not None
                           and a.address <= address < a.address + max(a.size, 1)), None)
        if access is None and kernel_reported:
            access = next((a for a in decoded.accesses if a.address is not None and not is_canonical(a.address)), None)
        if access is None and address is None:
            access = decoded.accesses[0]
        if access is None:
            access = decoded.accesses[0] if len(decoded.accesses) == 1 else None
    if address is None and access is not None:
        address = access.address
    if address is not None:
        context.notes["fault_address"] = address
        if kernel_reported:
            context.attribute("crash_address.adjusted", f"0x{address:x}")
            context.annotate(f"the kernel did not say which address: the faulting operand is 0x{address:x}",
                             tid=thread.tid, frame=0, source="fault")

    # direction
    entry_at_pc = crash.map_entry_at(pc)
    executes = (address is not None and address == pc) or signal.name == "EXCEPTION_ACCESS_VIOLATION_EXEC" \
        or (entry_at_pc is not None and "x" not in entry_at_pc.perms) \
        or (entry_at_pc is None and bool(crash.memory_map) and decoded is None)
    if executes:
        direction = "exec"
    elif signal.name.endswith("_WRITE") or (access is not None and access.write):
        direction = "write"
    elif signal.name.endswith("_READ") or (access is not None and access.read):
        direction = "read"
    else:
        direction = None
    if direction:
        context.classify(direction, f"0x{address:x}" if address is not None else "")
        context.notes["direction"] = direction
    if direction == "exec" and entry_at_pc is not None and "x" not in entry_at_pc.perms:
        stack = entry_at_pc.path == "[stack]" or any(
            entry_at_pc.start <= (t.registers.get("rsp") or t.registers.get("sp") or -1) < entry_at_pc.end
            for t in crash.threads)
        if stack or entry_at_pc.path in (None, "", "[heap]"):
            where = "stack" if stack else "heap"
            context.classify(f"exec-from-{where}", f"pc 0x{pc:x} in {entry_at_pc.path or 'anonymous memory'}")

    # stack overflow: in or just below the guard under a stack, or a call that could not push
    overflow = signal.name == "EXCEPTION_STACK_OVERFLOW"
    if not overflow and address is not None and sp is not None:
        overflow = _below_a_stack(crash, address, sp)
        if decoded is not None and (decoded.is_call or decoded.is_push) and address == sp - context.pointer_size:
            overflow = True
    if overflow:
        detail = f"fault at 0x{address:x}, sp 0x{sp:x}" if address is not None and sp is not None else ""
        context.classify("stack-overflow", detail)

    # null or wild pointers
    if not overflow:
        null_base = access is not None and access.base is not None and access.base_value == 0
        if address is not None and not is_canonical(address) and context.pointer_size == 8:
            context.classify("invalid-address", f"non-canonical 0x{address:x}")
        elif (address is not None and address < NEAR_NULL and not kernel_reported) or null_base:
            context.classify("null-dereference", f"0x{address:x}" if address is not None else "")
        elif address is not None and crash.memory_map and crash.map_entry_at(address) is None:
            context.classify("invalid-address", f"0x{address:x} is not mapped")
    if signal.code_name == "SEGV_ACCERR" and address is not None:
        entry = crash.map_entry_at(address)
        if entry is not None:
            context.annotate(f"0x{address:x} is mapped {entry.perms} ({entry.path or 'anonymous'})",
                             tid=thread.tid, frame=0, source="fault")

    # the register that held the bad address, and the variable it came from
    if access is not None and access.base and access.base_value is not None:
        text = f"{access.base} = 0x{access.base_value:x} is the base of the faulting operand"
        if access.base_value == 0:
            text = f"{access.base} is NULL: the faulting operand is {access.base} + 0x{access.displacement:x}"
        # the variable in the faulting frame, else (only named, not tied) one in its callers
        own = variable_holding(frame, access.base_value) if frame.file else None
        variable = own
        if variable is None and access.base_value:
            variable = next(filter(None, (variable_holding(f, access.base_value)
                                          for f in thread.frames[1:4] if f.file)), None)
        if variable:
            text += f"; it holds `{variable.split('/', 1)[1].replace('/', '.')}`"
        context.annotate(text, severity="warning", tid=thread.tid, frame=0, variable=own, source="fault")
