"""Capture of many threads on two processes gives what one process gives, and gdb's frames."""

from __future__ import annotations

import json
import os
import select
import sys
import time
from pathlib import Path

import pytest

from hydra.capture import parallel, walker
from hydra.capture.engine import CaptureOptions, capture_core
from hydra.evaluate.typenames import type_name
from hydra.report.backtrace import format_json
from hydra.snapshot.format import CHUNKS_AHEAD, forget_packed_variables, read_snapshot, snapshot_bytes
from hydra.workers import Claims

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capture.compare import missing_frames  # noqa: E402
from oracle.gdb import gdb_view  # noqa: E402


@pytest.fixture(scope="module")
def many(crashed):
    return crashed("threads_many.c", "-O0")


@pytest.fixture(scope="module")
def single_process(many):
    return capture_core(many.core)


def _report(crash) -> dict:
    report = format_json(crash, full=True)
    report["process"].pop("capture_time")
    return report


def _variable_types(crash) -> list:
    return [(thread.tid, frame.index, variable.name, type_name(crash.types, variable.type_id))
            for thread in crash.threads for frame in thread.frames
            for variable in frame.args + frame.locals]


def _same(crash, reference) -> None:
    assert _report(crash) == _report(reference)
    assert _variable_types(crash) == _variable_types(reference)
    assert [(r.start, r.size, r.kind) for r in crash.memory.regions] == \
        [(r.start, r.size, r.kind) for r in reference.memory.regions]
    for region in reference.memory.regions:
        assert crash.memory.read(region.start, region.size) == region.data


def test_split_capture_equals_one_process_and_gdb(many, single_process, monkeypatch):
    assert len(single_process.threads) > 8
    forks = []
    original = parallel.start
    monkeypatch.setattr(parallel, "MIN_THREADS", 2)
    monkeypatch.setattr(parallel, "start", lambda work: forks.append(1) or original(work))
    split = capture_core(many.core, CaptureOptions(written=True))
    assert forks == [1]
    # every thread came packed from the claims: all their variables were compressed ahead
    assert len(getattr(split, CHUNKS_AHEAD).placed) == len(split.threads)
    _same(split, single_process)
    typed = [entry for entry in _variable_types(split) if entry[3] == "int"]
    assert len({tid for tid, *_ in typed}) == len(split.threads)      # both halves' locals are typed
    _same(read_snapshot("split.hyd", snapshot_bytes(split)), single_process)
    oracle = gdb_view(many.exe, many.core)
    problems = {}
    for gdb_thread in oracle["threads"]:
        missing = missing_frames(split.thread(gdb_thread["tid"]), gdb_thread)
        if missing:
            problems[gdb_thread["tid"]] = missing
    assert not problems


def _values(crash) -> list:
    return [(thread.tid, frame.index, variable.name, variable.value) for thread in crash.threads
            for frame in thread.frames for variable in frame.args + frame.locals]


@pytest.mark.parametrize("which", [0, 5, -1])
def test_variables_compressed_ahead_give_way_to_a_thread_changed_since(many, monkeypatch, which):
    monkeypatch.setattr(parallel, "MIN_THREADS", 2)
    split = capture_core(many.core, CaptureOptions(written=True))
    assert len(getattr(split, CHUNKS_AHEAD).placed) == len(split.threads)
    changed = split.threads[which]
    variable = next(v for frame in changed.frames for v in frame.args + frame.locals)
    variable.value = "changed after capture"
    forget_packed_variables(changed)
    again = read_snapshot("changed.hyd", snapshot_bytes(split))
    assert "changed after capture" in [value for *_, value in _values(again)]
    assert _values(again) == _values(split)


def test_nothing_is_compressed_ahead_for_a_crash_that_is_not_written(many, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_THREADS", 2)
    assert not hasattr(capture_core(many.core), CHUNKS_AHEAD)


def test_a_failing_copy_is_redone_here(many, single_process, monkeypatch):
    def broken(threads):
        raise RuntimeError("the copy fails")

    monkeypatch.setattr(parallel, "MIN_THREADS", 2)
    monkeypatch.setattr(walker, "encode_threads", broken)     # runs only in the copy
    _same(capture_core(many.core), single_process)


def test_an_error_on_this_side_stops_the_copy(many, monkeypatch):
    helpers = []
    original = parallel.start

    def broken(threads, type_map):
        raise RuntimeError("this side fails")

    monkeypatch.setattr(parallel, "MIN_THREADS", 2)
    monkeypatch.setattr(parallel, "start", lambda work: helpers.append(original(work)) or helpers[-1])
    monkeypatch.setattr(walker, "pack_variables", broken)         # runs only on this side
    with pytest.raises(RuntimeError, match="this side fails"):
        capture_core(many.core)
    assert helpers and helpers[0] is not None
    with pytest.raises(ProcessLookupError):
        os.kill(helpers[0].pid, 0)          # killed and reaped, not left writing to a pipe


def test_the_copy_hands_over_more_than_a_pipe_holds():
    data = os.urandom(3 << 20)
    helper = parallel.start(lambda send: send(data[:5]) or send(data) or data[::-1])
    assert helper is not None
    assert helper.result(timeout=30) == [data[:5], data, data[::-1]]


def test_messages_arrive_while_the_copy_works_and_its_last_only_at_the_end():
    go_on_read, go_on_write = os.pipe()
    messages = [b"", b"one", os.urandom(200_000), b"three"]

    def sends_then_waits(send) -> bytes:
        for message in messages:
            send(message)
        os.read(go_on_read, 1)          # until the parent has taken them all
        return b"last"

    helper = parallel.start(sends_then_waits)
    os.close(go_on_read)
    assert helper is not None
    taken = []
    for _ in range(100_000):
        taken += helper.arrived()
        if len(taken) == len(messages):
            break
        select.select([helper.fd], [], [], 1.0)
    assert taken == messages
    assert helper.arrived() == []               # the copy still works: nothing more, no wait
    os.write(go_on_write, b"x")
    os.close(go_on_write)
    assert helper.result(timeout=30) == [b"last"]


def test_a_copy_that_dies_before_its_last_message_gives_no_answer():
    def dies_after_a_message(send) -> bytes:
        send(b"first")
        os._exit(0)

    helper = parallel.start(dies_after_a_message)
    assert helper is not None
    assert helper.result(timeout=30) is None


def test_the_bytes_arrive_before_the_copy_has_exited_and_it_is_reaped_after():
    release_read, release_write = os.pipe()
    real_exit = os._exit

    def answer_then_linger(send) -> bytes:
        os.close(release_write)
        # in the copy, run once its bytes are sent and the pipe to the parent closed
        os._exit = lambda status: (os.read(release_read, 1), real_exit(status))
        return b"answer"

    helper = parallel.start(answer_then_linger)
    os.close(release_read)
    assert helper is not None
    assert helper.result(timeout=30) == [b"answer"]
    os.kill(helper.pid, 0)                       # still there: not waited for
    assert helper.pid in parallel._exiting
    os.close(release_write)                       # now it exits
    for _ in range(2000):
        parallel.reap_exited()
        if helper.pid not in parallel._exiting:
            break
        time.sleep(0.01)
    assert helper.pid not in parallel._exiting
    with pytest.raises(ProcessLookupError):
        os.kill(helper.pid, 0)


def test_bytes_cut_short_are_no_answer():
    real_exit = os._exit

    def dies_while_sending(send) -> bytes:
        written = os.write
        # in the copy: the message goes out in part, then the copy ends
        os.write = lambda fd, data: written(fd, data[:len(data) // 2]) and real_exit(0)
        return b"never whole"

    helper = parallel.start(dies_while_sending)
    assert helper is not None
    assert helper.result(timeout=30) is None


def test_a_stalled_copy_is_stopped():
    helper = parallel.start(lambda send: time.sleep(60) or b"late")
    assert helper.result(timeout=0.5) is None
    with pytest.raises(ProcessLookupError):
        os.kill(helper.pid, 0)


def test_claims_give_every_item_to_exactly_one_of_the_two_processes():
    claims = Claims(1000)
    started, say_started = os.pipe()

    def theirs(send) -> bytes:
        taken = []
        while part := claims.take(3, from_back=True):
            if not taken:
                os.write(say_started, b"x")    # both sides take part, however busy the machine
            taken += part
            time.sleep(0.0005)       # the two sides interleave
        return json.dumps(taken).encode()

    helper = parallel.start(theirs)
    assert helper is not None
    os.close(say_started)             # so that a copy that died gives an end, not a wait
    assert os.read(started, 1) == b"x"
    os.close(started)
    mine = []
    while part := claims.take(4):
        mine += part
        time.sleep(0.0005)
    claims.close()
    their_items = json.loads(helper.result(timeout=60)[-1])
    assert mine and their_items
    assert sorted(mine + their_items) == list(range(1000))
    assert mine == list(range(len(mine)))                     # the front, in order
    assert sorted(their_items) == list(range(len(mine), 1000))
