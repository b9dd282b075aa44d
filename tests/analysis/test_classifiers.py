"""Each classifier on a real program that crashes that way (tests/programs/classes.c)."""

from __future__ import annotations

import os

import pytest

# mode: (build, classifiers that must be there, classifiers that must not, annotation text, severity rule)
CASES = {
    "null-read": ("O0", {"segv", "null-dereference", "read"}, {"write", "invalid-address"},
                  "rax is NULL: the faulting operand is rax + 0x8; it holds `r`", "SourceAvNearNull"),
    "null-write": ("O0", {"null-dereference", "write"}, {"read"}, "faulting instruction: movsd qword ptr [rax + 8]",
                   "DestAvNearNull"),
    "wild": ("O0", {"invalid-address", "read"}, {"null-dereference"},
             "the faulting operand is 0x4141414141414149", "SourceAv"),
    "unmapped": ("O0", {"invalid-address", "write"}, {"null-dereference"}, "rax = 0x100000000000", "DestAv"),
    "exec": ("O0", {"exec", "invalid-address"}, {"read", "write"}, "alias of the fault address 0x1234000",
             "SegFaultOnPc"),
    "readonly": ("O0", {"write"}, {"null-dereference", "invalid-address"}, "is mapped r--p", "DestAv"),
    "overflow": ("O0", {"stack-overflow"}, {"invalid-address", "null-dereference"}, "faulting instruction",
                 "StackOverflow"),
    "assert": ("O0", {"abort", "assert"}, {"segv"},
               'assertion failed: balance >= 0 && "balance must not go negative" (main at', "AbortSignal"),
    "abort": ("O0", {"abort"}, {"assert", "heap-corruption"}, None, "AbortSignal"),
    "double-free": ("O0", {"abort", "double-free"}, {"heap-corruption"},
                    "heap error: free(): double free detected in tcache 2", "HeapError"),
    "invalid-free": ("O0", {"invalid-free"}, {"double-free"}, "heap error: free(): invalid pointer", "HeapError"),
    "heap-corruption": ("O0", {"heap-corruption"}, {"double-free", "invalid-free"},
                        "heap error: malloc(): corrupted top size", "HeapError"),
    "smash": ("O0", {"stack-smashing"}, {"fortify"}, None, "StackGuard"),
    "fortify": ("fortify", {"fortify"}, {"stack-smashing"}, None, "SafeFunctionCheck"),
    "divide": ("O0", {"fpe", "divide-by-zero"}, set(), "faulting instruction: idiv", "FPE"),
    "illegal": ("O0", {"ill", "illegal-instruction"}, set(), "faulting instruction: ud2", "BadInstruction"),
    "breakpoint": ("O0", {"trap", "breakpoint"}, set(), "faulting instruction: int3", "TrapSignal"),
    "bus": ("O0", {"bus", "bus-error", "write"}, set(), "faulting instruction: mov byte ptr [rax], 1", "DestAv"),
    "use-after-free": ("O0", {"use-after-free", "exec"}, set(), "free (in a tcache bin): use after free",
                       "SegFaultOnPc"),
    "deadlock": ("O0", {"deadlock", "abort"}, set(), "waits for mutex", "AbortSignal"),
    "memcpy-null": ("O0", {"null-dereference", "write"}, set(), "the destination 0x0 is not mapped", "DestAvNearNull"),
    # a signal another process sent is no fault of this program
    "killed": ("O0", {"segv", "killed"}, {"read", "write", "stack-overflow", "null-dereference"},
               "was sent by process", "Killed"),
    # glibc's "free(): invalid next size": an overflow into the next chunk, not a second free
    "heap-overflow": ("O0", {"abort", "heap-corruption"}, {"double-free", "invalid-free"},
                      "heap error: free(): invalid next size", "HeapError"),
    # an alignment check gives no address: it comes from the instruction, never NULL
    "misaligned": ("O0", {"bus-error", "read"}, {"null-dereference"}, "the faulting operand is 0x", "SourceAv"),
    "quit": ("O0", {"quit"}, {"segv", "abort"}, None, "QuitSignal"),
    # a wild load whose value is then called or stored through: as exploitable as the one
    # instruction an optimizing compiler makes of it
    "tainted-call": ("O0", {"read", "invalid-address"}, set(), None, "CallAvTainted"),
    "tainted-store": ("O0", {"read", "invalid-address"}, set(), None, "DestAvTainted"),
    # words inside a block that look like a free chunk's header do not make it one: the heap
    # is walked from its start
    "inside-block": ("O0", {"null-dereference"}, {"use-after-free"}, "is in a heap chunk of 60000 bytes",
                     "SourceAvNearNull"),
    "exec-stack": ("O0", {"exec", "exec-from-stack"}, {"read", "write"}, None, "SegFaultOnPc"),
    "exec-heap": ("O0", {"exec", "exec-from-heap"}, {"read", "write", "exec-from-stack"}, None, "SegFaultOnPc"),
    "sys": ("O0", {"sys"}, {"segv", "abort", "killed"}, None, "BadInstruction"),
    "raised-segv": ("O0", {"segv"}, {"read", "write", "exec", "killed", "null-dereference"}, None,
                    "AccessViolation"),
    "cpu-time": ("O0", {"resource"}, {"segv", "abort", "killed"}, None, "QuitSignal"),
    "null-call": ("O0", {"exec", "null-dereference"}, {"read", "write"}, None, "SegFaultOnPcNearNull"),
    "call-through-null": ("O0", {"read", "null-dereference"}, {"exec"}, None, "CallAvNearNull"),
    "call-through-unmapped": ("O0", {"read", "invalid-address"}, {"exec", "null-dereference"}, None, "CallAv"),
    "jump-through-null": ("O0", {"read", "null-dereference"}, {"exec"}, None, "BranchAvNearNull"),
    "jump-through-unmapped": ("O0", {"read", "invalid-address"}, {"exec", "null-dereference"}, None, "BranchAv"),
    "bad-return": ("O0", {"read", "invalid-address"}, {"exec", "null-dereference"}, None, "ReturnAv"),
    # a call through 0x4141414141414141 faults on the call: the target is the fault, not the
    # stack slot the call would have pushed to
    "wild-call": ("O0", {"exec", "invalid-address"}, {"stack-overflow", "write"},
                  "the call goes to 0x4141414141414141", "SegFaultOnPc"),
}
# CASR's tiers (its classes' documentation), not read from Hydra's table
TIERS = {"SegFaultOnPc": "EXPLOITABLE", "DestAv": "EXPLOITABLE", "DestAvNearNull": "PROBABLY_EXPLOITABLE",
         "ReturnAv": "EXPLOITABLE", "CallAv": "EXPLOITABLE", "BranchAv": "EXPLOITABLE",
         "SegFaultOnPcNearNull": "PROBABLY_EXPLOITABLE", "CallAvNearNull": "PROBABLY_EXPLOITABLE",
         "BranchAvNearNull": "PROBABLY_EXPLOITABLE",
         "CallAvTainted": "EXPLOITABLE", "DestAvTainted": "EXPLOITABLE",
         "HeapError": "PROBABLY_EXPLOITABLE", "StackGuard": "PROBABLY_EXPLOITABLE",
         "BadInstruction": "PROBABLY_EXPLOITABLE"}


@pytest.mark.parametrize("mode", sorted(CASES))
def test_classifier(crashes, analyzed, mode):
    build, present, absent, annotation, rule = CASES[mode]
    crash = analyzed(crashes.core("classes.c", build, mode))
    names = {c.name for c in crash.classifiers}
    assert present <= names, names
    assert not absent & names, names
    texts = [a.text for a in crash.annotations]
    if annotation:
        assert any(annotation in t for t in texts), texts
    assert crash.attributes["severity.rule"] == rule
    assert crash.attributes["severity"] == TIERS.get(rule, "NOT_EXPLOITABLE")
    assert not [w for w in crash.warnings if "analyzer" in w]


def test_assert_message_parts(crashes, analyzed):
    crash = analyzed(crashes.core("classes.c", "O0", "assert"))
    assert crash.attributes["assertion"].startswith('balance >= 0 && "balance must not go negative" (main at ')
    assert "classes.c:" in crash.attributes["assertion"]
    annotation = next(a for a in crash.annotations if a.text.startswith("assertion failed"))
    assert crash.crashed_thread.frames[annotation.frame].function == "main"


def test_glibc_messages(crashes, analyzed):
    smash = analyzed(crashes.core("classes.c", "O0", "smash"))
    assert "stack smashing detected" in smash.attributes["abort_message"]
    fortify = analyzed(crashes.core("classes.c", "fortify", "fortify"))
    assert "buffer overflow detected" in fortify.attributes["abort_message"]
    assert "buffer overflow detected" in next(c.detail for c in fortify.classifiers if c.name == "fortify")


def test_uncaught_exception_type_and_message(crashes, analyzed):
    crash = analyzed(crashes.core("exception.cpp", "O0"))
    assert {"abort", "uncaught-exception"} <= {c.name for c in crash.classifiers}
    assert crash.attributes["exception.type"] == "std::runtime_error"
    assert crash.attributes["exception.what"] == "queue empty: no orders left"
    annotation = next(a for a in crash.annotations if a.text.startswith("uncaught"))
    assert "queue empty" in annotation.text
    assert "pop" in crash.crashed_thread.frames[annotation.frame].function


def test_deadlock_names_the_cycle(crashes, analyzed):
    crash = analyzed(crashes.core("classes.c", "O0", "deadlock"))
    detail = next(c.detail for c in crash.classifiers if c.name == "deadlock")
    waiting = [t.tid for t in crash.threads if not t.crashed]
    assert all(str(tid) in detail for tid in waiting)


def test_the_faulting_register_is_tied_to_its_variable(crashes, analyzed):
    crash = analyzed(crashes.core("classes.c", "O0", "null-read"))
    annotation = next(a for a in crash.annotations if "is NULL" in a.text)
    assert annotation.variable == "args/r" and annotation.frame == 0
    assert crash.crashed_thread.frames[0].function == "read_weight"


def test_analysis_survives_into_the_snapshot(crashes, analyzed, tmp_path):
    from hydra.snapshot import read_snapshot, write_snapshot

    crash = analyzed(crashes.core("classes.c", "O0", "double-free"))
    write_snapshot(crash, str(tmp_path / "c.hsnap"))
    again = read_snapshot(str(tmp_path / "c.hsnap"))
    assert [c.name for c in again.classifiers] == [c.name for c in crash.classifiers]
    assert [a.text for a in again.annotations] == [a.text for a in crash.annotations]
    assert again.attributes["fingerprint"] == crash.attributes["fingerprint"]


def test_the_header_says_what_the_analysis_recovered(crashes, analyzed):
    from hydra.report.backtrace import format_text

    wild = format_text(analyzed(crashes.core("classes.c", "O0", "wild"))).splitlines()[0]
    assert "fault address 0x4141414141414149 (from the faulting instruction; the kernel said 0x0)" in wild
    killed = analyzed(crashes.core("classes.c", "O0", "killed"))
    assert killed.signal.sender_pid not in (None, killed.process.pid) and killed.signal.sender_uid == os.getuid()
    assert f"sent by pid {killed.signal.sender_pid}" in format_text(killed).splitlines()[0]


def test_glibcs_abort_message_is_an_annotation(crashes, analyzed):
    crash = analyzed(crashes.core("classes.c", "O0", "smash"))
    assert any("stack smashing detected" in a.text for a in crash.annotations)


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_a_rust_stack_overflow_is_one(crashed, capture, opt):
    crash = capture(crashed("rust_overflow.rs", opt))
    names = {c.name for c in crash.classifiers}
    assert "stack-overflow" in names and not names & {"heap-corruption", "double-free"}, names
    assert crash.attributes["severity.rule"] == "StackOverflow"


# classifiers whose crash is made in another test, named here so the list below stays whole
ELSEWHERE = {
    "uncaught-exception": "test_uncaught_exception_type_and_message",
    "leak": "tests/analysis/test_plugins.py: a plugin's classifier",
}
RULES_ELSEWHERE: dict[str, str] = {}


def _emitted() -> tuple[set[str], set[str]]:
    """Every classifier and severity rule the analysis can produce, read from its source: a
    new one without a crash that makes it fails the test below."""
    import re
    from pathlib import Path

    import hydra.analysis
    from hydra.model.signals import SIGNAL_CLASSES

    folder = Path(hydra.analysis.__file__).parent
    text = "".join(path.read_text() for path in folder.glob("*.py"))
    names = set(re.findall(r'classify\("([a-z-]+)"', text))
    names |= {f"exec-from-{where}" for where in ("stack", "heap")} | {"read", "write", "exec"}
    names |= set(SIGNAL_CLASSES.values())
    severity = (folder / "severity.py").read_text()
    rules = set(re.findall(r'return "([A-Za-z]+)"', severity))
    rules |= {rule + suffix for rule in re.findall(r'return "([A-Za-z]+)" \+ suffix', severity)
              for suffix in ("", "NearNull")}
    return names, rules


def test_every_classifier_and_rule_has_a_crash_that_makes_it():
    names, rules = _emitted()
    made = set().union(*(present for _build, present, _absent, _note, _rule in CASES.values()))
    assert names - made - set(ELSEWHERE) == set()
    made_rules = {rule for *_rest, rule in CASES.values()}
    assert rules - made_rules - set(RULES_ELSEWHERE) == set()
