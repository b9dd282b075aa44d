"""The crash store as users drive it: `hydra index`, `hydra query`, `hydra bucket`, against
`hydra fingerprint`'s grouping of the same files."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import hydra_command

SAMPLES = Path(__file__).resolve().parents[2] / "sample_snapshots"


def hydra(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(hydra_command() + list(args), capture_output=True, text=True, timeout=300)


@pytest.fixture
def crashes(tmp_path, crashed):
    """A folder of crashes: the samples, two copies of one under other names, and cores of
    real programs (three of one bug through different inputs, one of another)."""
    folder = tmp_path / "incoming"
    shutil.copytree(SAMPLES, folder / "samples", ignore=shutil.ignore_patterns("*.c", "*.cpp", "*.py"))
    shutil.copy(SAMPLES / "default.hsnap", folder / "samples" / "again.hsnap")
    for mode in ("null-read", "null-write", "divide"):
        program = crashed("classes.c", "-O0", args=(mode,))
        shutil.copy(program.core, folder / f"core.{mode}")
    return folder


def test_index_then_group_by_fingerprint_matches_hydra_fingerprint(crashes, tmp_path, store_location):
    store = store_location
    done = hydra("index", "--db", store, str(crashes))
    assert done.returncode == 0, done.stderr
    assert "indexed 8, already there 1, bad 0" in done.stderr       # again.hsnap is default.hsnap
    grouped = json.loads(hydra("query", "--db", store, "--group-by", "fingerprint", "--json").stdout)
    files = sorted(str(path) for path in crashes.rglob("*") if path.is_file())
    oracle = json.loads(hydra("fingerprint", "--json", *files).stdout)
    # the same buckets with the same sizes (the duplicate file counted once here)
    ours = {row["fingerprint"]: row["count"] for row in grouped}
    theirs = {bucket["fingerprint"]: len({Path(f).read_bytes() for f in bucket["files"]}) for bucket in oracle}
    assert ours == theirs
    assert all(row["state"] == "open" and row["first"] <= row["last"] for row in grouped)


def test_indexing_again_adds_nothing(crashes, tmp_path, store_location):
    store = store_location
    hydra("index", "--db", store, str(crashes))
    again = hydra("index", "--db", store, "--jobs", "1", str(crashes))
    assert again.returncode == 0 and "indexed 0, already there 9, bad 0" in again.stderr
    rows = json.loads(hydra("query", "--db", store, "--json").stdout)
    assert len(rows) == 8


def test_filters(crashes, tmp_path, store_location):
    store = store_location
    hydra("index", "--db", store, str(crashes))

    def programs(*args: str) -> list[str]:
        done = hydra("query", "--db", store, "--json", "--select", "program,severity,classifiers", *args)
        assert done.returncode == 0, done.stderr
        return sorted(row["program"] for row in json.loads(done.stdout))

    assert programs("--classifier", "divide-by-zero") == ["classes_O0"]
    assert programs("--where", "program=ledger_assert") == ["ledger_assert"]
    assert programs("--where", "attr.sample=inventory.c") == ["inventory"]
    assert programs("--where", "severity>=PROBABLY_EXPLOITABLE") == ["classes_O0"]      # the null write
    assert len(programs("--since", "3650d")) == 8 and programs("--where", "program~ledger") == ["ledger_assert"]
    table = hydra("query", "--db", store, "--csv", "--group-by", "program").stdout
    counts = {row["program"]: int(row["count"]) for row in csv.DictReader(io.StringIO(table))}
    assert counts["classes_O0"] == 3 and counts["inventory"] == 1


@pytest.mark.parametrize("condition, problem", [
    ("bogus", "a condition reads FIELD OP VALUE"),
    ("nosuch=1", "no such field"),
    ("severity>=BAD", "no such severity"),
    ("captured>=yesterday", "not a time"),
])
def test_a_filter_that_does_not_parse_is_one_line_and_status_2(tmp_path, condition, problem):
    done = hydra("query", "--db", str(tmp_path / "c.db"), "--where", condition)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and problem in done.stderr


def test_bucket_state_note_and_link(crashes, tmp_path, store_location):
    store = store_location
    hydra("index", "--db", store, str(crashes / "samples"))
    grouped = json.loads(hydra("query", "--db", store, "--group-by", "fingerprint", "--json").stdout)
    target = grouped[0]["fingerprint"]
    assert hydra("bucket", "--db", store, "set", target[:12], "--state", "fixed", "--version", "2.3").returncode == 0
    assert hydra("bucket", "--db", store, "note", target[:12], "fixed by the bounds check").returncode == 0
    done = hydra("bucket", "--db", store, "set", "ffffffffffff", "--state", "ignored")
    assert done.returncode == 2 and "no such bucket" in done.stderr
    grouped = json.loads(hydra("query", "--db", store, "--group-by", "fingerprint", "--json").stdout)
    assert next(row for row in grouped if row["fingerprint"] == target)["state"] == "fixed"


def test_a_bad_file_is_one_line_and_the_run_goes_on(crashes, tmp_path, store_location):
    (crashes / "broken.dmp").write_bytes(b"MDMP" + bytes(40))
    store = store_location
    done = hydra("index", "--db", store, str(crashes))
    assert done.returncode == 2
    assert "broken.dmp" in done.stderr and "indexed 8, already there 1, bad 1" in done.stderr


def test_a_store_of_a_newer_schema_is_refused(tmp_path):
    import sqlite3

    path = tmp_path / "new.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    done = hydra("query", "--db", str(path))
    assert done.returncode == 2 and "upgrade Hydra" in done.stderr and done.stderr.count("\n") == 1


def test_per_day_counts_and_a_histogram(crashes, tmp_path, store_location):
    store = store_location
    hydra("index", "--db", store, str(crashes))
    days = json.loads(hydra("query", "--db", store, "--group-by", "day", "--json").stdout)
    assert sum(row["count"] for row in days) == 8
    assert [row["day"] for row in days] == sorted(row["day"] for row in days)
    table = hydra("query", "--db", store, "--group-by", "program", "--histogram").stdout.splitlines()
    assert table[0].split()[-1] == "histogram"
    classes = next(line for line in table if line.startswith("classes_O0"))
    inventory = next(line for line in table if line.startswith("inventory"))
    assert classes.count("█") == 3 * inventory.count("█")


def test_a_crash_of_a_later_version_reopens_a_fixed_bucket(tmp_path, store_location):
    store = store_location
    first, later = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    later.mkdir()
    from hydra.snapshot import read_snapshot, write_snapshot

    # the same crash, as version 2.9 and then as 2.10

    for folder, version in ((first, "2.9"), (later, "2.10")):
        crash = read_snapshot(str(SAMPLES / "default.hsnap"))
        crash.attributes["version"] = version
        write_snapshot(crash, str(folder / "c.hsnap"))
    hydra("index", "--db", store, str(first))
    fingerprint = json.loads(hydra("query", "--db", store, "--group-by", "fingerprint", "--json").stdout)[0]["fingerprint"]
    assert hydra("bucket", "--db", store, "set", fingerprint, "--state", "fixed", "--version", "2.9").returncode == 0
    hydra("index", "--db", store, str(later))
    bucket = json.loads(hydra("query", "--db", store, "--group-by", "fingerprint", "--json").stdout)[0]
    assert bucket["state"] == "open" and bucket["count"] == 2


def test_versions_compare_as_numbers():
    from hydra.store.index import version_key

    assert version_key("2.10") > version_key("2.9") and version_key("2.9.1") > version_key("2.9")
    assert version_key("10.0.1") > version_key("9.99") and version_key("2.9") == version_key("2.9")


def test_keep_snapshots_writes_them_beside_the_store(crashes, tmp_path):
    store = tmp_path / "store" / "crashes.db"
    done = hydra("index", "--db", str(store), "--keep-snapshots", str(crashes))
    assert done.returncode == 0, done.stderr
    rows = json.loads(hydra("query", "--db", str(store), "--json", "--select", "path,snapshot,fingerprint").stdout)
    from hydra.analysis.fingerprint import fingerprint, load_rules
    from hydra.snapshot import read_snapshot

    for row in rows:
        kept = Path(row["snapshot"])
        assert kept.parent.parent == store.parent / "snapshots" and kept.name.endswith(".hsnap")
        # the snapshot made of a core answers as the core did
        assert fingerprint(read_snapshot(str(kept)), load_rules())[0] == row["fingerprint"]
    assert any(row["path"].endswith("core.divide") for row in rows)


def test_an_older_store_is_migrated(tmp_path):
    import sqlite3

    from hydra.store.db import open_store
    from hydra.store.schema import MIGRATIONS, VERSION

    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.executescript(MIGRATIONS[0])
    connection.execute("PRAGMA user_version = 1")
    connection.close()
    migrated = open_store(str(path))
    assert migrated.execute("PRAGMA user_version").fetchone()[0] == VERSION >= 2
    assert "snapshot" in [column[1] for column in migrated.execute("PRAGMA table_info(crashes)")]


def test_merged_buckets_group_together_from_then_on(crashes, tmp_path, store_location):
    store = store_location
    hydra("index", "--db", store, str(crashes))
    grouped = json.loads(hydra("query", "--db", store, "--group-by", "fingerprint", "--json",
                               "--where", "program=classes_O0").stdout)
    assert len(grouped) >= 2
    into, other = grouped[0], grouped[1]
    done = hydra("bucket", "--db", store, "merge", into["fingerprint"][:16], other["fingerprint"][:16])
    assert done.returncode == 0, done.stderr
    after = json.loads(hydra("query", "--db", store, "--group-by", "fingerprint", "--json",
                             "--where", "program=classes_O0").stdout)
    merged = next(row for row in after if row["fingerprint"] == into["fingerprint"])
    assert merged["count"] == into["count"] + other["count"] and len(after) == len(grouped) - 1
    # a bucket of another program is refused
    inventory = next(row for row in json.loads(hydra("query", "--db", store, "--group-by", "fingerprint",
                                                      "--json").stdout) if row["program"] == "inventory")
    done = hydra("bucket", "--db", store, "merge", into["fingerprint"][:16], inventory["fingerprint"][:16])
    assert done.returncode == 2 and "not of classes_O0" in done.stderr


def test_a_postgresql_store_of_a_newer_schema_is_refused(postgresql_server):
    import psycopg

    url = postgresql_server.new_database()
    assert hydra("query", "--db", url).returncode == 0           # made, at this schema
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("INSERT INTO hydra_schema (version) VALUES (99)")
    done = hydra("query", "--db", url)
    assert done.returncode == 2 and "upgrade Hydra" in done.stderr and done.stderr.count("\n") == 1


def test_a_postgresql_store_that_cannot_be_reached_is_one_line_without_its_password(tmp_path):
    pytest.importorskip("psycopg")
    url = f"postgresql://someone:s3cret@/nowhere?host={tmp_path}"
    done = hydra("query", "--db", url)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "cannot connect" in done.stderr and "s3cret" not in done.stderr and "someone:…@" in done.stderr


@pytest.mark.parametrize("url, secret", [
    ("postgresql://u:pa?ss@/db?host={folder}", "pa?ss"),                  # libpq reads to the last @
    ("postgresql://u@/db?%70assword=hid-den&host={folder}", "hid-den"),   # a parameter, its name encoded
    ("postgresql://u@/db?host={folder}&password=a@b", "a@b"),
    ("postgresql://u:bad%zzword@/db?host={folder}", "bad%zzword"),        # libpq quotes what it cannot decode
    ("postgresql://u:with space@/db?host={folder}", "with space"),
])
def test_a_store_url_never_shows_its_password(tmp_path, url, secret):
    pytest.importorskip("psycopg")
    from hydra.store.db import shown

    url = url.format(folder=tmp_path)
    assert secret not in shown(url)
    done = hydra("query", "--db", url)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert secret not in done.stderr, done.stderr


def test_an_interrupted_index_keeps_what_it_read_and_the_next_run_does_the_rest(crashes, store_location):
    """Crashes are committed in groups; an interruption (Ctrl-C here, after the third crash
    read) commits the ones read before it, and the next run indexes the others, each once.
    (In a process of its own: the workers are forked, and this test process has run
    captures, whose OpenMP threads a forked copy cannot use.)"""
    import sys

    script = (
        "import sys\n"
        "from hydra.store.db import open_store\n"
        "from hydra.store.index import index\n"
        "def interrupt(done, total, elapsed):\n"
        "    if done == 3:\n"
        "        raise KeyboardInterrupt\n"
        "connection = open_store(sys.argv[1])\n"
        "try:\n"
        "    index(connection, [sys.argv[2]], jobs=1, progress=interrupt)\n"
        "except KeyboardInterrupt:\n"
        "    print(connection.execute('SELECT COUNT(*) FROM crashes').fetchone()[0])\n"
        "finally:\n"
        "    connection.close()\n")
    done = subprocess.run([sys.executable, "-c", script, store_location, str(crashes)], capture_output=True,
                          text=True, timeout=300)
    assert done.stdout.strip() == "3", (done.stdout, done.stderr)
    again = hydra("index", "--db", store_location, str(crashes))
    assert again.returncode == 0 and "indexed 5, already there 4, bad 0" in again.stderr, again.stderr
    assert len(json.loads(hydra("query", "--db", store_location, "--json").stdout)) == 8
