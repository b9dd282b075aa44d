"""Crash reasons spelled as rust-minidump spells them."""

from __future__ import annotations

import pytest

from hydra.minidump.reason import PLATFORM_WINDOWS, crash_reason

WINDOWS = PLATFORM_WINDOWS[0]


@pytest.mark.parametrize("code, reason", [
    (0xC000000D, "STATUS_INVALID_PARAMETER"),        # the one the issue met printed as a number
    (0xC0000017, "STATUS_NO_MEMORY"),
    (0xC0000135, "STATUS_DLL_NOT_FOUND"),
    (0xC0000142, "STATUS_DLL_INIT_FAILED"),
    (0xC00000FD, "EXCEPTION_STACK_OVERFLOW"),        # an exception code keeps its EXCEPTION_ name
    (0x80000003, "EXCEPTION_BREAKPOINT"),
])
def test_windows_codes_are_named(code, reason):
    assert crash_reason(WINDOWS, code, 0, [], True) == reason


def test_an_unknown_windows_code_stays_a_number():
    assert crash_reason(WINDOWS, 0xDEADBEEF, 0, [], True) == "0xdeadbeef"
