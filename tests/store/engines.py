"""The crash store on both engines, as fixtures (tests/conftest.py offers them): a SQLite
file, and a real PostgreSQL server started for the session from the distribution's binaries
(.ci/run installs Debian's postgresql), in a folder of its own, listening only on a socket
there."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest


def _postgresql_binaries() -> str | None:
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0)
    return os.path.dirname(versions[-1]) if versions else None


class PostgreSQLServer:
    def __init__(self, folder: str, user: str):
        self.folder = folder
        self.user = user

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@/{database}?host={self.folder}"

    def new_database(self) -> str:
        import psycopg

        name = "hydra_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def postgresql_server():
    pytest.importorskip("psycopg", reason="psycopg is not installed (the test extra installs it)")
    binaries = _postgresql_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    folder = tempfile.mkdtemp(prefix="hydra-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:
        # the server refuses to run as root: it runs as the package's user
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(folder, "data")
    log = os.path.join(folder, "log")
    subprocess.run(as_user + [os.path.join(binaries, "initdb"), "-D", data, "-A", "trust", "-U", "hydra",
                              "--no-sync", "-E", "UTF8", "--locale", "C"],
                   check=True, capture_output=True, timeout=300)
    subprocess.run(as_user + [os.path.join(binaries, "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "120",
                              "-o", f"-k {folder} -c listen_addresses='' -F", "start"],
                   check=True, capture_output=True, timeout=300)
    try:
        yield PostgreSQLServer(folder, "hydra")
    finally:
        subprocess.run(as_user + [os.path.join(binaries, "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request, tmp_path) -> str:
    """What `--db` names: a SQLite file, or a new database on the session's server."""
    if request.param == "sqlite":
        return str(tmp_path / "crashes.db")
    return request.getfixturevalue("postgresql_server").new_database()
