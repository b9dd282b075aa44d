"""A minidump fills the same panes as a snapshot."""

from __future__ import annotations

import pytest

from tests.minidump.conftest import data_root
from tests.tui.conftest import make_app


@pytest.fixture(scope="module")
def minidump_crash():
    root = data_root()
    if root is None:
        pytest.skip("the shared minidump data is not here (set HYDRA_MINIDUMP_DATA to its folder)")
    from hydra.minidump.opener import open_minidump

    return open_minidump(str(root / "breakpad/minidump2.dmp"), [str(root / "breakpad/symbols")])


@pytest.mark.parametrize("tab, expected", [
    ("registers", "eip"),
    ("memory", "stack"),
    ("map", "no memory map"),
    ("modules", "36515FB5D04345E491F672FA2E2878C02"),
    ("attributes", "EXCEPTION_ACCESS_VIOLATION_WRITE"),
    ("classifiers", "segv"),
    ("disassembly", "no code"),
    ("system", "Windows NT"),
])
async def test_minidump_tabs_and_frames(minidump_crash, tab, expected):
    app = make_app(minidump_crash)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.thread.tid == 3060 and app.frame.function == "`anonymous namespace'::CrashFunction"
        app.set_tab(tab)
        await pilot.pause()
        text = "\n".join(app.side_view.text_lines()[:400])
        assert expected in text


async def test_source_tab_says_what_is_missing(minidump_crash):
    app = make_app(minidump_crash)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app._active_tab() == "source"
        text = "\n".join(app.side_view.text_lines()[:40])
        assert "test_app.cc" in text


@pytest.mark.parametrize("name", ["ascii_read_av.dmp", "write_av_non_null.dmp", "exec_av_on_stack.dmp"])
def test_32_bit_code_is_decoded_as_32_bit_code(name, tmp_path):
    # objdump (i386) on the same bytes is the oracle; x86-64 decoding reads `[eax]` as
    # `[rax]` and 0x40-0x4f as prefixes
    import re
    import shutil
    import subprocess

    from hydra.minidump.opener import open_minidump
    from hydra.tui.code import instruction_at
    from hydra.tui.lines import registers

    root = data_root()
    if root is None or shutil.which("objdump") is None:
        pytest.skip("needs the shared minidumps and objdump")
    crash = open_minidump(str(root / "breakpad" / name), [])
    assert crash.process.architecture == "x86"
    frame = crash.crashed_thread.frames[0]
    code = crash.memory.read(frame.pc, 16)
    assert code is not None
    (tmp_path / "code").write_bytes(code)
    listing = subprocess.run(
        ["objdump", "-D", "-b", "binary", "-m", "i386", "-M", "intel", f"--adjust-vma=0x{frame.pc:x}",
         str(tmp_path / "code")], capture_output=True).stdout.decode()
    first = next(line for line in listing.splitlines() if re.match(rf"\s*{frame.pc:x}:", line))
    theirs = first.split("\t")[-1].split()
    ours = instruction_at(crash, frame.pc).split()
    assert ours[0] == theirs[0]                                   # the mnemonic
    assert not any(register in " ".join(ours) for register in ("rax", "rbx", "rcx", "rip"))
    shown = registers(crash, frame, crash.crashed_thread)
    first_rows = [shown.line(index).plain for index in range(3)]
    assert [row.split()[0] for row in first_rows] == ["eip", "esp", "ebp"]
    assert all(len(row.split()[1]) == len("0x") + 8 for row in first_rows)
