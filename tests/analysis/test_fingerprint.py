"""Fingerprints: one per bug across builds, ASLR, libc variants and callers; one bug each."""

from __future__ import annotations

import json
import subprocess

import pytest

from hydra.analysis.fingerprint import RulesError, collapse_templates, fingerprint, load_rules, normalize, parse_rules
from tests.conftest import hydra_command

# glibc picks another memmove when the CPU features it prefers are masked
SSE2_ONLY = {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512VL,-AVX512F,-AVX2,-AVX,-AVX_Fast_Unaligned_Load"}


def print_of(crashes, analyzed, build: str, bug: str, command: str, env=None) -> tuple[str, list[str], object]:
    crash = analyzed(crashes.core("fingerprint.c", build, bug, command, env=env))
    return crash.attributes["fingerprint"], crash.attributes["fingerprint.frames"].split(" | "), crash


@pytest.mark.parametrize("bug, frames", [
    ("field", ["parse_field", "parse_record"]),
    ("checksum", ["checksum", "verify"]),
    ("copy", ["memmove", "copy_block"]),
])
def test_one_bug_one_fingerprint(crashes, analyzed, bug, frames):
    prints = {print_of(crashes, analyzed, build, bug, command)[:2] == print_of(crashes, analyzed, "O0", bug, "import")[:2]
              for build in ("O0", "O2") for command in ("import", "sync")}
    assert prints == {True}
    digest, taken, _ = print_of(crashes, analyzed, "O2", bug, "sync")
    assert taken == frames


def test_address_space_layout_does_not_matter(crashes, analyzed):
    first = print_of(crashes, analyzed, "O2", "field", "import")[2]
    second = print_of(crashes, analyzed, "O2", "field", "import", env={"HYDRA_RUN": "2"})[2]
    assert first.crashed_thread.frames[0].pc != second.crashed_thread.frames[0].pc   # PIE, ASLR
    assert first.attributes["fingerprint"] == second.attributes["fingerprint"]


def test_libc_variants_give_one_fingerprint(crashes, analyzed):
    default = print_of(crashes, analyzed, "O2", "copy", "import")
    sse2 = print_of(crashes, analyzed, "O2", "copy", "import", env=SSE2_ONLY)
    assert sse2[0] == default[0]
    names = {default[2].crashed_thread.frames[0].function, sse2[2].crashed_thread.frames[0].function}
    assert all(name.startswith("__memmove_") for name in names)
    if len(names) == 1:
        pytest.skip(f"this CPU runs {names.pop()} either way; the variants' names are checked below")


def test_different_bugs_differ(crashes, analyzed):
    prints = {print_of(crashes, analyzed, "O0", bug, "import")[0] for bug in ("field", "checksum", "copy")}
    classes = {analyzed(crashes.core("classes.c", "O0", mode)).attributes["fingerprint"]
               for mode in ("abort", "assert", "double-free", "invalid-free", "null-read", "null-write")}
    assert len(prints) == 3 and len(classes) == 6 and not prints & classes


@pytest.mark.parametrize("name, expected", [
    ("__memmove_avx_unaligned_erms", "memmove"), ("__memmove_sse2_unaligned_erms", "memmove"),
    ("__memmove_avx512_no_vzeroupper", "memmove"), ("__memcpy_evex_unaligned_erms", "memcpy"),
    ("__strlen_avx2", "strlen"), ("__memset_avx2_unaligned_erms_rtm", "memset"),
    ("__GI___libc_free", "free"), ("__GI_raise", "raise"), ("parse.isra.0", "parse"),
    ("parse.constprop.3.cold", "parse"), ("ns::f(int) [clone .cold]", "ns::f(int)"),
    ("shop::WorkQueue<shop::Order>::pop", "shop::WorkQueue<T>::pop"),
    ("std::vector<int, std::allocator<int> >::at", "std::vector<T>::at"),
    ("app::main::{lambda(int)#2}::operator()", "app::main::{lambda(int)}::operator()"),
    ("myapp::run::h0123456789abcdef", "myapp::run"), ("operator<<", "operator<<"),
])
def test_default_renames(name, expected):
    assert normalize(name, load_rules()) == expected


def test_long_hostile_names_are_cut_before_the_rules():
    name = normalize("f" + ".isra.1" * 20_000, load_rules())       # 140 KB
    assert len(name) <= 4096


def test_a_rules_file_that_is_not_text_is_one_clear_error(tmp_path):
    rules_file = tmp_path / "latin1.rules"
    rules_file.write_bytes("skip caf\xe9\n".encode("latin-1"))
    with pytest.raises(RulesError, match="not UTF-8"):
        load_rules(str(rules_file))


def test_user_rules_come_first(tmp_path, crashes, analyzed):
    crash = analyzed(crashes.core("fingerprint.c", "O0", "field", "import"))
    rules_file = tmp_path / "mine.rules"
    rules_file.write_text("# ours\nskip parse_field\ndetail line load_file\nframes 2\n")
    digest, frames = fingerprint(crash, load_rules(str(rules_file)))
    assert frames[0] == "parse_record" and frames[1].startswith("load_file (fingerprint.c:")
    assert digest != crash.attributes["fingerprint"]


def test_another_thread_by_attribute(crashes, analyzed):
    crash = analyzed(crashes.core("classes.c", "O0", "deadlock"))
    other = next(t for t in crash.threads if not t.crashed)
    crash.attributes["_mod_faulting_tid"] = str(other.tid)
    _digest, frames = fingerprint(crash, load_rules())
    assert frames[0] == "lock_in_order"
    del crash.attributes["_mod_faulting_tid"]


@pytest.mark.parametrize("text, message", [
    ("rename foo", "rename needs"), ("skip (", "bad pattern"), ("detail everything", "detail is"),
    ("frobnicate x", "not a rule"), ("frames zero", "not a rule"), ("frames \u00b2", "not a rule"),
    ("frames " + "9" * 5000, "not a rule"), ("skip a{1001}", "bad pattern"), ("skip " + "(" * 2000, "bad pattern"),
    ("rename (.*) => \\2", "refers to group 2"), ("rename (.*) => \\g<x>", "refers to group 'x'"),
])
def test_bad_rules_say_where(text, message):
    with pytest.raises(RulesError, match=f"mine.rules:2: .*{message}"):
        parse_rules("# first line\n" + text, "mine.rules")


@pytest.mark.parametrize("name, expected", [
    ("a<b<c>, d>::f<e>", "a<T>::f<T>"),
    ("Foo::operator<(Foo const&, Foo const&)", "Foo::operator<(Foo const&, Foo const&)"),
    ("std::operator<< <char, std::char_traits<char> >(std::ostream&, char const*)",
     "std::operator<< <T>(std::ostream&, char const*)"),
    ("f(std::vector<int>)", "f(std::vector<int>)"), ("operator<=>", "operator<=>"),
])
def test_templates_collapse(name, expected):
    assert collapse_templates(name) == expected


def test_fingerprint_command_groups(crashes, tmp_path):
    cores = [crashes.core("fingerprint.c", build, bug, "import") for build in ("O0", "O2") for bug in ("field", "checksum")]
    done = subprocess.run(hydra_command() + ["fingerprint", "--json", *cores], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    buckets = json.loads(done.stdout)
    assert sorted(b["count"] for b in buckets) == [2, 2]
    assert all(b["first"] <= b["last"] for b in buckets)
    bad = tmp_path / "not-a-crash"
    bad.write_text("hello")
    done = subprocess.run(hydra_command() + ["fingerprint", cores[0], str(bad)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and str(bad) in done.stderr and "parse_field | parse_record" in done.stdout


def test_two_programs_never_share_a_bucket(crashed, capture):
    # one source built under two names: the same frames, two programs
    first = capture(crashed("null_deref.c", "-O0"))
    second = capture(crashed("null_deref.c", "-O0", extra=("-DSECOND_PROGRAM",)))
    assert first.attributes["fingerprint.frames"] == second.attributes["fingerprint.frames"]
    assert first.attributes["fingerprint"] != second.attributes["fingerprint"]


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_a_rust_panic_is_fingerprinted_by_the_user_frames(crashed, capture, opt):
    crash = capture(crashed("rust_panic.rs", opt))
    taken = crash.attributes["fingerprint.frames"].split(" | ")
    assert taken[0] == "rust_panic::Inventory::count", taken
    assert not any(name.startswith(("core::", "std::", "alloc::")) for name in taken), taken


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_a_go_panic_is_fingerprinted_by_the_user_frames(crashed, capture, opt):
    crash = capture(crashed("go_panic.go", opt))
    assert crash.attributes["fingerprint.frames"].split(" | ") == ["main.(*Indexer).add", "main.main"]


@pytest.mark.parametrize("innermost", [["ping"], ["pong"], ["snprintf", "pong"], ["format_row", "ping"]])
def test_a_stack_overflow_is_its_recursion_wherever_the_stack_ran_out(innermost):
    from hydra.analysis.fingerprint import fingerprint_frames
    from hydra.model.crash import Frame, Thread

    after = "ping" if innermost[-1] == "pong" else "pong"
    names = innermost + [after, innermost[-1]] * 40 + ["handle", "main"]
    thread = Thread(tid=1, frames=[Frame(index=i, pc=0x1000 + i, function=name, module="/bin/app")
                                   for i, name in enumerate(names)])
    assert fingerprint_frames(thread, load_rules(), overflow=True) == ["ping", "pong"]
    # the same stack in a crash that is no overflow: its innermost frames
    assert fingerprint_frames(thread, load_rules()) == (innermost + [after])[:2]
    # a short stack that only looks like a cycle keeps its order
    thread.frames = thread.frames[-6:]
    assert fingerprint_frames(thread, load_rules(), overflow=True) == [thread.frames[0].function,
                                                                     thread.frames[1].function]
