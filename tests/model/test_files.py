"""atomic_output: the new content appears whole or not at all; private_file: what a cache
must be to be read."""

from __future__ import annotations

import os

import pytest

from hydra.model.files import atomic_output, private_file


def test_the_file_is_replaced_when_the_block_ends(tmp_path):
    target = tmp_path / "out"
    target.write_bytes(b"old")
    with atomic_output(str(target), ".t-", mode=0o600) as handle:
        handle.write(b"new")
        assert target.read_bytes() == b"old"          # not in place before the block ends
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_failing_block_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_output(str(target), ".t-") as handle:
            handle.write(b"half")
            raise RuntimeError("stopped")
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_cache_is_private_when_only_its_owner_may_write_it(tmp_path):
    path = tmp_path / "cache"
    path.write_bytes(b"x")
    for mode, private in ((0o644, True), (0o600, True), (0o664, False), (0o646, False)):
        path.chmod(mode)
        with open(path, "rb") as handle:
            assert private_file(handle.fileno()) is private
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
        path.chmod(0o644)
        with open(path, "rb") as handle:
            assert not private_file(handle.fileno())
