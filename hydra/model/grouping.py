"""Threads grouped by identical call stacks, the faulted thread first in a group of its own."""

from __future__ import annotations

from dataclasses import dataclass

from hydra.model.crash import Crash, Thread


@dataclass
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
