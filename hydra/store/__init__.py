"""The crash store: crashes indexed from cores, minidumps and snapshots into SQLite, buckets
by fingerprint, and the questions people ask of them (`hydra index`, `hydra query`)."""
