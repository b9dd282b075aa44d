"""Crash classes of Breakpad's exploitability dumps, as their names and Breakpad's tests say."""

from __future__ import annotations

import pytest

from hydra.minidump.opener import open_minidump

# dump: (classifiers that must be there, classifiers that must not)
CASES = {
    "null_read_av.dmp": ({"null-dereference", "read"}, {"write"}),
    "null_write_av.dmp": ({"null-dereference", "write"}, {"read"}),
    "ascii_read_av.dmp": ({"read"}, {"null-dereference", "write"}),
    "ascii_write_av.dmp": ({"write"}, {"null-dereference", "read"}),
    "exec_av_on_stack.dmp": ({"exec"}, {"null-dereference"}),
    "write_av_non_null.dmp": ({"write"}, {"null-dereference"}),
    "read_av_non_null.dmp": ({"read"}, {"null-dereference"}),
    "stack_exhaustion.dmp": ({"stack-overflow"}, {"exec", "null-dereference"}),
    "linux_divide_by_zero.dmp": ({"divide-by-zero"}, {"segv"}),
    "linux_null_dereference.dmp": ({"null-dereference", "write"}, set()),
    "linux_null_read_av.dmp": ({"null-dereference", "read"}, set()),
    "linux_jmp_to_0.dmp": ({"exec", "null-dereference"}, set()),
    "linux_write_to_under_4k.dmp": ({"null-dereference", "write"}, set()),
    "linux_write_to_nonwritable_module.dmp": ({"write"}, {"null-dereference"}),
    "linux_write_to_outside_module.dmp": ({"write", "invalid-address"}, {"null-dereference"}),
    "linux_outside_module.dmp": ({"exec", "invalid-address"}, set()),
    "linux_raise_sigabrt.dmp": ({"abort"}, {"segv"}),
    "linux_stacksmash.dmp": ({"stack-smashing"}, set()),
    "linux_overflow.dmp": ({"abort", "fortify"}, set()),
    "linux_inline.dmp": ({"illegal-instruction"}, set()),
    "tiny-exe-fastfail.dmp": ({"abort"}, {"segv"}),
    "write_av_non_canonical.dmp": ({"invalid-address", "write"}, {"null-dereference"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_classes(dumps, name):
    present, absent = CASES[name]
    crash = open_minidump(str(dumps / "breakpad" / name), [str(dumps / "breakpad/symbols")])
    names = {c.name for c in crash.classifiers}
    assert present <= names and not absent & names, names
    assert crash.attributes["fingerprint"] and crash.attributes["severity"]
    assert not [w for w in crash.warnings if "analyzer" in w]


def test_non_canonical_address_is_recovered(dumps):
    """Breakpad's TestNonCanonicalAddress: the real operand, from the instruction."""
    crash = open_minidump(str(dumps / "breakpad/write_av_non_canonical.dmp"), [])
    assert crash.attributes["crash_address.adjusted"] == "0xfefefefefefefefe"


def test_null_read_ties_the_register(dumps):
    crash = open_minidump(str(dumps / "breakpad/null_read_av.dmp"), [])
    texts = [a.text for a in crash.annotations]
    assert "faulting instruction: mov eax, dword ptr [eax]" in texts
    assert any(t.startswith("eax is NULL") for t in texts)
