"""The store's tables, versioned: each migration takes the schema one version further, and
opening a store runs those it has not had."""

from __future__ import annotations

# one row per crash; its attributes (every one, queryable) in their own table; a bucket per
# fingerprint and program, with its triage state
MIGRATIONS = [
    """
    CREATE TABLE crashes (
        id TEXT PRIMARY KEY,          -- sha256 of the input file: the same file twice is one crash
        path TEXT NOT NULL,
        origin TEXT,                  -- core, minidump, snapshot
        program TEXT,
        version TEXT,
        host TEXT,
        os TEXT,
        arch TEXT,
        captured REAL,                -- when it crashed (seconds since the epoch)
        signal TEXT,
        classifiers TEXT,             -- ' name name ' (spaces around each, for whole-word matches)
        severity TEXT,
        severity_rank INTEGER,
        severity_rule TEXT,
        fingerprint TEXT,
        fingerprint_frames TEXT,
        top_frames TEXT,              -- the crashed thread's first frames, ' | ' between them
        indexed REAL NOT NULL
    );
    -- covering a bucket's aggregates: grouping reads the index alone (made again by 4)
    CREATE INDEX crashes_fingerprint ON crashes (fingerprint, program, captured, host);
    CREATE INDEX crashes_captured ON crashes (captured);
    CREATE TABLE attributes (
        crash TEXT NOT NULL REFERENCES crashes (id),
        key TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (crash, key)
    );
    CREATE INDEX attributes_key ON attributes (key, value);
    CREATE TABLE buckets (
        fingerprint TEXT NOT NULL,
        program TEXT NOT NULL DEFAULT '',
        frames TEXT,                          -- the fingerprint's frames, ' | ' between them
        state TEXT NOT NULL DEFAULT 'open',   -- open, ignored, fixed
        fixed_version TEXT,
        issue_url TEXT,
        note TEXT,
        PRIMARY KEY (fingerprint, program)
    );
    """,
    # 2: the snapshot `hydra index --keep-snapshots` wrote for a crash, beside the store
    """
    ALTER TABLE crashes ADD COLUMN snapshot TEXT;
    """,
    # 3: buckets merged by hand (`hydra bucket merge A B`): B's crashes count in A from then on
    """
    CREATE TABLE merges (
        fingerprint TEXT NOT NULL,
        program TEXT NOT NULL DEFAULT '',
        into_fingerprint TEXT NOT NULL,
        PRIMARY KEY (fingerprint, program)
    );
    """,
    # 4: a bucket's worst severity and classifiers read from the index too (the triage list
    # asks for them with the counts: on 100,000 crashes a scan of the table took 146 ms)
    """
    DROP INDEX crashes_fingerprint;
    CREATE INDEX crashes_fingerprint ON crashes (fingerprint, program, captured, host, severity_rank, classifiers);
    """,
]
VERSION = len(MIGRATIONS)


def migrate(store) -> None:
    """Bring a store to VERSION; a store made by a newer Hydra is refused, not changed.
    SQLite keeps the version in its user_version; PostgreSQL in a table of its own."""
    if store.dialect == "sqlite":
        current = store.execute("PRAGMA user_version").fetchone()[0]
    else:
        store.execute("CREATE TABLE IF NOT EXISTS hydra_schema (version INTEGER NOT NULL)")
        row = store.execute("SELECT MAX(version) FROM hydra_schema").fetchone()
        current = row[0] or 0
    if current > VERSION:
        raise ValueError(f"the store is of schema {current}; this Hydra knows {VERSION}: upgrade Hydra")
    for number in range(current, VERSION):
        with store.transaction():
            if store.dialect == "sqlite":
                store.connection.executescript(MIGRATIONS[number])
                store.execute(f"PRAGMA user_version = {number + 1}")
            else:
                # seconds since the epoch need a double: PostgreSQL's REAL is a float
                store.connection.execute(MIGRATIONS[number].replace(" REAL", " DOUBLE PRECISION"))
                store.execute("INSERT INTO hydra_schema (version) VALUES (?)", (number + 1,))
