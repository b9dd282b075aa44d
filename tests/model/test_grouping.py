"""Threads grouped by call stack, the faulted one first."""

from __future__ import annotations

from hydra.model.crash import Crash, Frame, Signal, Thread
from hydra.model.grouping import group_threads


def _crash(signal: Signal | None) -> Crash:
    crash = Crash(origin="snapshot")
    crash.threads = [Thread(10, state="S", frames=[Frame(0, 0x1000, function="nanosleep")]),
                     Thread(11, state="S", frames=[Frame(0, 0x1000, function="nanosleep")])]
    crash.crashed_tid = 10
    crash.signal = signal
    return crash


def test_without_a_signal_no_thread_is_marked_faulted():
    # a live snapshot: crashed_tid only says which thread to open on
    groups = group_threads(_crash(None))
    assert not any(group.faulted for group in groups)
    assert [len(group.threads) for group in groups] == [2]


def test_the_signalled_thread_is_faulted_and_first():
    groups = group_threads(_crash(Signal(number=11, name="SIGSEGV")))
    assert groups[0].faulted and groups[0].leader.tid == 10
    assert [t.tid for group in groups[1:] for t in group.threads] == [11]


def test_groups_with_the_same_top_frame_say_where_they_part(crashed, capture):
    from hydra.model.grouping import group_threads, stack_key, telling_frames

    crash = capture(crashed("threads_many.c", "-O0"))
    groups = group_threads(crash)
    telling = telling_frames(groups)
    tops: dict = {}
    for position, group in enumerate(groups):
        tops.setdefault(stack_key(group.leader)[:1], []).append(position)
    shared = [positions for positions in tops.values() if len(positions) > 1]
    assert shared, "threads_many parks threads in the same call at different depths"
    for positions in shared:
        shown = []
        for position in positions:
            frame = telling[position]
            leader = groups[position].leader
            assert frame is leader.frames[frame.index]
            # every frame above it is one some other group of the same top has too
            others = [stack_key(groups[other].leader) for other in positions if other != position]
            assert any(stack_key(leader)[:frame.index] == other[:frame.index] for other in others)
            shown.append((frame.index, frame.display_name, stack_key(leader)[frame.index:]))
        assert len(set(shown)) == len(shown)
