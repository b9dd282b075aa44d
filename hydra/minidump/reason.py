"""Crash reasons in each OS's own terms, spelled as rust-minidump spells them."""

from __future__ import annotations

from hydra.model.signals import SIGNAL_CODES, signal_name

PLATFORM_WINDOWS = (2, 3)
PLATFORM_MACOS, PLATFORM_IOS = 0x8101, 0x8102
PLATFORM_LINUX, PLATFORM_SOLARIS, PLATFORM_ANDROID = 0x8201, 0x8202, 0x8203
PLATFORM_NAMES = {2: "Windows NT", 3: "Windows NT", 0x8101: "Mac OS X", 0x8102: "iOS",
                  0x8201: "Linux", 0x8202: "Solaris", 0x8203: "Android", 0x8204: "PS3",
                  0x8205: "NaCl", 0x8206: "Fuchsia"}

WINDOWS_CODES = {
    0x80000001: "EXCEPTION_GUARD_PAGE", 0x80000002: "EXCEPTION_DATATYPE_MISALIGNMENT",
    0x80000003: "EXCEPTION_BREAKPOINT", 0x80000004: "EXCEPTION_SINGLE_STEP",
    0xC0000005: "EXCEPTION_ACCESS_VIOLATION", 0xC0000006: "EXCEPTION_IN_PAGE_ERROR",
    0xC0000008: "EXCEPTION_INVALID_HANDLE", 0xC000001D: "EXCEPTION_ILLEGAL_INSTRUCTION",
    0xC0000025: "EXCEPTION_NONCONTINUABLE_EXCEPTION", 0xC0000026: "EXCEPTION_INVALID_DISPOSITION",
    0xC000008C: "EXCEPTION_ARRAY_BOUNDS_EXCEEDED", 0xC000008D: "EXCEPTION_FLT_DENORMAL_OPERAND",
    0xC000008E: "EXCEPTION_FLT_DIVIDE_BY_ZERO", 0xC000008F: "EXCEPTION_FLT_INEXACT_RESULT",
    0xC0000090: "EXCEPTION_FLT_INVALID_OPERATION", 0xC0000091: "EXCEPTION_FLT_OVERFLOW",
    0xC0000092: "EXCEPTION_FLT_STACK_CHECK", 0xC0000093: "EXCEPTION_FLT_UNDERFLOW",
    0xC0000094: "EXCEPTION_INT_DIVIDE_BY_ZERO", 0xC0000095: "EXCEPTION_INT_OVERFLOW",
    0xC0000096: "EXCEPTION_PRIV_INSTRUCTION", 0xC00000FD: "EXCEPTION_STACK_OVERFLOW",
    0xC0000194: "EXCEPTION_POSSIBLE_DEADLOCK", 0xC0000409: "EXCEPTION_STACK_BUFFER_OVERRUN",
    0xC0000374: "EXCEPTION_HEAP_CORRUPTION", 0xC0000420: "EXCEPTION_ASSERTION_FAILURE",
    0x40000015: "STATUS_FATAL_APP_EXIT", 0xE06D7363: "EXCEPTION_CXX",
}
ACCESS_TYPES = {0: "READ", 1: "WRITE", 8: "EXEC"}
FAST_FAIL = {
    0: "LEGACY_GS_VIOLATION", 1: "VTGUARD_CHECK_FAILURE", 2: "STACK_COOKIE_CHECK_FAILURE",
    3: "CORRUPT_LIST_ENTRY", 4: "INCORRECT_STACK", 5: "INVALID_ARG", 6: "GS_COOKIE_INIT",
    7: "FATAL_APP_EXIT", 8: "RANGE_CHECK_FAILURE", 9: "UNSAFE_REGISTRY_ACCESS",
    10: "GUARD_ICALL_CHECK_FAILURE", 11: "GUARD_WRITE_CHECK_FAILURE", 12: "INVALID_FIBER_SWITCH",
    13: "INVALID_SET_OF_CONTEXT", 14: "INVALID_REFERENCE_COUNT", 18: "INVALID_JUMP_BUFFER",
    19: "MRDATA_MODIFIED", 20: "CERTIFICATION_FAILURE", 21: "INVALID_EXCEPTION_CHAIN",
    22: "CRYPTO_LIBRARY", 23: "INVALID_CALL_IN_DLL_CALLOUT", 24: "CFG_INDIRECT_CALL_FAILURE",
    25: "INVALID_IMAGE_BASE", 26: "DLOAD_PROTECTION_FAILURE", 27: "UNSAFE_EXTENSION_CALL",
    28: "DEPRECATED_SERVICE_INVOKED", 29: "INVALID_BUFFER_ACCESS", 30: "INVALID_BALANCED_TREE",
    31: "INVALID_NEXT_THREAD", 32: "GUARD_ICALL_CHECK_SUPPRESSED", 33: "APCS_DISABLED",
    34: "INVALID_IDLE_STATE", 35: "MRDATA_PROTECTION_FAILURE", 36: "UNEXPECTED_HEAP_EXCEPTION",
    37: "INVALID_LOCK_STATE", 38: "GUARD_JUMPTABLE", 39: "INVALID_LONGJUMP_TARGET",
    40: "INVALID_DISPATCH_CONTEXT", 41: "INVALID_THREAD", 42: "INVALID_SYSCALL_NUMBER",
    43: "INVALID_FILE_OPERATION", 44: "LPAC_ACCESS_DENIED", 45: "GUARD_SS_FAILURE",
    46: "LOADER_CONTINUITY_FAILURE", 47: "GUARD_EXPORT_SUPPRESSION_FAILURE",
    48: "INVALID_CONTROL_STACK", 49: "SET_CONTEXT_DENIED", 50: "INVALID_IAT",
    51: "HEAP_METADATA_CORRUPTION", 52: "PAYLOAD_RESTRICTION_VIOLATION", 53: "LOW_LABEL_ACCESS_DENIED",
    54: "ENCLAVE_CALL_FAILURE", 55: "UNHANDLED_LSS_EXCEPTON", 56: "ADMINLESS_ACCESS_DENIED",
    57: "UNEXPECTED_CALL", 58: "CONTROL_INVALID_RETURN_ADDRESS", 59: "UNEXPECTED_HOST_BEHAVIOR",
    60: "FLAGS_CORRUPTION", 61: "VEH_CORRUPTION", 62: "ETW_CORRUPTION", 63: "RIO_ABORT",
    64: "INVALID_PFN", 65: "GUARD_ICALL_CHECK_FAILURE_XFG", 66: "CAST_GUARD",
    67: "HOST_VISIBILITY_CHANGE", 68: "KERNEL_CET_SHADOW_STACK_ASSIST", 69: "PATCH_CALLBACK_FAILED",
    70: "NTDLL_PATCH_FAILED", 71: "INVALID_FLS_DATA",
}

MAC_TYPES = {1: "EXC_BAD_ACCESS", 2: "EXC_BAD_INSTRUCTION", 3: "EXC_ARITHMETIC", 4: "EXC_EMULATION",
             5: "EXC_SOFTWARE", 6: "EXC_BREAKPOINT", 7: "EXC_SYSCALL", 8: "EXC_MACH_SYSCALL",
             9: "EXC_RPC_ALERT", 10: "EXC_CRASH", 11: "EXC_RESOURCE", 12: "EXC_GUARD",
             13: "EXC_CORPSE_NOTIFY"}
MAC_BAD_ACCESS = {1: "KERN_INVALID_ADDRESS", 2: "KERN_PROTECTION_FAILURE", 8: "KERN_NO_ACCESS",
                  9: "KERN_MEMORY_FAILURE", 10: "KERN_MEMORY_ERROR", 50: "KERN_CODESIGN_ERROR",
                  13: "EXC_I386_GPFLT"}
MAC_X86_CODES = {
    "EXC_BAD_INSTRUCTION": {1: "EXC_I386_INVOP"},
    "EXC_ARITHMETIC": {1: "EXC_I386_DIV", 2: "EXC_I386_INTO", 3: "EXC_I386_NOEXT",
                       4: "EXC_I386_EXTOVR", 5: "EXC_I386_EXTERR", 6: "EXC_I386_EMERR",
                       7: "EXC_I386_BOUND", 8: "EXC_I386_SSEEXTERR"},
    "EXC_BREAKPOINT": {1: "EXC_I386_SGL", 2: "EXC_I386_BPT"},
}


_ntstatus: dict[int, str] | None = None


def ntstatus_name(code: int) -> str | None:
    """Windows' name for an NTSTATUS value (ntstatus.txt, read when a dump first needs it)."""
    global _ntstatus
    if _ntstatus is None:
        from importlib.resources import files

        _ntstatus = {}
        for line in files(__package__).joinpath("ntstatus.txt").read_text(encoding="ascii").splitlines():
            value, _, name = line.partition(" ")
            if value.startswith("0x"):
                _ntstatus[int(value, 16)] = name
    return _ntstatus.get(code)


def crash_reason(platform: int, code: int, flags: int, parameters: list[int], cpu_is_x86: bool) -> str:
    if platform in (PLATFORM_LINUX, PLATFORM_ANDROID, PLATFORM_SOLARIS) or platform == 0x8206:
        name = signal_name(code) if 0 < code < 65 else None
        if name is None or name.startswith("SIG") and name[3:].isdigit():
            return f"unknown 0x{code:08x} / 0x{flags:08x}"
        if flags == 0:
            return name
        specific = SIGNAL_CODES.get(name, {}).get(flags)
        generic = {0x80: "SI_KERNEL", 0xFFFFFFFF: "SI_QUEUE", 0xFFFFFFFE: "SI_TIMER",
                   0xFFFFFFFA: "SI_TKILL"}.get(flags)
        return f"{name} / {specific or generic or f'0x{flags:08x}'}"
    if platform in (PLATFORM_MACOS, PLATFORM_IOS):
        name = MAC_TYPES.get(code)
        if name is None:
            return f"unknown 0x{code:08x} / 0x{flags:08x}"
        if name == "EXC_BAD_ACCESS":
            detail = MAC_BAD_ACCESS.get(flags)
        else:
            detail = MAC_X86_CODES.get(name, {}).get(flags) if cpu_is_x86 else None
        return f"{name} / {detail or f'0x{flags:08x}'}"
    if platform in PLATFORM_WINDOWS:
        # the exception codes first, in their EXCEPTION_ spelling, then every NTSTATUS
        name = WINDOWS_CODES.get(code) or ntstatus_name(code)
        if name is None:
            return f"unknown 0x{code:08x} / 0x{flags:08x}" if flags else f"0x{code:08x}"
        if code in (0xC0000005, 0xC0000006) and parameters:
            access = ACCESS_TYPES.get(parameters[0])
            if access is None:
                return name
            if code == 0xC0000006 and len(parameters) >= 3:
                return f"{name}_{access} / 0x{parameters[2]:08x}"
            return f"{name}_{access}"
        if code == 0xC0000409 and parameters:
            fail = FAST_FAIL.get(parameters[0])
            return f"{name} / {'FAST_FAIL_' + fail if fail else f'0x{parameters[0]:x}'}"
        return name
    return f"unknown 0x{code:08x} / 0x{flags:08x}"


def crash_address(platform: int, code: int, address: int, parameters: list[int], pointer_size: int) -> int:
    if platform in PLATFORM_WINDOWS and code in (0xC0000005, 0xC0000006) and len(parameters) >= 2:
        address = parameters[1]
    if pointer_size == 4:
        address &= 0xFFFFFFFF
    return address
