"""Where the store lives and how it is opened: a SQLite file (the default), or a team's
PostgreSQL database (`postgresql://…`), through one small interface.

The two engines share the schema and the SQL: statements are written with `?` parameters
(PostgreSQL's driver gets `%s`), upserts with `ON CONFLICT`, which both accept; the few
expressions they spell differently are Store's methods. PostgreSQL is reached with psycopg 3
(DB-API, no ORM: the SQL here is a few statements, and an ORM's import would cost more than
all of them), imported only for a PostgreSQL store, never on the debugger's way.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from pathlib import Path

from hydra.model import BadInput
from hydra.store.schema import migrate

POSTGRESQL_PREFIXES = ("postgresql://", "postgres://")


def default_path() -> str:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "hydra", "crashes.db")


def is_url(location: str | None) -> bool:
    return bool(location) and location.startswith(POSTGRESQL_PREFIXES)


class Store:
    """A connection to the store, whichever the engine."""

    def __init__(self, connection, dialect: str, errors: tuple[type[BaseException], ...]):
        self.connection = connection
        self.dialect = dialect          # "sqlite" or "postgresql"
        self.errors = errors            # what the driver raises for a damaged, locked or lost store

    def execute(self, sql: str, parameters=()):
        """A cursor over the statement's rows."""
        return self.connection.execute(self._spelled(sql), tuple(parameters))

    def executemany(self, sql: str, rows) -> None:
        if self.dialect == "sqlite":
            self.connection.executemany(sql, rows)
        else:
            with self.connection.cursor() as cursor:
                cursor.executemany(self._spelled(sql), rows)

    @contextlib.contextmanager
    def transaction(self):
        """Statements that stand or fall together."""
        if self.dialect == "sqlite":
            with self.connection:
                yield
        else:
            with self.connection.transaction():
                yield

    def close(self) -> None:
        self.connection.close()

    # ---- what the engines spell otherwise
    def day_number(self, column: str) -> str:
        """Days since the epoch (UTC) of a time in seconds."""
        return f"CAST({column} / 86400 AS INTEGER)" if self.dialect == "sqlite" else \
            f"CAST(FLOOR({column} / 86400) AS INTEGER)"

    def day_text(self, column: str) -> str:
        """YYYY-MM-DD (UTC) of a time in seconds."""
        return f"date({column}, 'unixepoch')" if self.dialect == "sqlite" else \
            f"to_char(to_timestamp({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

    @property
    def like(self) -> str:
        """Matching without regard to case, as SQLite's LIKE does."""
        return "LIKE" if self.dialect == "sqlite" else "ILIKE"

    def _spelled(self, sql: str) -> str:
        # the SQL is Hydra's own and has no literal ?: values are always parameters (a
        # literal % is doubled, as the driver reads it)
        return sql if self.dialect == "sqlite" else sql.replace("%", "%%").replace("?", "%s")


def open_store(location: str | None = None) -> Store:
    """The store at location (default: $XDG_DATA_HOME/hydra/crashes.db; a postgresql://
    URL for a shared one), made or migrated."""
    location = location or default_path()
    if location.startswith("postgres"):
        if not is_url(location):
            raise BadInput(location, "a PostgreSQL store is named postgresql://USER@HOST/DATABASE")
        return _open_postgresql(location)
    try:
        Path(location).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(location, timeout=30)
        connection.execute("PRAGMA journal_mode = WAL")
        store = Store(connection, "sqlite", (sqlite3.DatabaseError,))
        migrate(store)
    except sqlite3.DatabaseError as error:
        raise BadInput(location, f"not a crash store: {error}") from None
    except ValueError as error:
        raise BadInput(location, str(error)) from None
    except OSError as error:
        raise BadInput(location, f"cannot open: {error.strerror or error}") from None
    return store


def _open_postgresql(url: str) -> Store:
    where = shown(url)
    try:
        import psycopg
    except ImportError:
        raise BadInput(where, "a PostgreSQL store needs psycopg: pip install 'hydra-debugger[postgresql]'") \
            from None
    try:
        connection = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as error:
        raise BadInput(where, f"cannot connect: {_without(first_line(error), _secrets(url))}") from None
    store = Store(connection, "postgresql", (psycopg.Error,))
    try:
        migrate(store)
    except psycopg.Error as error:
        connection.close()
        raise BadInput(where, f"not a crash store: {_without(first_line(error), _secrets(url))}") from None
    except ValueError as error:
        connection.close()
        raise BadInput(where, str(error)) from None
    return store


def shown(location: str) -> str:
    """A store's location as it may be shown: a password in a URL is never printed."""
    return _without(location, _secrets(location)) if is_url(location) else location


def _secrets(url: str) -> list[str]:
    """The URL's passwords as they are written and as libpq reads them: what an error from
    the driver (which quotes the part of a URL it cannot parse) must not repeat."""
    import urllib.parse

    rest = url.partition("://")[2]
    credentials = rest.rpartition("@")[0]
    found = [credentials.split(":", 1)[1]] if ":" in credentials else []
    for part in re.split(r"[?&]", rest):
        key, equals, value = part.partition("=")
        if equals and urllib.parse.unquote(key).strip().lower() == "password":
            found.append(value)
    found += [urllib.parse.unquote(secret) for secret in found]
    return sorted({secret for secret in found if secret}, key=len, reverse=True)


def _without(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "…")
    return text


def first_line(error: BaseException) -> str:
    """A driver's error as one line."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
