"""Threads grouped by identical call stacks, the faulted thread first in a group of its own."""

from __future__ import annotations


from hydra.model.crash import Crash, Thread
from hydra.model.record import record


@record
class ThreadGroup:
    threads: list[Thread]
    faulted: bool = False

    @property
    def leader(self) -> Thread:
        return self.threads[0]


def stack_key(thread: Thread) -> tuple:
    return tuple((frame.function or frame.module, frame.module_offset if not frame.function else None)
                 for frame in thread.frames)


def group_threads(crash: Crash) -> list[ThreadGroup]:
    # without a signal (a live snapshot) crashed_tid is only the thread to open on
    faulted = [t for t in crash.threads
               if t.crashed or t.state == "F" or (crash.signal is not None and t.tid == crash.crashed_tid)]
    groups = [ThreadGroup([t], faulted=True) for t in faulted]
    by_stack: dict[tuple, ThreadGroup] = {}
    for thread in crash.threads:
        if thread in faulted:
            continue
        key = stack_key(thread)
        if key not in by_stack:
            by_stack[key] = ThreadGroup([])
            groups.append(by_stack[key])
        by_stack[key].threads.append(thread)
    for group in groups:
        group.threads.sort(key=lambda t: t.tid)
    return groups


def telling_frames(groups: list[ThreadGroup]) -> dict[int, object]:
    """For each group (by position) whose top frame another group shares, the first frame
    where its stack parts from all of theirs: what tells apart three groups that all read
    `5 threads futex_wait`."""
    keys = [stack_key(group.leader) if group.threads else () for group in groups]
    by_top: dict[tuple, list[int]] = {}
    for position, key in enumerate(keys):
        by_top.setdefault(key[:1], []).append(position)
    telling = {}
    for positions in by_top.values():
        if len(positions) < 2:
            continue
        for position in positions:
            key = keys[position]
            depth = max(_common_prefix(key, keys[other]) for other in positions if other != position)
            frames = groups[position].leader.frames
            if depth < len(frames):
                telling[position] = frames[depth]
    return telling


def _common_prefix(one: tuple, other: tuple) -> int:
    length = 0
    for mine, theirs in zip(one, other):
        if mine != theirs:
            break
        length += 1
    return length
