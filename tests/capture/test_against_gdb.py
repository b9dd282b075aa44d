"""Capture compared with gdb on the same cores: threads, frames, signal, values."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capture.compare import located_frames, missing_frames  # noqa: E402
from oracle.gdb import gdb_view  # noqa: E402

CASES = [
    ("null_deref.c", "-O0"), ("null_deref.c", "-O2"),
    ("assert_fail.c", "-O0"), ("assert_fail.c", "-O2"),
    ("exception.cpp", "-O0"), ("exception.cpp", "-O2"),
    ("threads_many.c", "-O0"),
    ("inline_chain.c", "-O2"),
    ("wild_call.c", "-O0"),
    ("stack_overflow.c", "-O0"),
    ("signal_handler.c", "-O0"), ("signal_handler.c", "-O2"),
    ("go_panic.go", "-O0"), ("go_panic.go", "-O2"),
]

_views: dict = {}


def crashed_threads(program, crash):
    """gdb's crashed thread and Hydra's, for the same core."""
    oracle = view(program)
    return (next(t for t in oracle["threads"] if t["tid"] == oracle["crashed_tid"]),
            crash.thread(oracle["crashed_tid"]))


def view(program):
    if program.core not in _views:
        _views[program.core] = gdb_view(program.exe, program.core)
    return _views[program.core]


@pytest.mark.parametrize("source,opt", CASES)
def test_signal_and_crashed_thread_match_gdb(crashed, capture, source, opt):
    program = crashed(source, opt)
    crash = capture(program)
    oracle = view(program)
    assert crash.crashed_tid == oracle["crashed_tid"]
    assert crash.signal.number == oracle["signal"]["number"]
    assert crash.signal.code == oracle["signal"]["code"]
    if crash.signal.name in ("SIGSEGV", "SIGBUS"):
        assert crash.signal.address == oracle["signal"]["address"]
    assert {t.tid for t in crash.threads} == {t["tid"] for t in oracle["threads"]}


@pytest.mark.parametrize("source,opt", CASES)
def test_every_located_gdb_frame_appears_in_order(crashed, capture, source, opt):
    program = crashed(source, opt)
    crash = capture(program)
    oracle = view(program)
    problems = {}
    for gdb_thread in oracle["threads"]:
        if gdb_thread["count"] > 3000:
            continue  # the deep recursion: compared in its own test
        thread = crash.thread(gdb_thread["tid"])
        missing = missing_frames(thread, gdb_thread)
        if missing:
            problems[gdb_thread["tid"]] = missing
    assert not problems


@pytest.mark.parametrize("source,opt", CASES)
def test_frame_counts_stay_sane(crashed, capture, source, opt):
    program = crashed(source, opt)
    crash = capture(program)
    oracle = view(program)
    for gdb_thread in oracle["threads"]:
        thread = crash.thread(gdb_thread["tid"])
        # Hydra goes past main into the C runtime (a few frames); never much further, but
        # through a signal frame gdb does not know (Go's) into the code it interrupted
        frames = thread.frames
        known = sum(1 for f in gdb_thread["frames"] if f["signal_trampoline"])
        trampolines = [position for position, f in enumerate(frames) if f.function == "<signal handler called>"]
        if len(trampolines) > known:
            frames = frames[: trampolines[known]]
        if gdb_thread["count"] < 3000:
            assert len(frames) <= len(gdb_thread["frames"]) + 6, thread.tid


def _scalar(value: str) -> bool:
    return not value.startswith("{") and "<error" not in value and "reference" not in value


@pytest.mark.parametrize("source", ["null_deref.c", "assert_fail.c", "threads_many.c", "wild_call.c",
                                    "scalar_types.c"])
def test_crashing_frame_values_match_gdb_at_O0(crashed, capture, source):
    program = crashed(source, "-O0")
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    compared = 0
    for gdb_frame in located_frames(gdb_thread):
        if "args" not in gdb_frame or not gdb_frame["file"].endswith(Path(program.source).name):
            continue
        frame = next(f for f in thread.frames if f.line == gdb_frame["line"] and f.file
                     and f.file.endswith(gdb_frame["file"]))
        ours = {v.name: v.value for v in frame.args}
        assert [v.name for v in frame.args] == [a["name"] for a in gdb_frame["args"]]
        for arg in gdb_frame["args"]:
            if _scalar(arg["value"]):
                assert ours[arg["name"]] == arg["value"], (frame.function, arg["name"])
                compared += 1
        ours = {v.name: v.value for v in frame.locals}
        for local in gdb_frame["locals"]:
            assert local["name"] in ours, (frame.function, local["name"])
            if _scalar(local["value"]):
                assert ours[local["name"]] == local["value"], (frame.function, local["name"])
                compared += 1
    assert compared >= 2


def test_null_dereference_is_read_in_lookup_price(crashed, capture):
    crash = capture(crashed("null_deref.c", "-O0"))
    frame = crash.crashed_thread.frames[0]
    assert frame.function == "lookup_price"
    assert frame.trust == "context"
    assert [v.name for v in frame.args] == ["c", "idx"]
    catalog = frame.args[0]
    assert catalog.type == "const struct catalog *"
    target = catalog.children[0]
    assert target.path_child("title").value.endswith('"fruit"')
    assert crash.memory.read(catalog.children[0].address, 4) is not None


def test_cpp_names_are_qualified_like_gdb(crashed, capture):
    crash = capture(crashed("exception.cpp", "-O2"))
    names = [f.function for f in crash.crashed_thread.frames]
    assert "shop::WorkQueue<shop::Order>::pop" in names
    assert "std::terminate" in names
    assert not any(n and n.startswith("_Z") for n in names)


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_deep_recursion_is_bounded_and_says_so(crashed, capture, opt):
    program = crashed("stack_overflow.c", opt)
    crash = capture(program)
    thread = crash.crashed_thread
    gdb_thread = view(program)["threads"][0]
    # the outermost frames keep gdb's numbers (inline frames counted) across the elided
    # middle, and the values gdb shows there: the first frames after the gap hold
    # registers carried over the jump, not their own
    ours = {f.index: f for f in thread.frames}
    compared = 0
    for outer in gdb_thread["frames"][3000:]:
        frame = ours.get(outer["index"])
        if frame is None or not outer["file"]:
            continue
        assert (frame.function, frame.line) == (outer["name"], outer["line"]), outer
        values = {v.name: v.value for v in frame.args + frame.locals}
        for entry in outer.get("args", []) + outer.get("locals", []):
            if _scalar(entry["value"]) and entry["name"] in values and "<optimized out>" not in entry["value"]:
                assert values[entry["name"]] == entry["value"], (outer["index"], entry)
                compared += 1
    assert compared >= 2
    assert thread.elided_frames > 10000
    assert thread.frames[0].function in ("__vsnprintf_internal", "descend") or thread.frames[0].file
    assert sum(1 for f in thread.frames if f.function == "descend") > 500
    assert len(thread.frames) <= 20000
    assert thread.unwind_note


@pytest.mark.parametrize("debug", ["-g", "-g0"])
@pytest.mark.parametrize("args", [(), ("wild",)], ids=["abort", "wild-call"])
def test_calls_that_never_return_are_named_like_gdb(crashed, capture, debug, args):
    # each call is its function's last instruction (the next function follows at once):
    # the return address is already in the next function, the call is not
    program = crashed("noreturn_calls.c", "-O2", ("-falign-functions=1", "-fno-reorder-functions", debug), args)
    crash = capture(program)
    gdb_thread = next(t for t in view(program)["threads"] if t["tid"] == crash.crashed_tid)
    ours = {f.pc: f for f in crash.crashed_thread.frames if not f.inline}
    compared = set()
    for theirs in gdb_thread["frames"]:
        if theirs["name"] in ("give_up", "jump_wild", "main") and not theirs["inline"]:
            frame = ours.get(theirs["pc"])
            assert frame is not None and frame.function == theirs["name"], theirs
            assert frame.line == theirs["line"], theirs
            compared.add(theirs["name"])
    assert compared & {"give_up", "jump_wild"}
    # the fingerprint is made of those names too
    assert crash.attributes["fingerprint.frames"].split(" | ")[0] in ("give_up", "jump_wild")


def test_wild_call_keeps_the_caller(crashed, capture):
    crash = capture(crashed("wild_call.c", "-O0"))
    names = [f.function for f in crash.crashed_thread.frames]
    assert "dispatch" in names and "main" in names


@pytest.mark.parametrize("target", ["0xffffffffffffffff", "0xfffffffffffffff0"])
def test_wild_call_near_the_top_of_the_address_space(crashed, capture, target):
    program = crashed("wild_call.c", "-O0", args=(target,))
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    assert thread.frames[0].pc == int(target, 16) == gdb_thread["frames"][0]["pc"]
    assert not missing_frames(thread, gdb_thread)
    assert [f.function for f in thread.frames[1:3]] == ["dispatch", "main"]
    assert crash.memory.read(thread.frames[0].pc, 1) is None       # no code there, none made up


def _leaves(variable, prefix=""):
    """`name = value` of every member that gdb prints inline (pointer targets are not)."""
    members = [c for c in variable.children if c.kind != "target"]
    if not members:
        yield variable.name, variable.value
        return
    for child in members:
        yield from _leaves(child)


@pytest.mark.parametrize("dwarf", ["-gdwarf-5", "-gdwarf-4"])
def test_cpp_references_and_base_classes_match_gdb(crashed, capture, dwarf):
    from hydra.report.backtrace import full_value

    program = crashed("cxx_values.cpp", "-O0", (dwarf,))
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    seen = {}
    for gdb_frame in located_frames(gdb_thread):
        if "args" not in gdb_frame or not gdb_frame["file"].endswith("cxx_values.cpp"):
            continue
        frame = next(f for f in thread.frames if f.line == gdb_frame["line"] and f.file.endswith("cxx_values.cpp"))
        ours = {v.name: v for v in frame.args + frame.locals}
        for entry in gdb_frame["args"] + gdb_frame["locals"]:
            name, theirs = entry["name"], entry["raw"]
            if name == "this":
                continue
            variable = ours[name]
            seen[name] = variable
            if name in ("title", "sizes"):
                # std::string and std::vector as libstdc++'s printers show them, and gdb by default
                assert full_value(variable) == entry["value"], (name, variable.value, entry["value"])
                continue
            if name == "member":
                # drgn does not read pointers to members: read again from the snapshot's types
                assert theirs == "&Point::y" and variable.value == theirs, (variable.value, theirs)
                assert variable.type == "int Point::*"
                continue
            if not theirs.startswith(("@", "{", "<")) and _scalar(theirs):
                assert variable.value == theirs, (name, variable.value, theirs)
            if theirs.startswith("@"):
                # a reference: gdb's `@address: value`, with the value in full for a number
                assert "&" in variable.type or variable.type == "IntRef", (name, variable.type)
                address, _, value = theirs.partition(": ")
                assert variable.value.startswith(address + ": "), (name, variable.value, theirs)
                if value.lstrip("-").isdigit():
                    assert variable.value == theirs
            if "{" in theirs:
                for member, value in _leaves(variable.children[0] if theirs.startswith("@") else variable):
                    if not member.startswith("<") and value and not value.startswith(("{", "<")):
                        shown = value if member.startswith("[") else f"{member} = {value}"
                        assert shown in theirs, (name, member, value, theirs)
    assert {"scale", "alias", "corner", "temporary", "shape", "factor", "title", "sizes", "square",
            "row", "named", "member", "raw", "dup"} <= set(seen)
    assert seen["temporary"].type == "int &&" and seen["scale"].type == "int &"
    assert seen["row"].type == "int (&)[3]" and seen["named"].type == "IntRef"
    # base classes are members named as gdb names them
    assert [c.name for c in seen["square"].children[:2]] == ["<Shape>", "<Named>"]
    # a vector's members are found through its base class
    assert seen["sizes"].value.startswith("std::vector of length ") and seen["sizes"].children


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_signal_handler_frames_are_numbered_and_named_like_gdb(crashed, capture, opt):
    from hydra.model.crash import SIGNAL_HANDLER_CALLED

    program = crashed("signal_handler.c", opt)
    crash = capture(program)
    gdb_thread, _thread = crashed_threads(program, crash)
    trampolines = [f["index"] for f in gdb_thread["frames"] if f["signal_trampoline"]]
    ours = [f.index for f in crash.crashed_thread.frames if f.function == SIGNAL_HANDLER_CALLED]
    assert trampolines and ours == trampolines


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_split_dwarf_frames_and_arguments_match_gdb(crashed, capture, opt):
    # the functions are in .dwo files; the binary holds skeleton units only
    program = crashed("null_deref.c", opt, ("-gsplit-dwarf",))
    assert list(Path(program.exe).parent.glob("*.dwo"))
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    assert not missing_frames(thread, gdb_thread)
    top = located_frames(gdb_thread)[0]
    frame = next(f for f in thread.frames if f.line == top["line"])
    assert [v.name for v in frame.args] == [a["name"] for a in top["args"]]
    assert frame.args


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_rust_frames_are_named_and_inlined_like_gdb(crashed, capture, opt):
    # functions nested in namespace DIEs (rs::main::{closure#0}), the standard library's
    # inlined into each other
    program = crashed("rust_panic.rs", opt)
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    assert not missing_frames(thread, gdb_thread)
    names = [f.function for f in thread.frames]
    assert "rust_panic::report" in names or any(n and n.startswith("rust_panic::report") for n in names)
    assert not any(n and (n.startswith(("_R", "_ZN")) or "$u7b$" in n) for n in names), names


def _matching_frames(program, crash, source: str):
    """(gdb's frame, Hydra's) for each frame of the crashed thread in source whose values gdb
    lists, matched by line and function."""
    gdb_thread, thread = crashed_threads(program, crash)
    for gdb_frame in located_frames(gdb_thread):
        if "args" not in gdb_frame or not gdb_frame["file"].endswith(source):
            continue
        frame = next((f for f in thread.frames if f.line == gdb_frame["line"] and f.function == gdb_frame["name"]),
                     None)
        if frame is not None:
            yield gdb_frame, frame


@pytest.mark.parametrize("source", ["null_deref.c", "classes.c", "hostile.c", "fingerprint.c", "scalar_types.c"])
def test_bt_full_values_are_gdbs_values_whole(crashed, capture, source):
    # `bt full` prints each local whole (structs, arrays with repeats, pointers with the
    # symbol they point at); a summary stops at 100 characters
    from hydra.report.backtrace import full_value

    program = crashed(source, "-O0")
    crash = capture(program)
    compared = 0
    for gdb_frame, frame in _matching_frames(program, crash, source):
        ours = {v.name: v for v in frame.args + frame.locals}
        for entry in gdb_frame["args"] + gdb_frame["locals"]:
            if entry["name"] in ours and "<error" not in entry["value"]:
                assert full_value(ours[entry["name"]]) == entry["value"], (frame.function, entry["name"])
                compared += 1
    assert compared >= 3


def test_library_types_read_as_gdbs_printers_show_them(crashed, capture):
    from hydra.report.backtrace import full_value

    program = crashed("cxx_containers.cpp", "-O0")
    crash = capture(program)
    compared, printed = set(), False
    for gdb_frame, frame in _matching_frames(program, crash, "cxx_containers.cpp"):
        ours = {v.name: v for v in frame.args + frame.locals}
        for entry in gdb_frame["args"] + gdb_frame["locals"]:
            assert full_value(ours[entry["name"]]) == entry["value"], (entry["name"], ours[entry["name"]].value)
            compared.add(entry["name"])
            printed |= entry["value"] != entry["raw"]
    assert printed                                             # gdb's printers were loaded
    assert compared == {"name", "counts", "empty", "small", "heap", "runs", "nul", "longer", "none",
                        "zeros", "items", "words", "grid", "owned", "nothing", "block", "shared", "again",
                        "weak", "unset", "names", "by_name", "no_entries", "primes", "twice", "hashed",
                        "bag", "no_hashes", "chain", "no_links", "maybe", "nope", "queue", "letters",
                        "octets", "ends_in_nul", "wide", "many", "custom", "view", "boxed", "exactly",
                        "hundred", "couple", "couples", "wide_word", "wide_mixed", "wide_run", "utf16",
                        "utf32", "wide_string", "string16", "wide_pointer"}


def test_past_a_smashed_return_address_the_stack_is_scanned(crashed, capture):
    # copy_name's return address is 'AAAAAAAA': the frame after it is found again by
    # scanning the stack for a return address (the C runtime's call of main)
    program = crashed("smashed_stack.c", "-O0", extra=("-fno-stack-protector",))
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    assert not missing_frames(thread, gdb_thread)
    assert thread.frames[0].function == "copy_name"
    assert thread.frames[1].pc == 0x4141414141414141 and thread.frames[1].display_name == "??"
    assert thread.frames[2].trust == "scan" and thread.frames[2].function == "__libc_start_call_main"
    assert thread.unwind_note is None


def test_a_thread_returning_from_clone3_unwinds_to_main(tmp_path):
    # gdb stops the parent where clone3 returns and writes a core there (every mapping in
    # it: coredump_filter 0x7f, which the program inherits)
    import subprocess

    from conftest import PROGRAMS, compile_program
    from hydra.capture.engine import capture_core
    from oracle.gdb import ensure_gdb

    exe = compile_program(PROGRAMS / "clone_parent.c", tmp_path / "clone_parent", ["-O0"])
    core = tmp_path / "clone_parent.core"
    script = (f"echo 0x7f > /proc/$$/coredump_filter; exec {ensure_gdb()} -batch -nx -ex 'catch syscall clone3' "
              f"-ex run -ex continue -ex 'gcore {core}' -ex kill {exe}")
    subprocess.run(["sh", "-c", script], capture_output=True, timeout=120)
    if not core.exists():
        pytest.skip("this glibc creates threads without clone3")
    crash = capture_core(str(core))
    oracle = gdb_view(str(exe), str(core))
    gdb_thread = next(t for t in oracle["threads"] if t["tid"] == oracle["crashed_tid"])
    thread = crash.thread(oracle["crashed_tid"])
    assert "clone3" in thread.frames[0].function
    assert not missing_frames(thread, gdb_thread)
    assert any(f.function == "main" for f in thread.frames)


def _entry_arguments(line: str) -> dict[str, str]:
    """name -> value of the arguments gdb's `bt` shows with @entry, from a frame's line."""
    arguments = line[line.find("(") + 1: line.rfind(")") + 1] if "(" in line else ""
    found = {}
    for match in re.finditer(r"(\w+)=\1@entry=(-?\w+)|(\w+)@entry=(-?\w+)", arguments):
        name = match.group(1) or match.group(3)
        found[name] = match.group(2) or match.group(4)
    return found


@pytest.mark.parametrize("source", ["assert_fail.c", "null_deref.c"])
def test_entry_values_are_gdbs(crashed, capture, source):
    # optimized code keeps parameters only where they arrived: their values at entry come
    # from the caller's call site (`signo=signo@entry=6`, `no_tid=no_tid@entry=0`)
    import subprocess

    from hydra.report.backtrace import format_text
    from oracle.gdb import ensure_gdb

    program = crashed(source, "-O2")
    crash = capture(program)
    text = subprocess.run([ensure_gdb(), "-batch", "-nx", "-ex", "thread apply all bt", program.exe, program.core],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "LC_ALL": "C"}).stdout
    ours = format_text(crash)
    compared = 0
    for line in text.splitlines():
        frame = re.match(r"#(\d+) +(?:0x[0-9a-f]+ in )?(\S+) \(", line)
        if not frame or "@entry" not in line:
            continue
        theirs = _entry_arguments(line)
        same_frames = [l for l in ours.splitlines()
                       if re.match(rf"#\d+ +(0x[0-9a-f]+ in )?{re.escape(frame.group(2))} \((?!\))", l)]
        if not same_frames:
            continue        # named otherwise, or without arguments (a frame rebuilt from a tail call)
        assert theirs in [_entry_arguments(l) for l in same_frames], (line, same_frames)
        compared += len(theirs)
    assert compared >= 3


@pytest.mark.parametrize("source,opt", CASES)
def test_every_gdb_frame_appears_in_order_with_its_stack_pointer(crashed, capture, source, opt):
    """All of gdb's frames, with a line or not (the C runtime's, a stripped library's, the
    outermost one): each pc appears in order among Hydra's frames, with gdb's sp; and a
    frame's CFA is its caller's sp."""
    program = crashed(source, opt)
    crash = capture(program)
    oracle = view(program)
    problems = {}
    for gdb_thread in oracle["threads"]:
        if gdb_thread["count"] > 3000:
            continue  # the deep recursion: compared in its own test
        thread = crash.thread(gdb_thread["tid"])
        ours = [(f.pc, f.sp) for f in thread.frames]
        position, missing = 0, []
        for expected in gdb_thread["frames"]:
            if expected["tailcall"]:
                continue   # no stack of its own: compared through its function in the test above
            if expected["pc"] < 0x1000:
                continue   # gdb unwinding past Go's outermost frame into junk (0x7, 0x0)
            for index in range(position, len(ours)):
                if ours[index][0] == expected["pc"]:
                    if expected["sp"] is not None and ours[index][1] != expected["sp"]:
                        missing.append(f"#{expected['index']} {expected['name']} sp {ours[index][1]:#x} "
                                       f"against gdb's {expected['sp']:#x}")
                    position = index + 1
                    break
            else:
                missing.append(f"#{expected['index']} {expected['name']} pc {expected['pc']:#x}")
        frames = thread.frames
        for index, inner in enumerate(frames):
            # the caller: past the inline frames of the same function, and past frames
            # rebuilt from call sites, which have no stack of their own
            concrete = next((j for j in range(index, len(frames)) if not frames[j].inline), None)
            caller = next((j for j in range(concrete + 1, len(frames)) if frames[j].trust != "tailcall"),
                          None) if concrete is not None else None
            if inner.cfa is not None and caller is not None and frames[caller].sp != inner.cfa:
                missing.append(f"#{inner.index} cfa {inner.cfa:#x} but its caller's sp is {frames[caller].sp:#x}")
        if missing:
            problems[gdb_thread["tid"]] = missing
    assert not problems


@pytest.mark.parametrize("source", ["threads_many.c", "null_deref.c", "threads201.c"])
def test_every_threads_values_match_gdb_at_O0(crashed, capture, source):
    """Arguments and locals of every thread, not only the crashed one."""
    program = crashed(source, "-O0")
    crash = capture(program)
    oracle = view(program)
    compared = set()
    for gdb_thread in oracle["threads"]:
        thread = crash.thread(gdb_thread["tid"])
        position = 0
        for gdb_frame in located_frames(gdb_thread):
            if "args" not in gdb_frame or not gdb_frame["file"].endswith(Path(program.source).name):
                continue
            # in order: a recursion's frames share their pc and line
            position = next(index for index in range(position, len(thread.frames))
                            if thread.frames[index].pc == gdb_frame["pc"]
                            and thread.frames[index].line == gdb_frame["line"]) + 1
            frame = thread.frames[position - 1]
            ours = {v.name: v.value for v in frame.args + frame.locals}
            for value in gdb_frame["args"] + gdb_frame["locals"]:
                assert value["name"] in ours, (thread.tid, frame.function, value["name"])
                if _scalar(value["value"]):
                    assert ours[value["name"]] == value["value"], (thread.tid, frame.function, value["name"])
                    compared.add(thread.tid)
    # values were compared on threads other than the crashed one
    assert compared - {crash.crashed_tid}


def test_a_line_zero_row_takes_the_line_before_it_as_gdb_does(crashed, capture):
    """clang -O2 merges the two branches' calls into one whose row has line 0: gdb leaves
    such rows out and gives main the line of the row before (the branch's condition)."""
    program = crashed("line_zero.c", "-O2", extra=("CC=clang",))
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    assert not missing_frames(thread, gdb_thread)
    condition = next(number for number, text in enumerate(Path(program.source).read_text().splitlines(), 1)
                     if "if (argc > 3)" in text)
    main = next(frame for frame in thread.frames if frame.function == "main")
    assert main.line == condition


@pytest.mark.parametrize("source,opt", CASES)
def test_tail_call_frames_have_gdbs_arguments(crashed, capture, source, opt):
    """A frame put back from a tail call (`__pthread_kill_internal` in glibc's abort) shows
    the arguments gdb shows: values at entry from the call sites that led in, the rest
    <optimized out>."""
    program = crashed(source, opt)
    crash = capture(program)
    compared, differing = 0, []
    for gdb_thread in view(program)["threads"]:
        thread = crash.thread(gdb_thread["tid"])
        for expected in gdb_thread["frames"]:
            if not expected["tailcall"] or "args" not in expected:
                continue
            ours = next((f for f in thread.frames if f.pc == expected["pc"] and f.trust == "tailcall"), None)
            if ours is None:
                continue      # the frame itself is compared in the tests above
            compared += 1
            want = [(arg["name"], arg["value"]) for arg in expected["args"]]
            got = [(arg.name, arg.value) for arg in ours.args]
            if got != want:
                differing.append(f"#{expected['index']} {expected['name']}: {got} against gdb's {want}")
    assert not differing
    if source.startswith(("assert_fail", "exception")):
        assert compared, "glibc's abort path has a tail-call frame"


def test_pointers_to_members_are_gdbs(crashed, capture):
    """drgn reads no pointer to member: Hydra reads them again from the snapshot's types and
    memory, a variable of that type as well as a member inside another value."""
    from hydra.report.backtrace import full_value

    program = crashed("member_pointers.cpp", "-O0")
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    gdb_main = next(f for f in gdb_thread["frames"] if f["name"] == "main")
    main = next(f for f in thread.frames if f.function == "main")
    theirs = {entry["name"]: entry["raw"] for entry in gdb_main["locals"]}
    ours = {v.name: v for v in main.locals}
    assert full_value(ours["field"]) == theirs["field"] == "&Shape::height"
    assert full_value(ours["method"]) == theirs["method"] and "<Shape::area() const>" in theirs["method"]
    unused = re.search(r"_M_unused = (\{[^}]*\})", theirs["twice"])[1]
    assert f"_M_unused = {unused}" in full_value(ours["twice"]) and "NULL" in unused


def test_pointers_to_members_are_gdbs_in_every_thread_and_in_the_snapshot(crashed, capture):
    """With enough threads that capture hands the last ones to a forked copy, the values
    drgn cannot read are read again in those threads too, and the snapshot keeps them."""
    from hydra.capture.parallel import MIN_THREADS
    from hydra.report.backtrace import full_value
    from hydra.snapshot.format import read_snapshot, snapshot_bytes

    program = crashed("member_pointers_threads.cpp", "-O0")
    crash = capture(program)
    assert len(crash.threads) > MIN_THREADS

    def fields(crash) -> dict:
        return {(thread.tid, frame.function, variable.kind): full_value(variable)
                for thread in crash.threads for frame in thread.frames
                for variable in frame.args + frame.locals if variable.name == "field"}

    theirs = {(t["tid"], f["name"], kind): entry["raw"] for t in view(program)["threads"] for f in t["frames"]
              for kind, entries in (("arg", f.get("args", [])), ("local", f.get("locals", [])))
              for entry in entries if entry["name"] == "field"}
    ours = fields(crash)
    assert len(theirs) == 160 and ours == theirs
    assert fields(read_snapshot(program.core + ".hsnap", snapshot_bytes(crash))) == theirs


def _gdb_frame_values(program, indices) -> dict[int, dict[str, list[tuple[str, str]]]]:
    """gdb's `info args` and `info locals` in each frame: {index: {"args": [(name, value)],
    "locals": [...]}}, in gdb's order."""
    import subprocess

    from oracle.gdb import ensure_gdb

    commands = []
    for index in indices:
        commands += ["-ex", f"frame {index}", "-ex", "echo ARGS\\n", "-ex", "info args",
                     "-ex", "echo LOCALS\\n", "-ex", "info locals"]
    text = subprocess.run([ensure_gdb(), "-batch", "-nx", *commands, program.exe, program.core],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "LC_ALL": "C"}).stdout
    values: dict[int, dict[str, list[tuple[str, str]]]] = {}
    current, group = None, None
    for line in text.splitlines():
        match = re.match(r"#(\d+) ", line)
        if match:
            current, group = values.setdefault(int(match[1]), {"args": [], "locals": []}), None
        elif line in ("ARGS", "LOCALS"):
            group = "args" if line == "ARGS" else "locals"
        elif current is not None and group and " = " in line and not line.startswith(" "):
            name, _, value = line.partition(" = ")
            current[group].append((name, value))
    return values


def test_pointers_to_members_in_registers_are_gdbs(crashed, capture):
    """At -O2 the pointers to members are arguments held in registers, a method's in two
    pieces: read again from the frame's registers, they are gdb's."""
    program = crashed("member_pointers_held.cpp", "-O2")
    crash = capture(program)
    gdb_thread, thread = crashed_threads(program, crash)
    theirs, ours = gdb_thread["frames"][0], thread.frames[0]
    assert theirs["name"] == ours.function == "use"
    expected = {entry["name"]: entry["raw"] for entry in theirs["args"]}
    assert {v.name: v.value for v in ours.args} == expected
    assert expected["field"] == "&Shape::height" and "<Shape::area() const>" in expected["method"]


def test_rust_locals_are_gdbs(crashed, capture):
    """drgn finds no scope in a Rust function: the variables DWARF places on the frame are
    read from the snapshot's types and memory, spelled as gdb spells Rust values."""
    program = crashed("rust_panic.rs", "-O0")
    crash = capture(program)
    thread = crash.crashed_thread
    wanted = [f for f in thread.frames if not f.inline and f.locals and f.function and
              (f.function.startswith("rust_panic::") or "fold" in f.function)]
    values = _gdb_frame_values(program, [frame.index for frame in wanted])
    compared, differing = set(), []
    for frame in wanted:
        theirs = values[frame.index]
        assert [v.name for v in frame.args] == [name for name, _ in theirs["args"]], frame.function
        assert [v.name for v in frame.locals] == [name for name, _ in theirs["locals"]], frame.function
        for variable, (_, expected) in zip(frame.args + frame.locals, theirs["args"] + theirs["locals"]):
            compared.add(variable.name)
            if variable.value != expected:
                differing.append((frame.index, variable.name, variable.value, expected))
    assert not differing
    assert {"slots", "inventory", "slot", "len", "acc"} <= compared, compared


def test_rust_enums_are_gdbs(crashed, capture):
    """Enums (a variant part in DWARF) print as their variant, as gdb prints them:
    `core::option::Option<u32>::Some(1)`, `Option<u32>::None`."""
    program = crashed("rust_enums.rs", "-O0")
    crash = capture(program)
    frame = next(f for f in crash.crashed_thread.frames if f.function == "rust_enums::area")
    theirs = _gdb_frame_values(program, [frame.index])[frame.index]
    assert [(v.name, v.value) for v in frame.args] == theirs["args"]
    assert [(v.name, v.value) for v in frame.locals] == theirs["locals"]
    assert ("scale", "core::option::Option<u32>::Some(1)") in theirs["args"]
    assert ("extra", "core::option::Option<u32>::None") in theirs["locals"]


CALLER_SAVED = ("rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11")


def test_cargo_release_values_are_gdbs(crashed, capture):
    """A two-crate cargo program built --release with debug info and panic=abort: its
    values live in registers and pieces (`DW_OP_reg3`, `DW_OP_reg13, DW_OP_piece 8`). Each
    user frame lists gdb's arguments and locals in gdb's order with gdb's values; where
    Hydra says <optimized out> and gdb prints a value, gdb's value is a register the frame
    could not keep (a caller-saved one, which gdb takes from the innermost frame)."""
    program = crashed("rust_workspace", "-O3")
    crash = capture(program)
    thread = crash.crashed_thread
    innermost = thread.frames[0].registers
    stale = {innermost[name] for name in CALLER_SAVED if name in innermost}
    user = [f for f in thread.frames if f.function and f.function.startswith(("ledger::", "rustcrash::"))]
    assert {f.function for f in user} >= {"ledger::ledger_apply", "rustcrash::replay", "rustcrash::main"}
    values = _gdb_frame_values(program, [frame.index for frame in user])
    compared, differing = [], []
    for ours in user:
        theirs = values[ours.index]
        assert [v.name for v in ours.args] == [name for name, _ in theirs["args"]], ours.function
        assert [v.name for v in ours.locals] == [name for name, _ in theirs["locals"]], ours.function
        for variable, (_, expected) in zip(ours.args + ours.locals, theirs["args"] + theirs["locals"]):
            # gdb calls the bytes past a value's last piece a synthetic pointer
            wanted = expected.replace("<synthetic pointer>", "<optimized out>")
            if variable.value == wanted:
                compared.append((ours.function, variable.name))
            elif variable.value == "<optimized out>":
                unlabelled = re.sub(r"<[^<>]*>", "", wanted)          # 0x7f... <f+268>: the number
                numbers = [int(n, 0) for n in re.findall(r"\b(?:0x[0-9a-f]+|\d+)\b", unlabelled)]
                assert numbers and set(numbers) <= stale, (ours.function, variable.name, wanted)
            else:
                differing.append((ours.function, variable.name, variable.value, wanted))
    assert not differing
    # which registers rustc picks depends on its version: values equal to gdb's in both
    # user functions, as rustc 1.95 gives them in rbx, r14, a piece and memory
    assert {function for function, _ in compared} >= {"rustcrash::replay", "rustcrash::main"}, compared
    assert len(compared) >= 4, compared


# -- frames put back from tail calls, in every shape tests/programs/tail_calls.c makes

TAIL_CALLS = [(way, cc) for way in ("leaf", "library", "nowhere") for cc in ("gcc", "clang")]


def _frame_arguments(line: str) -> list[tuple[str, str]]:
    """(name, value) of each argument in a bt line: `f (a=1, b=b@entry=0x0) at …`."""
    inside = line.split(" in ", 1)[-1].split(" (", 1)[1].rsplit(") at ", 1)[0]
    return [tuple(part.split("=", 1)) for part in re.split(r", (?=\w+=)", inside) if "=" in part]


def _frame_named(thread, name: str):
    return next((f for f in thread.frames if f.function == name), None)


@pytest.mark.parametrize("way,cc", TAIL_CALLS)
def test_a_tail_calls_frame_is_put_back_between_its_caller_and_what_it_jumped_to(crashed, capture, way, cc):
    """Whichever way the jump goes (to a function of the same file, into another library,
    to an address outside all code), the function that made it is a `tailcall` frame
    between what it jumped to and main, at an address of its own code, on its line; and
    every tail-call frame gdb shows is one of Hydra's, with its pc and arguments."""
    import subprocess

    program = crashed("tail_calls.c", "-O2", extra=(f"CC={cc}",), args=(way,))
    crash = capture(program)
    thread = crash.crashed_thread
    names = [f.function for f in thread.frames]
    jumper, target = {"leaf": ("middle", "leaf"), "library": ("release", None),
                      "nowhere": ("call_handler", None)}[way]
    source_lines = Path(program.source).read_text().splitlines()
    if way == "library" and cc == "clang":
        # clang describes no call to a function it only declares (free): there is no chain
        assert jumper not in names
    else:
        frame = _frame_named(thread, jumper)
        assert frame is not None and frame.trust == "tailcall", names
        main = _frame_named(thread, "main")
        position = thread.frames.index(frame)
        assert thread.frames.index(main) == position + 1, names
        if target is not None:
            assert names[position - 1] == target
        if way == "nowhere":
            assert position == 1 and thread.frames[0].pc == 0x10 and thread.frames[0].function is None
            # the jump's registers are the faulting frame's, and a constant is a constant:
            # the address it jumped to, as the -O0 build's own frame shows it
            assert [(arg.name, arg.value) for arg in frame.args] == [("handler", "0x10")]
        assert jumper in source_lines[frame.line - 1], (frame.line, source_lines[frame.line - 1])
        symbols = subprocess.run(["nm", program.exe], capture_output=True, text=True).stdout.splitlines()
        starts = sorted(int(line.split()[0], 16) for line in symbols
                        if len(line.split()) == 3 and line.split()[2].split(".")[0] == jumper)
        assert starts and any(start <= frame.module_offset < start + 0x100 for start in starts), \
            (hex(frame.module_offset), [hex(s) for s in starts])
    theirs = [f for t in view(program)["threads"] for f in t["frames"] if f["tailcall"]]
    for expected in theirs:
        ours = next((f for f in thread.frames if f.pc == expected["pc"] and f.trust == "tailcall"), None)
        assert ours is not None and ours.function == expected["name"], (expected, names)
    # as gdb's bt prints them (`release (o=o@entry=0x…)`), but for a parameter kept in a
    # register: gdb reads it from the frame below, which may have overwritten it since the
    # jump; Hydra says <optimized out> (README: where Hydra differs from gdb)
    from hydra.report.backtrace import format_text
    from oracle.gdb import ensure_gdb

    text = subprocess.run([ensure_gdb(), "-batch", "-nx", "-ex", "bt", program.exe, program.core],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "LC_ALL": "C"}).stdout
    ours_text = format_text(crash)
    for expected in theirs:
        line = next(l for l in text.splitlines() if re.match(rf"#\d+ +0x0*{expected['pc']:x} in ", l))
        mine = next(l for l in ours_text.splitlines() if re.match(rf"#\d+ +0x0*{expected['pc']:x} in ", l))
        gdb_args = _frame_arguments(line)
        our_args = _frame_arguments(mine)
        assert [name for name, _ in gdb_args] == [name for name, _ in our_args], (line, mine)
        for (name, theirs_value), (_, ours_value) in zip(gdb_args, our_args):
            assert ours_value in (theirs_value, "<optimized out>"), (line, mine)
    if way == "library" and cc == "gcc":
        assert any(f["name"] == "release" for f in theirs), "gdb puts release back too"
