"""Runs inside gdb (`gdb -batch -x gdb_dump.py EXE CORE`): prints gdb's view of a core as JSON.

Values are printed as `bt full` prints them: with libstdc++'s pretty-printers, which gdb
loads by default (Hydra spells std::string and std::vector as they do); `raw` is without.
"""

import json

import gdb  # noqa: provided by gdb




def value_text(symbol, frame, raw):
    try:
        value = symbol.value(frame)
        text = value.format_string(raw=raw, pretty_structs=False, max_elements=200)
        if value.type.strip_typedefs().code in (gdb.TYPE_CODE_REF, gdb.TYPE_CODE_RVALUE_REF) and \
                (raw or gdb.default_visualizer(value.referenced_value()) is None):
            # as `bt` and `info locals` print a reference: its address, then what it refers to
            target = value.referenced_value().format_string(raw=raw, pretty_structs=False, max_elements=200)
            text = f"{text}: {target}"
        return text
    except gdb.error as error:
        return f"<error: {error}>"


def frame_info(frame, index, with_values):
    sal = frame.find_sal()
    info = {
        "index": index,
        "pc": frame.pc(),
        "name": frame.name(),
        "file": sal.symtab.filename if sal.symtab else None,
        "line": sal.line if sal.symtab else None,
        "inline": frame.type() == gdb.INLINE_FRAME,
        # gdb rebuilds frames lost to tail calls from DW_TAG_call_site records
        "tailcall": frame.type() == gdb.TAILCALL_FRAME,
        "signal_trampoline": frame.type() == gdb.SIGTRAMP_FRAME,
    }
    try:
        info["sp"] = int(frame.read_register("sp")) & (2 ** 64 - 1)
    except (gdb.error, ValueError):
        info["sp"] = None
    if with_values:
        args, local_vars = [], []
        try:
            block = frame.block()
        except RuntimeError:
            block = None
        seen = set()
        while block is not None:
            for symbol in block:
                if not (symbol.is_argument or symbol.is_variable) or symbol.name in seen:
                    continue
                if symbol.addr_class == gdb.SYMBOL_LOC_STATIC:
                    continue
                seen.add(symbol.name)
                entry = {"name": symbol.name, "value": value_text(symbol, frame, False),
                         "raw": value_text(symbol, frame, True)}
                (args if symbol.is_argument else local_vars).append(entry)
            if block.function is not None:
                break
            block = block.superblock
        info["args"] = args
        info["locals"] = local_vars
    return info


def main():
    gdb.execute("set pagination off")
    gdb.execute("set print frame-arguments all")
    out = {"threads": []}
    selected = gdb.selected_thread()
    out["crashed_tid"] = selected.ptid[1] if selected else None
    try:
        siginfo = gdb.parse_and_eval("$_siginfo")
        out["signal"] = {"number": int(siginfo["si_signo"]), "code": int(siginfo["si_code"])}
        try:
            out["signal"]["address"] = int(siginfo["_sifields"]["_sigfault"]["si_addr"])
        except gdb.error:
            pass
    except gdb.error:
        out["signal"] = None
    for thread in gdb.selected_inferior().threads():
        thread.switch()
        frames = []
        frame = gdb.newest_frame()
        index = 0
        # a deep recursion keeps its inner 3000 and outer 20 frames, like a counted run
        outer = []
        while frame is not None and index < 500000:
            if index < 3000:
                # values in the first frames of every thread: capture decodes them all
                frames.append(frame_info(frame, index, index < 12))
            else:
                outer.append((frame, index))
                outer = outer[-20:]
            try:
                frame = frame.older()
            except gdb.error:
                break
            index += 1
        crashed = thread.ptid[1] == out["crashed_tid"]
        outer = [frame_info(kept, kept_index, crashed) for kept, kept_index in outer]
        out["threads"].append({"tid": thread.ptid[1], "frames": frames + outer, "count": index})
    print("HYDRA-ORACLE " + json.dumps(out))


main()
