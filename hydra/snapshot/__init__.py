"""The .hsnap snapshot format: write a Crash, read it back lazily."""

from hydra.snapshot.format import FORMAT_VERSION, MAGIC, read_snapshot, write_snapshot

__all__ = ["FORMAT_VERSION", "MAGIC", "read_snapshot", "write_snapshot"]
