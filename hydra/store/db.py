"""Where the store lives and how it is opened."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from hydra.model import BadInput
from hydra.store.schema import migrate


def default_path() -> str:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "hydra", "crashes.db")


def open_store(path: str | None = None) -> sqlite3.Connection:
    """The store at path (default: $XDG_DATA_HOME/hydra/crashes.db), made or migrated."""
    path = path or default_path()
    if path.startswith(("postgresql:", "postgres:")):
        raise BadInput(path, "PostgreSQL stores are not supported yet; give a file for SQLite")
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=30)
        connection.execute("PRAGMA journal_mode = WAL")
        migrate(connection)
    except sqlite3.DatabaseError as error:
        raise BadInput(path, f"not a crash store: {error}") from None
    except ValueError as error:
        raise BadInput(path, str(error)) from None
    except OSError as error:
        raise BadInput(path, f"cannot open: {error.strerror or error}") from None
    return connection
