"""Linux signal and si_code names, shared by cores, live captures and minidumps, and the
coarse class of a signal or of a minidump's crash reason."""

SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
    13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
    18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
    23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF",
    28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

GENERIC_CODES = {
    0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -3: "SI_MESGQ",
    -4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL",
}

SIGNAL_CODES = {
    "SIGSEGV": {1: "SEGV_MAPERR", 2: "SEGV_ACCERR", 3: "SEGV_BNDERR", 4: "SEGV_PKUERR",
                5: "SEGV_ACCADI", 6: "SEGV_ADIDERR", 7: "SEGV_ADIPERR", 8: "SEGV_MTEAERR",
                9: "SEGV_MTESERR", 10: "SEGV_CPERR"},
    "SIGBUS": {1: "BUS_ADRALN", 2: "BUS_ADRERR", 3: "BUS_OBJERR", 4: "BUS_MCEERR_AR",
               5: "BUS_MCEERR_AO"},
    "SIGILL": {1: "ILL_ILLOPC", 2: "ILL_ILLOPN", 3: "ILL_ILLADR", 4: "ILL_ILLTRP",
               5: "ILL_PRVOPC", 6: "ILL_PRVREG", 7: "ILL_COPROC", 8: "ILL_BADSTK",
               9: "ILL_BADIADDR"},
    "SIGFPE": {1: "FPE_INTDIV", 2: "FPE_INTOVF", 3: "FPE_FLTDIV", 4: "FPE_FLTOVF",
               5: "FPE_FLTUND", 6: "FPE_FLTRES", 7: "FPE_FLTINV", 8: "FPE_FLTSUB",
               14: "FPE_CONDTRAP"},
    "SIGTRAP": {1: "TRAP_BRKPT", 2: "TRAP_TRACE", 3: "TRAP_BRANCH", 4: "TRAP_HWBKPT",
                5: "TRAP_UNK", 6: "TRAP_PERF"},
    "SIGCHLD": {1: "CLD_EXITED", 2: "CLD_KILLED", 3: "CLD_DUMPED", 4: "CLD_TRAPPED",
                5: "CLD_STOPPED", 6: "CLD_CONTINUED"},
    "SIGSYS": {1: "SYS_SECCOMP"},
}

# Signals whose siginfo carries the faulting address (for kernel-generated codes).
FAULT_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP"}

# The coarse class capture records for every crash, before any analysis.
SIGNAL_CLASSES = {
    "SIGSEGV": "segv", "SIGABRT": "abort", "SIGFPE": "fpe", "SIGILL": "ill",
    "SIGBUS": "bus", "SIGTRAP": "trap", "SIGSYS": "sys",
    # the other signals whose default action dumps core
    "SIGQUIT": "quit", "SIGXCPU": "resource", "SIGXFSZ": "resource",
}

# And for a minidump's Windows or macOS crash reason, keyed by the reason's first word.
REASON_CLASSES = {
    "EXCEPTION_ACCESS_VIOLATION_READ": "segv", "EXCEPTION_ACCESS_VIOLATION_WRITE": "segv",
    "EXCEPTION_ACCESS_VIOLATION_EXEC": "segv", "EXCEPTION_IN_PAGE_ERROR_READ": "bus",
    "EXCEPTION_IN_PAGE_ERROR_WRITE": "bus", "EXCEPTION_IN_PAGE_ERROR_EXEC": "bus",
    "EXCEPTION_STACK_OVERFLOW": "segv", "EXCEPTION_INT_DIVIDE_BY_ZERO": "fpe",
    "EXCEPTION_FLT_DIVIDE_BY_ZERO": "fpe", "EXCEPTION_INT_OVERFLOW": "fpe",
    "EXCEPTION_ILLEGAL_INSTRUCTION": "ill", "EXCEPTION_PRIV_INSTRUCTION": "ill",
    "EXCEPTION_BREAKPOINT": "trap", "EXCEPTION_SINGLE_STEP": "trap",
    "EXCEPTION_STACK_BUFFER_OVERRUN": "abort", "EXCEPTION_HEAP_CORRUPTION": "abort",
    "EXCEPTION_DATATYPE_MISALIGNMENT": "bus",
    "EXC_BAD_ACCESS": "segv", "EXC_BAD_INSTRUCTION": "ill", "EXC_ARITHMETIC": "fpe",
    "EXC_BREAKPOINT": "trap", "EXC_CRASH": "abort", "EXC_GUARD": "abort",
}


def fault_facts(crash) -> list[str]:
    """What a signal row says after the signal's name: where it faulted (the address the
    analysis recovered from the instruction when the kernel gave none) or who sent it."""
    signal = crash.signal
    facts = []
    adjusted = crash.attributes.get("crash_address.adjusted")
    if adjusted:
        facts.append(f"at {adjusted} (from the faulting instruction; the kernel said "
                     f"{'0x%x' % signal.address if signal.address is not None else 'nothing'})")
    elif signal.address is not None:
        facts.append(f"at 0x{signal.address:x}")
    if signal.sender_pid is not None and (crash.process is None or signal.sender_pid != crash.process.pid):
        facts.append(f"sent by pid {signal.sender_pid} (uid {signal.sender_uid})")
    return facts


def signal_message(crash) -> str | None:
    """The words the program left as it died (from the analysis): a failed assertion,
    glibc's abort message, an uncaught exception's type and what()."""
    attributes = crash.attributes
    if attributes.get("assertion"):
        return f"assertion failed: {attributes['assertion']}"
    if attributes.get("exception.type"):
        what = attributes.get("exception.what")
        return f"uncaught {attributes['exception.type']}" + (f": {what}" if what else "")
    if attributes.get("abort_message"):
        return attributes["abort_message"]
    return None


def signal_name(number: int) -> str:
    return SIGNAL_NAMES.get(number, f"SIG{number}")


def code_name(signal: str, code: int | None) -> str | None:
    if code is None:
        return None
    if code > 0 and code < 0x80:
        specific = SIGNAL_CODES.get(signal, {}).get(code)
        if specific:
            return specific
    return GENERIC_CODES.get(code)


def carries_address(signal: str, code: int | None) -> bool:
    return signal in FAULT_SIGNALS and code is not None and (0 < code < 0x80 or code == 0x80)
