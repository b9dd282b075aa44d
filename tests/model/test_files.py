"""atomic_output: the new content appears whole or not at all; caches: read only when no one
else can have written them, and never a hang or an exception when damaged."""

from __future__ import annotations

import os

import pytest

from hydra.model.files import NotPrivate, atomic_output, make_private_folders, open_private, read_cache, write_cache


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


def _cache(tmp_path, name: str, value=("a", 1)) -> tuple:
    root = tmp_path / name
    write_cache(str(root / "sub" / "c.cache"), str(root), value)
    return root, root / "sub" / "c.cache"


def test_a_cache_is_read_back_when_only_its_owner_may_write_it(tmp_path):
    root, path = _cache(tmp_path, "fine")
    assert read_cache(str(path), str(root)) == ("a", 1)
    for mode in (0o664, 0o646):
        root, path = _cache(tmp_path, f"file{mode:o}")
        path.chmod(mode)
        assert read_cache(str(path), str(root)) is None
    for folder in ("sub", ""):
        root, path = _cache(tmp_path, f"folder-{folder or 'root'}")
        (root / folder).chmod(0o777)
        assert read_cache(str(path), str(root)) is None
    if os.geteuid() == 0:
        root, path = _cache(tmp_path, "owner")
        os.chown(path, 65534, 65534)
        assert read_cache(str(path), str(root)) is None
        root, path = _cache(tmp_path, "folder-owner")
        os.chown(root / "sub", 65534, 65534)
        assert read_cache(str(path), str(root)) is None
        with pytest.raises(NotPrivate):
            make_private_folders(str(root / "sub" / "deeper"), str(root))


def test_a_fifo_or_a_link_is_refused_at_once(tmp_path):
    root, path = _cache(tmp_path, "fifo")
    path.unlink()
    os.mkfifo(path, 0o600)
    with pytest.raises(NotPrivate):
        open_private(str(path), str(root))        # not waited on
    root, path = _cache(tmp_path, "link")
    path.unlink()
    path.symlink_to(tmp_path / "fine" / "sub" / "c.cache")
    assert read_cache(str(path), str(root)) is None


def test_a_damaged_cache_reads_as_none(tmp_path):
    for damage in (b"", b"\xff\x00", b"[\xff\xff\xff\x7f", b"\xdb\xff\xff\xff\x7f"):
        root, path = _cache(tmp_path, f"damaged-{damage.hex()}")
        path.write_bytes(damage)
        assert read_cache(str(path), str(root)) is None


def test_folders_a_umask_left_open_to_others_are_closed(tmp_path):
    root = tmp_path / "open"
    (root / "sub").mkdir(parents=True)
    (root / "sub").chmod(0o775)
    root.chmod(0o775)
    make_private_folders(str(root / "sub"), str(root))
    assert (root / "sub").stat().st_mode & 0o777 == 0o755 and root.stat().st_mode & 0o777 == 0o755
