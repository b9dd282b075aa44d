from hydra.model.memory import Memory, MemoryRegion


def make():
    return Memory([MemoryRegion(0x1000, 16, _data=bytes(range(16))),
                   MemoryRegion(0x1010, 8, _data=b"ABCDEFG\0"),
                   MemoryRegion(0x2000, 4, _loader=lambda: b"wxyz")])


def test_reads_span_adjacent_regions_but_not_holes():
    memory = make()
    assert memory.read(0x100E, 4) == bytes([14, 15]) + b"AB"
    assert memory.read(0x1016, 4) is None
    assert memory.read(0x2000, 4) == b"wxyz"
    assert memory.read(0x0FFF, 2) is None


def test_partial_reads_mark_missing_bytes():
    values = make().read_partial(0x1016, 4)
    assert values == [ord("G"), 0, None, None]


def test_c_strings_stop_at_nul_and_at_the_end_of_memory():
    memory = make()
    assert memory.read_c_string(0x1010) == b"ABCDEFG"
    assert memory.read_c_string(0x2001) == b"xyz"
    assert memory.read_c_string(0x3000) is None


def test_a_loader_returning_the_wrong_size_cannot_lie():
    memory = Memory([MemoryRegion(0x10, 8, _loader=lambda: b"abc")])
    assert memory.read(0x10, 8) is None              # five of the bytes were never captured
    assert memory.read(0x10, 3) == b"abc"
    assert memory.read_partial(0x10, 8) == [ord("a"), ord("b"), ord("c")] + [None] * 5
    assert memory.region_at(0x14) is None
    longer = Memory([MemoryRegion(0x10, 2, _loader=lambda: b"abc")])
    assert longer.read(0x10, 3) is None and longer.read(0x10, 2) == b"ab"


def test_a_region_declaring_gigabytes_it_does_not_hold_allocates_nothing():
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    memory = Memory([MemoryRegion(0x1000, 1 << 31, _loader=lambda: b"\x90" * 64)])
    assert memory.read(0x1000, 4) == b"\x90" * 4
    assert memory.read_c_string(0x1000) == b"\x90" * 64
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 << 10      # KiB
