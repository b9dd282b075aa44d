"""The .hsnap snapshot format: write a Crash, read it back lazily."""

MAGIC = b"HYDRASNP"     # here, so telling a snapshot from a core does not load the format code

__all__ = ["FORMAT_VERSION", "MAGIC", "read_snapshot", "write_snapshot"]


def __getattr__(name: str):
    if name in ("FORMAT_VERSION", "read_snapshot", "write_snapshot"):
        from hydra.snapshot import format as snapshot_format

        return getattr(snapshot_format, name)
    raise AttributeError(name)
