"""Crashes a program asks for: assertions, glibc's heap and buffer checks, uncaught C++
exceptions and plain abort(), with the message each left in memory."""

from __future__ import annotations

from hydra.analysis.api import AnalysisContext, base_function_name
from hydra.symbols.demangle import demangle_type

ASSERT_FRAMES = ("__assert_fail", "__assert_fail_base", "__assert_perror_fail", "__assert")
HEAP_FRAMES = ("malloc_printerr", "__malloc_assert", "_int_free", "_int_malloc", "malloc_consolidate",
               "_int_realloc", "unlink_chunk", "munmap_chunk")
THROW_FRAMES = ("__cxa_throw", "__cxa_rethrow", "_Unwind_Resume", "std::rethrow_exception")
TERMINATE_FRAMES = ("std::terminate", "__gnu_cxx::__verbose_terminate_handler", "__cxxabiv1::__terminate",
                    "std::__terminate")
# compiled where first used, by re's cache: most crashes are no assertion, and need no re
ASSERT_MESSAGE = (r"^(?:(?P<program>.*?): )?(?P<file>[^:\n]+):(?P<line>\d+): (?P<function>.*?): "
                  r"Assertion [`'](?P<expression>.*)' failed\.?")
# glibc's messages: a chunk freed twice, a pointer malloc never returned, and a heap
# overwritten around a chunk (its neighbours' headers damaged: an overflow, not a second free)
HEAP_CORRUPTION = ("double free or corruption (out)", "double free or corruption (!prev)",
                   "free(): invalid next size", "corrupted size vs. prev_size", "corrupted double-linked list",
                   "malloc(): corrupted top size", "malloc(): invalid size", "malloc(): unsorted double linked list")
DOUBLE_FREE = ("free(): double free detected in tcache", "double free or corruption (fasttop)",
               "double free or corruption")
INVALID_FREE = ("free(): invalid pointer", "munmap_chunk(): invalid pointer", "free(): invalid size",
                "realloc(): invalid pointer")
# Rust's handler for a guard page hit: it prints "has overflowed its stack" and aborts
RUST_OVERFLOW_HANDLER = "stack_overflow::imp::signal_handler"
EXCEPTION_HEADER = 0x70      # sizeof(__cxa_exception) before the thrown object (x86-64 libstdc++)


def abort_message(context: AnalysisContext) -> str | None:
    """glibc keeps the text it prints before aborting in __abort_msg: {u32 size; char msg[]}."""
    address = context.symbol_address("__abort_msg")
    if address is None:
        return None
    pointer = context.read_pointer(address)
    if not pointer:
        return None
    text = context.read_string(pointer + 4, 4096)
    return text.strip() if text else None


def analyze_aborts(context: AnalysisContext) -> None:
    thread = context.faulting_thread
    if thread is None:
        return
    names = [base_function_name(f.function) for f in thread.frames]
    crash = context.crash
    aborted = "abort" in names or (crash.signal is not None and crash.signal.name in ("SIGABRT",))
    message = abort_message(context) if aborted else None
    if message:
        context.attribute("abort_message", message)

    assert_frame = next((f for f in thread.frames if base_function_name(f.function) in ASSERT_FRAMES), None)
    overflow = next((f for f in thread.frames if RUST_OVERFLOW_HANDLER in (f.function or "")), None)
    if overflow is not None or (message and "has overflowed its stack" in message):
        # the fault that ran the handler may be anywhere (inside malloc): it is the stack
        context.classify("stack-overflow", message or "Rust's stack overflow handler")
        context.annotate("the thread overflowed its stack (Rust's guard page handler aborted)", severity="error",
                         tid=thread.tid, frame=overflow.index if overflow is not None else None, source="abort")
    elif assert_frame is not None or (message and _assert_match(message)):
        _assertion(context, thread, assert_frame, message)
    elif any(n in HEAP_FRAMES for n in names) or (message and _is_heap_message(message)):
        _heap(context, thread, message)
    elif "__stack_chk_fail" in names or (message and "stack smashing detected" in message):
        context.classify("stack-smashing", message or "__stack_chk_fail")
    elif "__chk_fail" in names or (message and "buffer overflow detected" in message):
        frame = next((f for f in thread.frames if (f.function or "").endswith("_chk") and f.function != "__chk_fail"), None)
        context.classify("fortify", f"{message or 'buffer overflow detected'}"
                         + (f" in {base_function_name(frame.function)}" if frame else ""))
    if any(n in THROW_FRAMES for n in names) and any(n in TERMINATE_FRAMES for n in names):
        _uncaught_exception(context, thread)
    if aborted:
        context.classify("abort", message or "")
        if message and not any(message in a.text for a in crash.annotations):   # not told already
            context.annotate(f"abort message: {message}", severity="error", tid=thread.tid, source="abort")


def _assert_match(message: str):
    import re

    return re.search(ASSERT_MESSAGE, message)


def _is_heap_message(message: str) -> bool:
    return any(word in message for word in ("free(", "malloc(", "malloc_consolidate", "double free",
                                             "corrupted", "realloc(", "munmap_chunk", "memalign", "tcache"))


def _assertion(context: AnalysisContext, thread, assert_frame, message: str | None) -> None:
    match = _assert_match(message or "")
    details = None
    if match:
        details = {k: match[k] for k in ("expression", "file", "line", "function")}
    elif assert_frame is not None:
        args = {v.name: v for v in assert_frame.args}
        if "assertion" in args:
            details = {"expression": _string_value(args["assertion"].value),
                       "file": _string_value(args["file"].value) if "file" in args else "?",
                       "line": args["line"].value if "line" in args else "?",
                       "function": _string_value(args["function"].value) if "function" in args else "?"}
    caller = None
    if assert_frame is not None:
        position = thread.frames.index(assert_frame)
        caller = next((f for f in thread.frames[position + 1:] if base_function_name(f.function) not in ASSERT_FRAMES), None)
    if details:
        text = f"assertion failed: {details['expression']} ({details['function']} at {details['file']}:{details['line']})"
        context.classify("assert", details["expression"])
        context.attribute("assertion", text[len("assertion failed: "):])
    else:
        text = "assertion failed"
        context.classify("assert", "")
    context.annotate(text, severity="error", tid=thread.tid,
                     frame=caller.index if caller is not None else None, source="abort")


def _string_value(value: str) -> str:
    """gdb's `0x4005d4 "text"` -> text."""
    import re

    match = re.search(r'"(.*)"', value or "")
    return match.group(1) if match else value


def _heap(context: AnalysisContext, thread, message: str | None) -> None:
    text = message or "glibc's malloc found its heap damaged"
    if message and any(m in message for m in HEAP_CORRUPTION):
        context.classify("heap-corruption", message)
    elif message and any(m in message for m in DOUBLE_FREE):
        context.classify("double-free", message)
    elif message and any(m in message for m in INVALID_FREE):
        context.classify("invalid-free", message)
    else:
        context.classify("heap-corruption", message or "")
    caller = next((f for f in thread.frames if f.file and not base_function_name(f.function).startswith(("_int_", "malloc", "__libc"))
                   and base_function_name(f.function) not in ("free", "abort", "raise", "__pthread_kill_implementation",
                                                              "__pthread_kill_internal", "pthread_kill", "__libc_free")
                   and not (f.module or "").split("/")[-1].startswith("libc.")), None)
    context.annotate(f"heap error: {text}", severity="error", tid=thread.tid,
                     frame=caller.index if caller is not None else None, source="abort")


def _uncaught_exception(context: AnalysisContext, thread) -> None:
    found = _find_exception_object(context, thread)
    if found is None:
        context.classify("uncaught-exception", "")
        context.annotate("a C++ exception was thrown and not caught", severity="error", tid=thread.tid, source="abort")
        return
    type_name, what = found
    detail = type_name + (f": {what}" if what else "")
    context.classify("uncaught-exception", detail)
    context.attribute("exception.type", type_name)
    if what is not None:
        context.attribute("exception.what", what)
    throws = [i for i, f in enumerate(thread.frames) if base_function_name(f.function) in THROW_FRAMES]
    thrower = thread.frames[throws[-1] + 1] if throws and throws[-1] + 1 < len(thread.frames) else None
    context.annotate(f"uncaught {type_name}" + (f": what() = {what!r}" if what is not None else ""),
                     severity="error", tid=thread.tid, frame=thrower.index if thrower else None, source="abort")


def _find_exception_object(context: AnalysisContext, thread) -> tuple[str, str | None] | None:
    """The thrown object sits right after libstdc++'s __cxa_exception header, whose first
    field is the std::type_info. Candidates are the values in registers and on the stack
    near the throw; the first whose header names a demanglable type wins."""
    import re

    if context.pointer_size != 8:
        return None
    candidates: list[int] = []
    for frame in thread.frames[:16]:
        candidates += [v for k, v in frame.registers.items() if not k.startswith(("xmm", "rip", "rsp", "cs", "ss"))]
    sp = thread.registers.get("rsp")
    if sp is not None:
        for offset in range(0, 4096, 8):
            value = context.read_pointer(sp + offset)
            if value is not None:
                candidates.append(value)
    seen: set[int] = set()
    for value in candidates:
        if value in seen or value < 0x10000 or value % 8:
            continue
        seen.add(value)
        entry = context.mapped(value)
        if entry is None or not entry.perms.startswith("rw"):
            continue
        type_info = context.read_pointer(value - EXCEPTION_HEADER)
        if not type_info:
            continue
        name_pointer = context.read_pointer(type_info + 8)
        if not name_pointer:
            continue
        mangled = context.read_string(name_pointer, 512)
        if not mangled or not re.fullmatch(r"\*?[A-Za-z0-9_]+", mangled):
            continue
        type_name = demangle_type(mangled)
        if not type_name:
            continue
        return type_name, _what(context, value)
    return None


def _what(context: AnalysisContext, obj: int) -> str | None:
    """std::runtime_error and std::logic_error (and their subclasses) keep their message in a
    reference-counted string right after the vtable pointer."""
    text_pointer = context.read_pointer(obj + 8)
    if not text_pointer:
        return None
    text = context.read_string(text_pointer, 4096)
    if text is None or any(ord(c) < 9 for c in text):
        return None
    return text
