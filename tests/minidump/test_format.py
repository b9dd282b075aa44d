"""Every shared dump opens; streams and crash facts agree with the upstream tests and rust-minidump."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hydra.loader import detect
from hydra.minidump.format import elf_debug_id, read_minidump
from hydra.minidump.opener import open_minidump
from hydra.model.errors import BadInput

# Produced by rust-minidump's minidump-stackwalk 0.25.0 (`--json`) on each shared dump.
RUST_MINIDUMP = json.loads((Path(__file__).parent / "rust_minidump_expected.json").read_text())


def all_dumps(root: Path) -> list[Path]:
    return sorted(root.rglob("*.dmp"))


def test_every_dump_opens_or_says_why(dumps):
    opened = 0
    for path in all_dumps(dumps):
        if "microdumps" in path.parts:
            with pytest.raises(BadInput, match="microdump"):
                detect(str(path))
            continue
        crash = open_minidump(str(path), [])
        assert crash.threads, path
        assert all(t.frames for t in crash.threads if t.registers), path
        opened += 1
    assert opened == len(RUST_MINIDUMP) == 51


@pytest.mark.parametrize("relative", sorted(RUST_MINIDUMP))
def test_crash_facts_agree_with_rust_minidump(dumps, relative):
    expected = RUST_MINIDUMP[relative]
    crash = open_minidump(str(dumps / relative), [])
    assert crash.attributes.get("crash_reason") == expected["crash_reason"]
    if expected["crash_address"] is not None:
        assert int(crash.attributes["crash_address"], 16) == int(expected["crash_address"], 16)
        assert crash.signal.name == expected["crash_reason"].split(" ")[0]
        assert crash.crashed_tid == expected["crashing_tid"]
        assert crash.crashed_thread.crashed
    else:
        assert crash.signal is None
    assert len(crash.threads) == expected["thread_count"]
    assert crash.attributes["os"] == expected["os"]
    assert crash.attributes["cpu"] == expected["cpu"]


def test_thread_names(dumps):
    crash = open_minidump(str(dumps / "breakpad/thread_name_list.dmp"), [])
    names = {t.tid: t.name for t in crash.threads if t.name}
    assert names == {6564: "main thread", 8820: "sleep thread", 10976: "overflow thread"}
    assert crash.crashed_tid == 10976


def test_crashpad_annotations(dumps):
    dump = read_minidump(str(dumps / "breakpad/minidump_crashpad_annotation.dmp"))
    objects = [a for a in dump.annotations if a.module and not a.name.startswith("list[")]
    first_module = objects[0].module
    names = [a.name for a in objects if a.module == first_module]
    assert names == ["exceptionReason", "exceptionName", "firstexception_bt", "firstexception", "CounterAnnotation"]
    assert all(a.value for a in objects)
    crash = open_minidump(str(dumps / "breakpad/minidump_crashpad_annotation.dmp"), [])
    assert crash.attributes["ios_crash_xcuitests:exceptionName"] == "NSRangeException"
    assert len(crash.modules) == 354 and len(crash.threads) == 7


@pytest.mark.parametrize("name, os_version, cpu, cpu_info, threads", [
    ("tiny-exe-with-cet-xsave-x86.dmp", "10.0.22631", "x86", "GenuineIntel family 6 model 151 stepping 2", 3),
    ("tiny-exe-with-cet-xsave.dmp", "10.0.22000 282", "amd64", "family 6 model 140 stepping 1", 1),
])
def test_xsave_contexts(dumps, name, os_version, cpu, cpu_info, threads):
    crash = open_minidump(str(dumps / "breakpad" / name), [])
    assert crash.attributes["os"] == "Windows NT"
    assert crash.attributes["os_version"] == os_version   # Breakpad keeps a trailing space
    assert crash.attributes["cpu"] == cpu and crash.attributes["cpu_info"] == cpu_info
    assert len(crash.threads) == threads and crash.signal is None and not crash.warnings


def test_module_ids_follow_the_linux_debug_id_rule(dumps):
    dump = read_minidump(str(dumps / "symbolic/fixtures/linux/mini.dmp"))
    crash_module = dump.modules[0]
    assert crash_module.debug_id == "C0BCC3F19827FE653058404B2831D9E60"
    assert crash_module.code_id == "f1c3bcc0279865fe3058404b2831d9e64135386c"
    libc = next(m for m in dump.modules if "libc-2.23" in m.name)
    assert libc.debug_id == "451A38B5067979D2073822A5CEB24C4B0"
    assert elf_debug_id(bytes.fromhex("10faa6bbaab83db3")) == "BBA6FA10B8AAB33D00000000000000000"


def test_linux_streams_are_read(dumps):
    dump = read_minidump(str(dumps / "symbolic/fixtures/linux/mini.dmp"))
    assert "Name:" in dump.texts["LinuxProcStatus"]
    assert dump.texts["LinuxMaps"].count("\n") > 10
    assert dump.auxv and dump.environment and dump.command_line
    assert not dump.unknown_streams
    crash = open_minidump(str(dumps / "symbolic/fixtures/linux/mini.dmp"), [])
    assert any(e.path and e.path.endswith("/crash") and "x" in e.perms for e in crash.memory_map)
    assert crash.system["proc_status"]["Name"]


def test_memory_info_list_gives_the_memory_map(dumps):
    crash = open_minidump(str(dumps / "breakpad/tiny-exe-with-cet-xsave.dmp"), [])
    assert crash.memory_map and all(e.start < e.end for e in crash.memory_map)
    stack = crash.crashed_thread.registers["rsp"]
    assert crash.map_entry_at(stack).perms.startswith("rw")
    main = crash.modules[0]
    assert any(e.path == main.path and "x" in e.perms for e in crash.memory_map)
    dump = read_minidump(str(dumps / "breakpad/tiny-exe-with-cet-xsave.dmp"))
    assert len(dump.handles) == 147 and len(dump.unloaded_modules) == 1


def test_stack_memory_is_readable_and_lazy(dumps):
    crash = open_minidump(str(dumps / "breakpad/minidump2.dmp"), [])
    esp = crash.crashed_thread.registers["esp"]
    region = crash.memory.region_at(esp)
    assert region.kind == "stack"
    assert len(crash.memory.read(esp, 64)) == 64
