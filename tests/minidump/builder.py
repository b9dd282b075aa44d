"""Minidumps made to order, for inputs no real writer produces (broken and hostile ones)."""

from __future__ import annotations

import struct

THREAD_LIST, MODULE_LIST, MEMORY_LIST, EXCEPTION, SYSTEM_INFO, THREAD_NAMES = 3, 4, 5, 6, 7, 24

STACK = 0x7FFF0000
CODE = 0x400000


def amd64_context(rip: int, rsp: int, rbp: int = 0, size: int = 1232) -> bytes:
    raw = bytearray(max(size, 256))
    struct.pack_into("<I", raw, 48, 0x10000F)
    struct.pack_into("<QQQ", raw, 120 + 8 * 4, rsp, rbp, 0)   # rsp, rbp, rsi
    struct.pack_into("<Q", raw, 248, rip)
    return bytes(raw[:size])


def utf16(text: str) -> bytes:
    encoded = text.encode("utf-16-le")
    return struct.pack("<I", len(encoded)) + encoded + b"\0\0"


class Builder:
    """Streams are laid out after the directory; locations are fixed up as they are placed."""

    def __init__(self):
        self.blobs = bytearray()
        self.streams: list[tuple[int, int, int]] = []     # (type, rva, size)
        self.base = 0

    def place(self, data: bytes) -> int:
        rva = self.base + len(self.blobs)
        self.blobs += data
        while len(self.blobs) % 8:
            self.blobs += b"\0"
        return rva

    def stream(self, kind: int, data: bytes) -> None:
        self.streams.append((kind, self.place(data), len(data)))

    def build(self, directory_count: int | None = None, directory_rva: int | None = None) -> bytes:
        count = len(self.streams)
        directory = b"".join(struct.pack("<III", k, size, rva) for k, rva, size in self.streams)
        header = struct.pack("<4sIIIIIQ", b"MDMP", 0xA793, count if directory_count is None else directory_count,
                             32 if directory_rva is None else directory_rva, 0, 1700000000, 0)
        return header + directory + bytes(self.blobs)


BUILD_ID = "f1c3bcc0279865fe3058404b2831d9e64135386c"


def linux_crash(thread_name: str = "worker", context_size: int = 1232, thread_count: int | None = None,
                module: str = "/usr/bin/app", build_id: str = BUILD_ID, module_size: int = 0x10000,
                return_addresses: tuple[int, ...] = (CODE + 0x1234,), copies: int = 1,
                assertion: tuple[str, str, str, int] | None = None) -> bytes:
    """One amd64 Linux thread that faulted at 0x10 in a module, with 4 KiB of stack holding
    return addresses for the scan."""
    builder = Builder()
    builder.base = 32 + 12 * (7 if assertion else 6)     # header and the directory entries
    stack = bytearray(4096)
    for index, address in enumerate(return_addresses[:500]):
        struct.pack_into("<Q", stack, 64 + 8 * index, address)
    stack_rva = builder.place(bytes(stack))
    context_rva = builder.place(amd64_context(CODE + 0x100, STACK, STACK + 0x800, context_size))
    name_rva = builder.place(utf16(module))
    cv_rva = builder.place(struct.pack("<I", 0x4270454C) + bytes.fromhex(build_id))
    thread_name_rva = builder.place(utf16(thread_name))
    system = struct.pack("<HHHBBIIIIIHH", 9, 6, 0x4601, 4, 1, 0, 0, 0, 0x8201, 0, 0, 0) + bytes(24)
    builder.stream(SYSTEM_INFO, system)
    thread = struct.pack("<IIIIQQII II", 42, 0, 0, 0, 0, STACK, 4096, stack_rva, context_size, context_rva)
    count = copies if thread_count is None else thread_count
    builder.stream(THREAD_LIST, struct.pack("<I", count) + thread * copies)
    builder.stream(THREAD_NAMES, struct.pack("<I", 1) + struct.pack("<IQ", 42, thread_name_rva))
    module = struct.pack("<QIIII", CODE, module_size, 0, 0, name_rva) + bytes(52) + struct.pack("<II", 24, cv_rva) + bytes(24)
    builder.stream(MODULE_LIST, struct.pack("<I", 1) + module)
    builder.stream(MEMORY_LIST, struct.pack("<I", 1) + struct.pack("<QII", STACK, 4096, stack_rva))
    exception = struct.pack("<IIIIQQII", 42, 0, 11, 1, 0, 0x10, 0, 0) + bytes(15 * 8) + struct.pack("<II", context_size, context_rva)
    builder.stream(EXCEPTION, exception)
    if assertion:
        texts = b"".join(text.encode("utf-16-le")[:254].ljust(256, b"\0") for text in assertion[:3])
        builder.stream(0x47670002, texts + struct.pack("<II", assertion[3], 1))
    return builder.build()


def arm64_context(pc: int, sp: int, fp: int, lr: int) -> bytes:
    raw = bytearray(912)
    struct.pack_into("<II", raw, 0, 0x400000 | 0x7, 0)
    struct.pack_into("<Q", raw, 8 + 8 * 29, fp)
    struct.pack_into("<Q", raw, 8 + 8 * 30, lr)
    struct.pack_into("<QQ", raw, 256, sp, pc)
    return bytes(raw)


def one_thread_dump(stack: bytes, context: bytes, system: tuple, tid: int = 42, signal: int = 11,
                    code: int = 1, address: int = 0x10) -> bytes:
    """A dump of one Linux thread whose `stack` starts at STACK, running `context`, in a
    module named app at CODE; `system`: SystemInfo's (architecture, level, revision,
    processors, product type) and the platform."""
    builder = Builder()
    builder.base = 32 + 12 * 5
    stack_rva = builder.place(stack)
    context_rva = builder.place(context)
    name_rva = builder.place(utf16("/usr/bin/app"))
    cv_rva = builder.place(struct.pack("<I", 0x4270454C) + bytes.fromhex(BUILD_ID))
    architecture, level, revision, processors, product, platform = system
    builder.stream(SYSTEM_INFO, struct.pack("<HHHBBIIIIIHH", architecture, level, revision, processors, product,
                                            0, 0, 0, platform, 0, 0, 0) + bytes(24))
    thread = struct.pack("<IIIIQQII II", tid, 0, 0, 0, 0, STACK, len(stack), stack_rva, len(context), context_rva)
    builder.stream(THREAD_LIST, struct.pack("<I", 1) + thread)
    module = struct.pack("<QIIII", CODE, 0x10000, 0, 0, name_rva) + bytes(52) + struct.pack("<II", 24, cv_rva) + bytes(24)
    builder.stream(MODULE_LIST, struct.pack("<I", 1) + module)
    builder.stream(MEMORY_LIST, struct.pack("<I", 1) + struct.pack("<QII", STACK, len(stack), stack_rva))
    exception = struct.pack("<IIIIQQII", tid, 0, signal, code, 0, address, 0, 0) + bytes(15 * 8) + \
        struct.pack("<II", len(context), context_rva)
    builder.stream(EXCEPTION, exception)
    return builder.build()


def _stack(words: dict[int, int], form: str) -> bytes:
    stack = bytearray(4096)
    for offset, value in words.items():
        struct.pack_into(form, stack, offset, value)
    return bytes(stack)


def linux_arm64_crash(scanned: dict[int, int] | None = None) -> bytes:
    """An arm64 Linux thread three calls deep, its callers reachable only through x29/x30;
    `scanned`: more stack words (offset -> value), for a scan past the last record."""
    words = {
        # frame record of caller 1; its return address carries pointer-authentication bits
        0x100: STACK + 0x200, 0x108: (0x2A5B << 48) | (CODE + 0x300),
        0x200: 0, 0x208: 0,                                             # the outermost record
        **(scanned or {}),
    }
    return one_thread_dump(_stack(words, "<Q"), arm64_context(CODE + 0x100, STACK, STACK + 0x100, CODE + 0x200),
                           (12, 0, 0, 8, 1, 0x8203), tid=7, signal=7, code=2, address=0xdead)


def macos_arm64_crash(words: dict[int, int], pc: int, lr: int) -> bytes:
    """An arm64 macOS thread built without frame pointers (x29 is 0): its callers are found
    by CFI and by scanning `words` (offset -> value) of an 8 KB stack."""
    stack = bytearray(8192)
    for offset, value in words.items():
        struct.pack_into("<Q", stack, offset, value)
    return one_thread_dump(bytes(stack), arm64_context(pc, STACK, 0, lr), (12, 0, 0, 8, 1, 0x8101),
                           tid=775, signal=1, code=1, address=0x45)


def x86_context(eip: int, esp: int, ebp: int = 0) -> bytes:
    raw = bytearray(716)
    struct.pack_into("<I", raw, 0, 0x10007)
    # gs fs es ds edi esi ebx edx ecx eax ebp eip cs eflags esp ss, from offset 140
    struct.pack_into("<16I", raw, 140, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ebp, eip, 0x23, 0x202, esp, 0x2B)
    return bytes(raw)


def linux_x86_crash(stack_words: dict[int, int], eip: int, esp_offset: int = 0, ebp: int = 0) -> bytes:
    """One x86 Linux thread faulting at `eip`, its 4 KiB stack holding `stack_words`
    (offset from the stack's start -> 32-bit value), in a module named app at CODE."""
    return one_thread_dump(_stack(stack_words, "<I"), x86_context(eip, STACK + esp_offset, ebp),
                           (0, 6, 0x4601, 1, 1, 0x8201))


def arm_context(pc: int, sp: int, lr: int = 0, cpsr: int = 0x20) -> bytes:
    """32-bit ARM (cpsr's T bit set: Thumb state)."""
    raw = bytearray(368)
    struct.pack_into("<I", raw, 0, 0x40000002)
    struct.pack_into("<III", raw, 4 + 13 * 4, sp, lr, pc)
    struct.pack_into("<I", raw, 4 + 16 * 4, cpsr)
    return bytes(raw)


def linux_arm_crash(stack_words: dict[int, int], pc: int) -> bytes:
    """One 32-bit ARM Linux thread at `pc`, sp at the start of its 4 KiB stack."""
    return one_thread_dump(_stack(stack_words, "<I"), arm_context(pc, STACK), (5, 7, 0, 1, 1, 0x8201))
