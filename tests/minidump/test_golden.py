"""Unwinding and symbols against the upstream projects' own expected results.

Oracles: Breakpad's golden files for minidump2 (compared byte for byte by Breakpad's tests),
Sentry's symbolic snapshots (Breakpad-based processor), and the inline chain Breakpad's
resolver tests assert for linux_inline. Hydra differs from Breakpad on purpose in one way:
a caller frame's `pc` is its return address (as Breakpad prints) but its symbol is looked up
at pc - 1, and `module_offset` is pc - module base.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hydra.minidump.opener import open_minidump
from tests.minidump.conftest import symbol_folder

FOUND_BY = {"given as instruction pointer in context": "context", "call frame info": "cfi",
            "previous frame's frame pointer": "frame_pointer", "stack scanning": "scan"}
SENTRY_TRUST = {"Context": "context", "CFI": "cfi", "FP": "frame_pointer", "Scan": "scan"}


def physical(thread):
    return [f for f in thread.frames if not f.inline]


def golden_frames(text: str) -> list[dict]:
    """Thread 0's frames in minidump_stackwalk's human output."""
    body = text.replace("\r", "").split("Thread 0 (crashed)\n", 1)[1].split("\n\n", 1)[0]
    frames: list[dict] = []
    for line in body.splitlines():
        head = re.match(r"^\s*(\d+)\s+(\S+?)!(.+?)(?: \[(.+) : (\d+) \+ 0x[0-9a-f]+\]| \+ (0x[0-9a-f]+))?$", line)
        if head:
            frames.append({"module": head[2], "function": head[3], "file": head[4],
                           "line": int(head[5]) if head[5] else None,
                           "function_offset": int(head[6], 16) if head[6] else None, "registers": {}})
            continue
        for name, value in re.findall(r"(\w+) = (0x[0-9a-f]+)", line):
            frames[-1]["registers"][name] = int(value, 16)
        if "Found by:" in line:
            frames[-1]["trust"] = FOUND_BY[line.split("Found by: ", 1)[1]]
    return frames


def test_minidump2_matches_breakpads_golden_output(dumps):
    crash = open_minidump(str(dumps / "breakpad/minidump2.dmp"), [str(dumps / "breakpad/symbols")])
    golden = golden_frames((dumps / "breakpad/minidump2.stackwalk.out").read_text())
    thread = crash.crashed_thread
    assert thread.tid == 3060 and thread.crashed
    assert len(thread.frames) == len(golden) == 4
    for frame, expected in zip(thread.frames, golden):
        assert frame.module.replace("\\", "/").rsplit("/", 1)[-1] == expected["module"]
        assert frame.function == expected["function"]
        assert (frame.file.replace("\\", "/").rsplit("/", 1)[-1] if frame.file else None) == expected["file"]
        assert frame.line == expected["line"]
        assert frame.trust == expected["trust"]
        for name, value in expected["registers"].items():
            register = "rflags" if name == "efl" else name
            assert frame.registers.get("eflags" if name == "efl" else register) == value, name
        if expected["function_offset"] is not None:
            assert frame.symbol_offset == expected["function_offset"]
    assert crash.attributes["crash_reason"] == "EXCEPTION_ACCESS_VIOLATION_WRITE"
    assert crash.signal.address == 0x45
    assert crash.attributes["os"] == "Windows NT"
    assert crash.attributes["os_version"] == "5.1.2600 Service Pack 2"
    assert crash.attributes["cpu_info"] == "GenuineIntel family 6 model 13 stepping 8"
    assert crash.process.capture_time == 1171480435


def test_minidump2_modules_match_the_machine_readable_output(dumps):
    crash = open_minidump(str(dumps / "breakpad/minidump2.dmp"), [str(dumps / "breakpad/symbols")])
    rows = [line.split("|") for line in (dumps / "breakpad/minidump2.stackwalk.machine_readable.out")
            .read_text().replace("\r", "").splitlines() if line.startswith("Module|")]
    ours = {m.path.replace("\\", "/").rsplit("/", 1)[-1]: m for m in crash.modules}
    assert len(rows) == len(crash.modules) == 13
    for _, name, _version, debug_file, debug_id, base, end, main in rows:
        module = ours[name]
        assert module.debug_file.replace("\\", "/").rsplit("/", 1)[-1] == debug_file
        assert module.debug_id == debug_id
        assert module.base == int(base, 16) and module.base + module.size - 1 == int(end, 16)
        assert (crash.modules[0] is module) == (main == "1")
        assert module.has_symbols == (name in ("test_app.exe", "kernel32.dll"))
    missing = crash.attributes["_missing_symbols"]
    assert "ntdll.pdb (36515FB5D04345E491F672FA2E2878C02)" in missing
    assert "test_app" not in missing and "kernel32" not in missing


def test_32bit_crash_address_is_masked(dumps):
    crash = open_minidump(str(dumps / "breakpad/minidump_32bit_crash_addr.dmp"), [])
    assert crash.attributes["crash_reason"] == "EXCEPTION_ACCESS_VIOLATION_WRITE"
    assert crash.signal.address == 0x45


def sentry_trusts(dumps: Path, snapshot: str) -> list[str]:
    text = (dumps / "symbolic/expected" / snapshot).read_text()
    first_thread = text.split("CallStack {", 2)[1]
    return [SENTRY_TRUST[t] for t in re.findall(r"trust: (\w+)", first_thread)]


def cfi_only(tmp_path: Path, dumps: Path) -> Path:
    """The fixtures' .sym files reduced to their STACK records, as Sentry's CFI tests use them."""
    layout = {str(p.relative_to(dumps / "symbolic/symbols")): p
              for p in (dumps / "symbolic/symbols").glob("*/*/*.sym")}
    return symbol_folder(tmp_path, layout, keep=lambda line: line.startswith(("STACK", "MODULE")))


@pytest.mark.parametrize("dump, snapshot, with_cfi, reason", [
    ("fixtures/linux/mini.dmp", "test_processor__process_state_linux.snap", False, "SIGSEGV"),
    ("fixtures/linux/mini.dmp", "test_processor__process_state_linux_cfi.snap", True, "SIGSEGV"),
    ("fixtures/macos/mini.dmp", "test_processor__process_state_macos.snap", False,
     "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS"),
    ("fixtures/windows/mini.dmp", "test_processor__process_state_windows.snap", False,
     "EXCEPTION_ACCESS_VIOLATION_WRITE"),
])
def test_sentry_fixtures_give_the_expected_frames_and_trust(dumps, tmp_path, dump, snapshot, with_cfi, reason):
    symbols = [str(cfi_only(tmp_path, dumps))] if with_cfi else []
    crash = open_minidump(str(dumps / "symbolic" / dump), symbols)
    assert [f.trust for f in physical(crash.crashed_thread)] == sentry_trusts(dumps, snapshot)
    assert crash.attributes["crash_reason"] == reason
    assert crash.signal.address == 69


def test_sentry_windows_fixture_threads(dumps):
    crash = open_minidump(str(dumps / "symbolic/fixtures/windows/mini.dmp"), [])
    assert [t.tid for t in crash.threads] == [1636, 3580, 2600, 2920]
    assert crash.attributes["cpu_info"] == "GenuineIntel family 6 model 63 stepping 2"
    assert crash.attributes["cpu_count"] == "2"


@pytest.mark.parametrize("dump, module, debug_id, without, with_cfi", [
    ("crash_linux", "crash_linux", "D2554CDB926136C4B9766A086583B9B50", 16, 5),
    ("crash_macos", "crash_macos", "3F58BC3DEABE3361B5FB52A6762985980", 9, 5),
])
def test_sentry_python_fixtures_frame_counts(dumps, tmp_path, dump, module, debug_id, without, with_cfi):
    path = str(dumps / "symbolic/py-res" / f"{dump}.dmp")
    plain = open_minidump(path, [])
    assert len(physical(plain.crashed_thread)) == without
    assert plain.crashed_thread.frames[1].trust == "scan"
    # the .sym files are CFI only, without a MODULE line: matched by where they are filed
    folder = symbol_folder(tmp_path, {f"{module}/{debug_id}/{module}.sym": dumps / "symbolic/py-res" / f"{dump}.sym"})
    walked = open_minidump(path, [str(folder)])
    frames = physical(walked.crashed_thread)
    assert len(frames) == with_cfi
    assert frames[1].trust == "cfi"
    assert not walked.modules[0].has_symbols   # CFI is no function names


def test_crash_linux_caller_registers(dumps, tmp_path):
    path = str(dumps / "symbolic/py-res/crash_linux.dmp")
    frame = open_minidump(path, []).crashed_thread.frames[1]
    assert frame.pc == 4202618 and frame.registers == {
        "rip": 0x40207a, "rsp": 0x7ffea5979b28, "rbp": 0x7ffea5979ce0}
    folder = symbol_folder(tmp_path, {"crash_linux/D2554CDB926136C4B9766A086583B9B50/crash_linux.sym":
                                      dumps / "symbolic/py-res/crash_linux.sym"})
    frame = open_minidump(path, [str(folder)]).crashed_thread.frames[1]
    assert frame.registers == {"rip": 0x40207a, "rsp": 0x7ffea5979b28, "rbp": 0x7ffea5979ce0, "rbx": 0,
                               "r12": 0x401f10, "r13": 0x7ffea5979dc0, "r14": 0, "r15": 0}


@pytest.mark.parametrize("variant, files", [
    ("new", ["linux_inline.cpp", "c.cpp", "b.cpp", "a.cpp"]),
    ("old", ["linux_inline.cpp", "linux_inline.cpp", "linux_inline.cpp", "linux_inline.cpp"]),
])
def test_linux_inline_chain(dumps, tmp_path, variant, files):
    debug_id = "BBA6FA10B8AAB33D00000000000000000"
    source = dumps / "breakpad/symbols/linux_inline" / debug_id / f"linux_inline.{variant}.sym"
    folder = symbol_folder(tmp_path, {f"linux_inline/{debug_id}/linux_inline.sym": source})
    crash = open_minidump(str(dumps / "breakpad/linux_inline.dmp"), [str(folder)])
    assert crash.attributes["crash_reason"] == "SIGILL / ILL_ILLOPN"
    frames = crash.crashed_thread.frames[:4]
    assert [(f.function, f.line, f.inline) for f in frames] == [
        ("func()", 27, True), ("bar()", 32, True), ("foo()", 39, True), ("main", 42, False)]
    assert [f.file for f in frames] == files
    base = crash.modules[0].base
    # the functions' bases as Breakpad's resolver tests assert them (inline ranges' starts)
    assert [f.pc - f.symbol_offset - base for f in frames] == [0x15b83, 0x15b72, 0x15b45, 0x15b30]
    assert frames[0].module_offset == 0x161b6


def test_local_elf_debug_info_gives_the_inline_chain(dumps):
    """No .sym: the fixture's binary and its .debug file, matched by build-id (gdb agrees)."""
    crash = open_minidump(str(dumps / "symbolic/fixtures/linux/mini.dmp"), [str(dumps / "symbolic/fixtures/linux")])
    frames = crash.crashed_thread.frames[:3]
    assert [(f.function, f.line) for f in frames] == [
        ("(anonymous namespace)::crash", 23), ("(anonymous namespace)::start", 27), ("main", 35)]
    assert [f.inline for f in frames] == [True, True, False]
    assert frames[0].file.endswith("main.cpp")
    assert crash.modules[0].has_symbols
    assert crash.crashed_thread.frames[len(frames)].trust in ("cfi", "scan")


def test_local_elf_cfi_agrees_with_breakpads_dump_syms(dumps):
    """Rules read from the binary's .eh_frame against the STACK CFI records Breakpad's
    dump_syms wrote for the same binary (crash.sym), at every address both describe."""
    from hydra.minidump.postfix import cfi_rules
    from hydra.symbols.breakpad import open_symbols
    from hydra.symbols.elfsymbols import ElfSymbols

    fixture = dumps / "symbolic/fixtures/linux"
    ours = ElfSymbols(str(fixture / "crash"), str(fixture / "crash.debug"))
    theirs = open_symbols(str(fixture / "crash.sym"))
    addresses = []
    for line in (fixture / "crash.sym").read_text().splitlines():
        if line.startswith("STACK CFI "):
            fields = line.split()
            addresses.append(int(fields[3] if fields[2] == "INIT" else fields[2], 16))
    compared = 0
    for address in addresses:
        mine = ours.cfi_rules(address)
        if mine is None:
            continue        # an FDE pyelftools cannot decode (main's uses DW_CFA_def_cfa_expression)
        reference = cfi_rules(theirs.cfi_rules(address))
        rules = cfi_rules(mine)
        if rules.get(".ra") == [".undef"]:
            continue        # _start: the DWARF says the return address is undefined; dump_syms does not
        for register in set(rules) & set(reference):
            assert rules[register] == reference[register], (hex(address), register)
        compared += 1
    assert compared >= 40


def sentry_threads(dumps: Path, snapshot: str) -> dict[int, list[tuple[int, str]]]:
    """Every thread of a Sentry snapshot: tid -> [(instruction, trust)] in order."""
    text = (dumps / "symbolic/expected" / snapshot).read_text()
    threads = {}
    for block in text.split("CallStack {")[1:]:
        tid = int(re.search(r"thread_id: (\d+)", block)[1])
        threads[tid] = [(int(instruction), SENTRY_TRUST[trust]) for instruction, trust in
                        re.findall(r"instruction: (\d+),\s*\n\s*trust: (\w+)", block)]
    return threads


@pytest.mark.parametrize("dump, snapshot, with_cfi", [
    ("fixtures/windows/mini.dmp", "test_processor__process_state_windows.snap", False),
    ("fixtures/linux/mini.dmp", "test_processor__process_state_linux_cfi.snap", True),
    ("fixtures/macos/mini.dmp", "test_processor__process_state_macos.snap", False),
])
def test_every_threads_frames_match_sentrys(dumps, tmp_path, dump, snapshot, with_cfi):
    """Every thread, not only the crashed one: each frame's address and how it was found.
    Breakpad's `instruction` of a caller is its return address minus one on x86 and amd64,
    Hydra's pc the return address itself."""
    symbols = [str(cfi_only(tmp_path, dumps))] if with_cfi else []
    crash = open_minidump(str(dumps / "symbolic" / dump), symbols)
    expected = sentry_threads(dumps, snapshot)
    assert sorted(expected) == sorted(t.tid for t in crash.threads)
    for thread in crash.threads:
        ours = [(f.pc - (0 if f.trust == "context" else 1), f.trust) for f in physical(thread)]
        assert ours == expected[thread.tid], thread.tid
    assert sum(len(frames) for frames in expected.values()) > len(expected)     # more than context frames
