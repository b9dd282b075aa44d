"""The stack walkers' rules on dumps made to order, each rule against the stackwalker whose
behaviour it follows (Breakpad's, rust-minidump's), with the .sym records that drive it."""

from __future__ import annotations

from pathlib import Path

from hydra.minidump.format import elf_debug_id
from hydra.minidump.opener import open_minidump
from tests.minidump import builder


def symbols(tmp_path: Path, records: str, cpu: str = "x86") -> str:
    debug_id = elf_debug_id(bytes.fromhex(builder.BUILD_ID))
    folder = tmp_path / "symbols" / "app" / debug_id
    folder.mkdir(parents=True)
    (folder / "app.sym").write_text(f"MODULE Linux {cpu} {debug_id} app\n" + records)
    return str(tmp_path / "symbols")


def dump(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "made.dmp"
    path.write_bytes(data)
    return str(path)


def test_x86_a_func_parameter_size_alone_is_not_an_unwind_program(tmp_path):
    """Linux x86 .sym files have FUNC records with a parameter size and STACK CFI, no STACK
    WIN: Breakpad and rust-minidump unwind by CFI, not by a frame info made of the size."""
    code = builder.CODE
    records = (f"FUNC 100 40 8 main\nFUNC 200 40 0 __libc_start_main\nFUNC 300 10 0 _fini\n"
               # main keeps a frame: the return address is above the saved ebp
               f"STACK CFI INIT 100 40 .cfa: $ebp 8 + .ra: .cfa -4 + ^ $ebp: .cfa -8 + ^\n"
               f"STACK CFI INIT 200 40 .cfa: $esp 4 + .ra: .cfa -4 + ^\n")
    frame = 0x40
    stack = {0x0: code + 0x305,           # a word below the frame that looks like a return into _fini
             frame: 0, frame + 4: code + 0x210}     # saved ebp, main's return address
    data = builder.linux_x86_crash(stack, code + 0x120, ebp=builder.STACK + frame)
    crash = open_minidump(dump(tmp_path, data), [symbols(tmp_path, records)])
    frames = crash.crashed_thread.frames
    assert [(f.function, f.trust) for f in frames[:2]] == [("main", "context"), ("__libc_start_main", "cfi")]
    assert frames[1].pc == code + 0x210


def test_arm_thumb_callers_are_looked_up_two_bytes_back(tmp_path):
    """A Thumb return address carries bit 0; when the call was a function's last
    instruction it is the next FUNC's first byte (| 1). Breakpad looks callers up at pc - 2:
    the caller, not the function after it."""
    code = builder.CODE
    records = ("FILE 0 net.c\n"
               "FUNC 100 20 0 pt_recvfrom_cont\n11c 4 51 0\n"
               "FUNC 120 20 0 _pt_root\n120 20 7 0\n"
               "FUNC 200 10 0 crasher\n200 10 90 0\n"
               "STACK CFI INIT 200 10 .cfa: sp 8 + .ra: .cfa -4 + ^\n")
    crash = open_minidump(dump(tmp_path, builder.linux_arm_crash({4: (code + 0x120) | 1}, code + 0x204)),
                          [symbols(tmp_path, records, "arm")])
    frames = crash.crashed_thread.frames
    assert crash.process.architecture == "arm"
    assert [(f.function, f.line, f.trust) for f in frames[:2]] == [
        ("crasher", 90, "context"), ("pt_recvfrom_cont", 51, "cfi")]


def test_arm64_a_zero_frame_pointer_lets_the_scan_go_on(tmp_path):
    """rust-minidump: a frame pointer of 0 gives no caller by the frame record, and the
    stack is scanned (Windows-arm64 and macOS-arm64 dumps reach main so)."""
    code = builder.CODE
    data = builder.linux_arm64_crash(scanned={0x240: code + 0x404})
    crash = open_minidump(dump(tmp_path, data), [])
    frames = crash.crashed_thread.frames
    assert [(f.trust, f.pc - code) for f in frames] == [
        ("context", 0x100), ("frame_pointer", 0x300), ("scan", 0x404)]


def test_macos_arm64_without_frame_pointers_walks_by_cfi_then_scans(tmp_path):
    """A macOS arm64 build without frame pointers: the crashing function's 3 KB frame is
    undone by its CFI row (not by x29, which is 0), and its caller, which has no CFI, by
    scanning. rust-minidump 0.25 walks this dump to the same three frames with the same
    trust; without the .sym file both stop at the context frame."""
    code = builder.CODE
    records = ("FILE 0 example.c\n"
               "FUNC 1000 100 0 trigger_crash\n1000 100 373 0\n"
               "FUNC 2000 100 0 main\n2000 100 975 0\n"
               "FUNC 3000 100 0 start\n3000 100 1 0\n"
               "STACK CFI INIT 1000 100 .cfa: sp 0 + .ra: x30\n"
               "STACK CFI 1008 .cfa: sp 3088 + x29: .cfa -16 + ^ .ra: .cfa -8 + ^\n")
    frame = 3088
    words = {frame - 16: 0, frame - 8: code + 0x2040,      # the saved x29 and lr, at the frame's top
             frame + 0x40: code + 0x3010}                   # a return address into start
    path = dump(tmp_path, builder.macos_arm64_crash(words, code + 0x1050, code + 0x1010))
    crash = open_minidump(path, [symbols(tmp_path, records, "arm64")])
    frames = crash.crashed_thread.frames
    assert crash.process.architecture == "aarch64"
    assert [(f.function, f.line, f.trust) for f in frames] == [
        ("trigger_crash", 373, "context"), ("main", 975, "cfi"), ("start", 1, "scan")]
    assert frames[1].sp == builder.STACK + frame
    bare = open_minidump(path, [])
    assert [f.trust for f in bare.crashed_thread.frames] == ["context"]
