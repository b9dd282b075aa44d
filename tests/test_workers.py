"""Forked workers give every item's result once, in order, and say which items a dead worker lost."""

from __future__ import annotations

import json
import os
import signal

import pytest

from hydra.workers import Claims, WorkerDied, in_workers


def _pid_and_square(number: int) -> tuple[int, int]:
    return os.getpid(), number * number


def test_every_result_comes_back_once_in_the_items_order_from_forked_processes():
    items = list(range(200))
    results = list(in_workers(_pid_and_square, items, jobs=3, chunk=2))
    assert [square for _, square in results] == [n * n for n in items]
    assert os.getpid() not in {pid for pid, _ in results}


def _fail_on_seven(number: int) -> int:
    if number == 7:
        raise ValueError(f"no {number}")
    return number


def test_an_exception_in_a_worker_is_raised_at_its_item():
    seen = []
    with pytest.raises(ValueError, match="no 7"):
        for value in in_workers(_fail_on_seven, list(range(20)), jobs=2):
            seen.append(value)
    assert seen == list(range(7))


class _Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a} {b}")


def _raise_unpicklable(number: int) -> int:
    raise _Unpicklable(number, "x")


def test_an_exception_that_cannot_travel_back_is_named_not_lost():
    with pytest.raises(RuntimeError, match="cannot hand the result back"):
        list(in_workers(_raise_unpicklable, [1], jobs=1))


def _die_on_five(number: int) -> int:
    if number == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return number


def test_items_of_a_worker_that_died_are_given_to_lost_and_the_rest_come_back():
    results = list(in_workers(_die_on_five, list(range(30)), jobs=2, chunk=1,
                              lost=lambda died: ("lost", died.item, died.how)))
    assert results[5] == ("lost", 5, "was killed by SIGKILL")
    assert [r for i, r in enumerate(results) if i != 5] == [i for i in range(30) if i != 5]


def test_only_the_item_being_read_is_lost_the_rest_of_its_chunk_is_read_by_another():
    results = list(in_workers(_die_on_five, list(range(30)), jobs=2, chunk=4,
                              lost=lambda died: ("lost", died.item)))
    assert results == [("lost", 5) if i == 5 else i for i in range(30)]


class _Refused:
    """Pickles, but its own __reduce__ makes unpickling fail."""

    def __reduce__(self):
        return (_Unpicklable, ("only one argument",))


def _refused_on_three(number: int):
    return _Refused() if number == 3 else number


def test_a_value_that_cannot_travel_back_is_an_error_at_its_item_only():
    seen = []
    with pytest.raises(RuntimeError, match="cannot hand the result back"):
        for value in in_workers(_refused_on_three, list(range(6)), jobs=2):
            seen.append(value)
    assert seen == [0, 1, 2]


def test_where_no_process_can_be_forked_this_one_reads_every_item(monkeypatch):
    import hydra.workers

    def refuse():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(hydra.workers.os, "fork", refuse)
    before = len(os.listdir("/proc/self/fd"))
    assert [square for _, square in in_workers(_pid_and_square, list(range(5)), jobs=2)] == [0, 1, 4, 9, 16]
    assert len(os.listdir("/proc/self/fd")) == before        # no pipe left open


def test_without_lost_a_dead_worker_is_an_error_at_its_item():
    seen = []
    with pytest.raises(WorkerDied) as raised:
        for value in in_workers(_die_on_five, list(range(10)), jobs=1):
            seen.append(value)
    assert raised.value.item == 5 and seen == [0, 1, 2, 3, 4]


def test_when_the_only_worker_dies_another_takes_the_rest():
    results = list(in_workers(_die_on_five, list(range(10)), jobs=1, lost=lambda died: None))
    assert results == [0, 1, 2, 3, 4, None, 6, 7, 8, 9]


def _slow_identity(number: int) -> int:
    import time

    time.sleep(0.01)
    return number


def test_stopping_early_ends_the_workers():
    results = in_workers(_slow_identity, list(range(1000)), jobs=2)
    assert next(results) == 0
    children = _children()
    assert len(children) == 2
    results.close()
    assert not _children() & children


def _children() -> set[int]:
    """This process's living children, from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.add(int(entry))
    return found


def test_claims_from_the_front_give_each_item_once_across_processes():
    claims = Claims(500)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        taken = []
        while part := claims.take(3):
            taken += part
        os.write(write_fd, json.dumps(taken).encode())
        os._exit(0)
    os.close(write_fd)
    mine = []
    while part := claims.take(5):
        mine += part
    os.waitpid(pid, 0)
    with os.fdopen(read_fd) as handle:
        theirs = json.load(handle)
    claims.close()
    assert sorted(mine + theirs) == list(range(500))
