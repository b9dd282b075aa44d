"""`hydra bt`: gdb's `thread apply all bt` as text, and the machine-readable JSON shape."""

from __future__ import annotations

from hydra.model.crash import (PRINT_ELEMENTS, REPEAT_THRESHOLD, SIGNAL_HANDLER_CALLED, Crash, Frame, Thread,
                               Variable, container_head, only_bases)
from hydra.model.signals import fault_facts
from hydra.model.text import printable


def ordered_threads(crash: Crash, tid: int | None = None) -> list[Thread]:
    threads = [t for t in crash.threads if tid is None or t.tid == tid]
    return sorted(threads, key=lambda t: (not (t.crashed or t.tid == crash.crashed_tid),))


def signal_line(crash: Crash) -> str | None:
    signal = crash.signal
    if signal is None:
        return None
    text = f"Program terminated with signal {printable(signal.name)}"
    if signal.code_name:
        text += f" ({printable(signal.code_name)})"
    for fact in fault_facts(crash):
        text += ", " + printable(fact.replace("at 0x", "fault address 0x", 1) if fact.startswith("at 0x") else fact)
    return text + "."


def _arguments(frame: Frame) -> str:
    return ", ".join(_argument(v) for v in frame.args)


def _argument(var: Variable) -> str:
    """As gdb's `print entry-values default` shows a parameter: `p=V`, `p=p@entry=V` when
    its value at entry is known and the same, `p=V, p@entry=E` when it differs."""
    name, value = printable(var.name), printable(_short(var))
    if var.entry is None:
        return f"{name}={value}"
    if var.entry == var.value:
        return f"{name}={name}@entry={value}"
    return f"{name}={value}, {name}@entry={printable(var.entry)}"


def _short(var: Variable) -> str:
    value = var.value
    return value if len(value) <= 200 else value[:197] + "..."


FULL_VALUE_CHARACTERS = 8000    # of one local in `bt --full`


def full_value(var: Variable) -> str:
    """The whole value as gdb's `bt full` spells it, from the captured tree (a summary
    stops at 100 characters): members and elements in place, runs of equal elements as
    `x <repeats N times>`, pointer targets not followed."""
    text = _full(var, [FULL_VALUE_CHARACTERS])
    return text if len(text) <= FULL_VALUE_CHARACTERS else text[: FULL_VALUE_CHARACTERS - 3] + "..."


def _full(var: Variable, budget: list[int]) -> str:
    inline = [child for child in var.children if child.kind in ("member", "element")]
    head, elements = container_head(var.value)
    target = var.children[0] if var.children and var.children[0].kind == "target" else None
    if target is not None and (var.value == target.value or
                               var.value.startswith("@") and var.value.endswith(": " + target.value)):
        # a reference: what it refers to, whole
        return var.value[: len(var.value) - len(target.value)] + _full(target, budget)
    if not inline or not elements.startswith("{") or budget[0] <= 0:
        budget[0] -= len(var.value)
        return var.value
    budget[0] -= len(head)
    # a printer's children are listed one by one (runs are folded in arrays only), and a
    # map's entry is two of them (key and value)
    children = len(inline) * (2 if "map with " in head else 1)
    return head + _inline(var, inline, budget, repeats=not head, full=bool(head) and children >= PRINT_ELEMENTS)


def _inline(var: Variable, inline: list[Variable], budget: list[int], repeats: bool, full: bool = False) -> str:
    """Members and elements in place; full: a printer's children reached gdb's limit, which
    gdb marks with `...` whether or not more follow."""
    texts = []
    for child in inline:
        if budget[0] <= 0:
            break
        texts.append(_full(child, budget))
    items: list[str] = []
    position = 0
    while position < len(texts):
        child, text = inline[position], texts[position]
        if child.kind == "element":
            run = position + 1
            while repeats and run < len(texts) and inline[run].kind == "element" and texts[run] == text:
                run += 1
            if run - position > REPEAT_THRESHOLD:
                items.append(f"{text} <repeats {run - position} times>")
                position = run
                continue
            items.append(text)
        else:
            items.append(text if child.name == "<anonymous>" else f"{child.name} = {text}")
        position += 1
    if position < len(inline) or var.omitted or full:
        if items and (inline[-1].kind == "element" or not repeats):
            items[-1] += "..."          # gdb: {1, 2, 3...}, and after a printer's children
        else:
            items.append("...")
    elif inline[0].kind == "member" and only_bases(inline):
        items.append("<No data fields>")
    return "{" + ", ".join(items) + "}"


def frame_line(frame: Frame, starts_physical_frame: bool = True) -> str:
    """gdb's spelling; the pc is shown on the innermost frame of each physical frame."""
    parts = [f"#{frame.index:<2}"]          # gdb's `#0  main`, `#10 main`
    if frame.function == SIGNAL_HANDLER_CALLED:
        return f"#{frame.index:<2} {SIGNAL_HANDLER_CALLED}"
    if frame.index and starts_physical_frame:
        parts.append(f"0x{frame.pc:016x} in")
    parts.append(printable(frame.display_name))
    parts.append(f"({_arguments(frame)})")
    if frame.file:
        location = printable(frame.file)
        if frame.line:
            location += f":{frame.line}"
        parts.append(f"at {location}")
    elif frame.module:
        parts.append(f"from {printable(frame.module)}")
    if frame.inline:
        parts.append("[inline]")
    return " ".join(parts)


def analysis_lines(crash: Crash) -> list[str]:
    lines = []
    if crash.classifiers:
        lines.append("Classifiers: " + ", ".join(printable(c.name) for c in crash.classifiers))
    severity = crash.attributes.get("severity")
    if severity:
        lines.append(f"Severity: {printable(severity)} ({printable(crash.attributes.get('severity.rule', ''))})")
    fingerprint = crash.attributes.get("fingerprint")
    if fingerprint:
        partial = " (partial: the core is truncated, frames may be missing)" if crash.truncated else ""
        lines.append(f"Fingerprint: {printable(fingerprint)}  [{printable(crash.attributes.get('fingerprint.frames', ''))}]"
                     f"{partial}")
    for annotation in crash.annotations:
        lines.append(f"  {printable(annotation.severity)}: {printable(annotation.text)} ({printable(annotation.owner)})")
    return lines


def format_text(crash: Crash, full: bool = False, tid: int | None = None) -> str:
    lines: list[str] = []
    heading = signal_line(crash)
    if heading:
        lines += [heading]
    lines += analysis_lines(crash)
    if lines:
        lines.append("")
    for thread in ordered_threads(crash, tid):
        name = f' "{printable(thread.name)}"' if thread.name else ""
        state = " (crashed)" if thread.crashed else ""
        lines.append(f"Thread {thread.tid}{name}{state}:")
        for position, frame in enumerate(thread.frames):
            starts = position == 0 or not thread.frames[position - 1].inline
            lines.append(frame_line(frame, starts))
            if full:
                if not frame.locals and not frame.args and frame.file is None and \
                        frame.function != SIGNAL_HANDLER_CALLED:
                    lines.append("No symbol table info available.")
                elif not frame.locals:
                    lines.append("No locals.")
                for var in frame.locals:
                    lines.append(f"        {printable(var.name)} = {printable(full_value(var))}")
            if thread.elided_after is not None and frame.index == thread.elided_after and thread.elided_frames:
                lines.append(f"... {thread.elided_frames} frames of the same recursion elided ...")
        if thread.unwind_note:
            lines.append(f"({printable(thread.unwind_note)})")
        lines.append("")
    if full and crash.globals:
        lines.append("Globals:")
        for var in crash.globals:
            lines.append(f"        {printable(var.name)} = {printable(full_value(var))}")
        lines.append("")
    return "\n".join(lines)


def variable_json(var: Variable) -> dict:
    out: dict = {"name": var.name, "type": var.type, "value": var.value}
    if var.address is not None:
        out["address"] = var.address
    if var.note:
        out["note"] = var.note
    if var.children:
        out["children"] = [variable_json(child) for child in var.children]
    if var.omitted:
        out["omitted"] = var.omitted
    return out


def frame_json(frame: Frame, full: bool) -> dict:
    out = {
        "index": frame.index, "pc": frame.pc, "function": frame.function, "file": frame.file,
        "line": frame.line, "module": frame.module, "module_offset": frame.module_offset,
        "inline": frame.inline, "trust": frame.trust,
    }
    if frame.cfa is not None:
        out["cfa"] = frame.cfa
    if frame.symbol:
        out["symbol"] = frame.symbol
    if full:
        out["args"] = [variable_json(v) for v in frame.args]
        out["locals"] = [variable_json(v) for v in frame.locals]
    return out


# what the frame fields hold, in the JSON itself: Socorro and rust-minidump users compare
# offsets, and theirs are of another address
JSON_CONVENTIONS = {
    "pc": "a caller frame's pc is its return address; the innermost frame's is where it stopped",
    "module_offset": "pc - the module's base. Breakpad's and rust-minidump's offset of a caller "
                     "frame is of its return address minus the instruction width (1 on x86, 2 on "
                     "32-bit ARM, 4 on arm64): ours is that much higher",
    "function, file, line": "a caller's are looked up at pc - 1 (pc - 2 on 32-bit ARM): inside the call",
    "cfa": "the canonical frame address: the sp of the caller, as unwound (gdb's 'frame at')",
}


def format_json(crash: Crash, full: bool = False, tid: int | None = None) -> dict:
    signal = crash.signal
    return {
        "conventions": JSON_CONVENTIONS,
        "signal": None if signal is None else {
            "number": signal.number, "name": signal.name, "code": signal.code,
            "code_name": signal.code_name, "address": signal.address,
        },
        "crashed_tid": crash.crashed_tid,
        **({"crash_reason": crash.attributes["crash_reason"]} if "crash_reason" in crash.attributes else {}),
        "process": {
            "pid": crash.process.pid, "command_line": crash.process.command_line,
            "executable": crash.process.executable, "architecture": crash.process.architecture,
            "capture_time": crash.process.capture_time,
        },
        "threads": [
            {
                "tid": thread.tid, "name": thread.name, "crashed": thread.crashed, "state": thread.state,
                "frames": [frame_json(frame, full) for frame in thread.frames],
                **({"unwind_note": thread.unwind_note} if thread.unwind_note else {}),
                **({"elided_frames": thread.elided_frames} if thread.elided_frames else {}),
            }
            for thread in ordered_threads(crash, tid)
        ],
        "modules": [
            {"path": m.path, "base": m.base, "size": m.size, "build_id": m.build_id,
             "has_symbols": m.has_symbols, "debug_file": m.debug_file,
             **({"debug_id": m.debug_id} if m.debug_id else {})}
            for m in crash.modules
        ],
        "globals": [variable_json(v) for v in crash.globals],
        "classifiers": [c.name for c in crash.classifiers],
        "classifier_details": {c.name: c.detail for c in crash.classifiers},
        "severity": crash.attributes.get("severity"),
        "fingerprint": {"hash": crash.attributes.get("fingerprint"),
                        "frames": [f for f in crash.attributes.get("fingerprint.frames", "").split(" | ") if f]},
        "annotations": [
            {"text": a.text, "severity": a.severity, "source": a.source, "tid": a.tid, "frame": a.frame,
             "variable": a.variable}
            for a in crash.annotations
        ],
        "attributes": dict(crash.attributes),
        "warnings": list(crash.warnings),
    }
