"""Numbered schema migrations; ``PRAGMA user_version`` records how far a database has come."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

__all__ = ["MIGRATIONS", "migrate", "schema_version"]


def _m001_initial(db: sqlite_utils.Database) -> None:
    """Decks, cards (compiled, hashed, retired rather than deleted), reviews, FSRS state."""
    db["decks"].create({"key": str, "name": str, "name_zh": str, "path": str, "origin": str,
                        "position": int}, pk="key")
    db["cards"].create({
        "id": str, "deck": str, "kind": str, "title": str, "title_zh": str, "source": str,
        "chapter": str, "tags": str, "position": int, "hash": str, "data": str,
        "added_at": str, "updated_at": str, "retired_at": str,
    }, pk="id", not_null={"deck", "kind", "hash", "data"})
    db["cards"].create_index(["deck"])
    db["reviews"].create({
        "id": int, "card_id": str, "reviewed_at": str, "rating": int, "verdict": str,
        "answer": str, "feedback": str, "duration_ms": int, "seed": int, "card_hash": str,
        "state_before": str, "state_after": str,
    }, pk="id", not_null={"card_id", "reviewed_at"})
    db["reviews"].create_index(["card_id"])
    db["reviews"].create_index(["reviewed_at"])
    db["card_state"].create({
        "card_id": str, "fsrs": str, "due": str, "state": str, "reps": int, "lapses": int,
        "suspended": int, "buried_until": str, "leech": int, "last_review": str,
    }, pk="card_id", defaults={"reps": 0, "lapses": 0, "suspended": 0, "leech": 0})
    db["card_state"].create_index(["due"])
    db["meta"].create({"key": str, "value": str}, pk="key")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m001_initial,
]


def schema_version(db: sqlite_utils.Database) -> int:
    """The number of migrations applied to this database."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations this database lacks, each in its own transaction; return the version."""
    version = schema_version(db)
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"this database has schema version {version}, newer than this atlas-quiz "
            f"({len(MIGRATIONS)}); upgrade atlas-quiz")
    from .db import transaction

    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with transaction(db):  # a step lands whole with its version number, or not at all
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)
