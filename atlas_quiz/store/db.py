"""Opening the database: WAL mode, foreign keys, migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from ..paths import default_db_path
from .migrations import migrate

__all__ = ["open_db", "transaction"]


def open_db(path: str | Path | None = None) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` or the default location, migrated."""
    if path is None:
        path = default_db_path()
    if str(path) != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(str(path))
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA foreign_keys = ON")
    # Durable enough that a kill loses nothing committed, cheap enough for a review per second.
    db.execute("PRAGMA synchronous = NORMAL")
    migrate(db)
    return db


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE .. COMMIT (ROLLBACK on error): the writes inside land together or not at all.

    Explicit, because Python's sqlite3 opens no transaction before DDL (CREATE TABLE) by itself.
    """
    conn = db.conn
    with conn:
        if not conn.in_transaction:
            # IMMEDIATE takes the write lock before the first read, so the rows we read stay current.
            conn.execute("BEGIN IMMEDIATE")
        yield conn
