"""The review log and each card's scheduling state: rows in, rows out, one transaction per change.

``atlas_quiz.scheduling`` decides what a review does to a card; this module
only writes it so that a kill at any moment leaves the log and the state in
agreement, and reads back what the queue, undo and the stats need. Plain SQL on
the sqlite-utils connection: sqlite-utils' own writers commit as they go, which
would split a review from its state.

A ``card_state`` row (see migrations.py) is a dict with the keys in
:data:`STATE_COLUMNS`; ``state`` is ``new``, ``learning``, ``review`` or
``relearning``; ``fsrs`` is the fsrs card as JSON (``None`` while new). A card
without a row is new.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlite_utils

from .db import transaction
from .decks import deck_keys, iso

__all__ = [
    "LEECH_TAG",
    "STATE_COLUMNS",
    "QueueRow",
    "apply_review",
    "done_since",
    "get_state",
    "iso",
    "new_state",
    "queue_rows",
    "review_rows",
    "set_state_fields",
    "undo_last",
]

STATE_COLUMNS = ("card_id", "fsrs", "due", "state", "reps", "lapses", "suspended",
                 "buried_until", "leech", "last_review")
REVIEW_COLUMNS = ("card_id", "reviewed_at", "rating", "verdict", "answer", "feedback",
                  "duration_ms", "seed", "card_hash", "state_before", "state_after")
# Leeches live in card_state.leech, not in cards.tags: a deck rebuild rewrites the tags.
LEECH_TAG = "leech"

QueueRow = tuple[str, str, str | None, int]  # (card_id, state, due, position)




def new_state(card_id: str) -> dict[str, Any]:
    """The state of a card never reviewed: what a missing row means."""
    return {"card_id": card_id, "fsrs": None, "due": None, "state": "new", "reps": 0,
            "lapses": 0, "suspended": 0, "buried_until": None, "leech": 0, "last_review": None}




def _state_of(conn: sqlite3.Connection, card_id: str) -> dict[str, Any] | None:
    cols = ", ".join(STATE_COLUMNS)
    row = conn.execute(f"SELECT {cols} FROM card_state WHERE card_id = ?", [card_id]).fetchone()
    return dict(zip(STATE_COLUMNS, row, strict=True)) if row else None


def get_state(db: sqlite_utils.Database, card_id: str) -> dict[str, Any]:
    """The card's state row, or :func:`new_state` when it has none."""
    return _state_of(db.conn, card_id) or new_state(card_id)


def _put_state(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    cols = ", ".join(STATE_COLUMNS)
    marks = ", ".join("?" * len(STATE_COLUMNS))
    conn.execute(f"INSERT OR REPLACE INTO card_state ({cols}) VALUES ({marks})",
                 [row[c] for c in STATE_COLUMNS])


def apply_review(db: sqlite_utils.Database, card_id: str,
                 decide: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]
                 ) -> tuple[int, dict[str, Any]]:
    """Read the card's state, let ``decide`` turn it into (review fields, new state), write both.

    All in one transaction: the log row and the new state land together or
    not at all. The state before (the whole row, or ``None`` when the card had
    none) goes into the log so that undo restores it exactly. Returns the
    review id and the new state.
    """
    cols = ", ".join(REVIEW_COLUMNS)
    marks = ", ".join("?" * len(REVIEW_COLUMNS))
    with transaction(db) as conn:
        before = _state_of(conn, card_id)
        review, after = decide(before or new_state(card_id))
        values = {**review, "card_id": card_id,
                  "state_before": json.dumps(before) if before is not None else None,
                  "state_after": json.dumps(after)}
        cur = conn.execute(f"INSERT INTO reviews ({cols}) VALUES ({marks})",
                           [values.get(c) for c in REVIEW_COLUMNS])
        _put_state(conn, after)
    return int(cur.lastrowid), after


def undo_last(db: sqlite_utils.Database) -> str | None:
    """Delete the newest review and put back the state it replaced; return its card id.

    ``None`` when the log is empty. One transaction, like the review itself.
    """
    with transaction(db) as conn:
        row = conn.execute("SELECT id, card_id, state_before FROM reviews "
                           "ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        review_id, card_id, before = row
        if before is None:
            conn.execute("DELETE FROM card_state WHERE card_id = ?", [card_id])
        else:
            _put_state(conn, json.loads(before))
        conn.execute("DELETE FROM reviews WHERE id = ?", [review_id])
    return card_id


def set_state_fields(db: sqlite_utils.Database, card_id: str, **fields: Any) -> dict[str, Any]:
    """Change some fields of a card's state (bury, suspend), creating the row if needed."""
    unknown = set(fields) - set(STATE_COLUMNS[1:])
    if unknown:
        raise ValueError(f"not card_state fields: {', '.join(sorted(unknown))}")
    with transaction(db) as conn:
        if conn.execute("SELECT 1 FROM cards WHERE id = ?", [card_id]).fetchone() is None:
            raise KeyError(card_id)
        row = {**(_state_of(conn, card_id) or new_state(card_id)), **fields}
        _put_state(conn, row)
    return row


def queue_rows(db: sqlite_utils.Database, *, now: datetime, horizon: datetime,
               decks: list[str] | None = None, tags: list[str] | None = None) -> list[QueueRow]:
    """Live, unsuspended, unburied cards that are new or due before ``horizon``, in deck order.

    ``decks`` are matched as ``deck list`` matches them (key, prefix or name);
    ``tags`` match the card's tags, and ``leech`` matches the cards flagged as
    leeches. Ids and states only: the queue loads a card when it shows it.
    """
    where = ["c.retired_at IS NULL", "COALESCE(s.suspended, 0) = 0",
             "(s.buried_until IS NULL OR s.buried_until <= ?)",
             "(s.state IS NULL OR s.state = 'new' OR s.due < ?)"]
    args: list[Any] = [iso(now), iso(horizon)]
    if decks:
        keys = deck_keys(db, decks)
        where.append(f"c.deck IN ({', '.join('?' * len(keys))})")
        args.extend(keys)
    if tags:
        marks = ", ".join("?" * len(tags))
        leech = " OR COALESCE(s.leech, 0) = 1" if LEECH_TAG in tags else ""
        where.append(f"(EXISTS (SELECT 1 FROM json_each(c.tags) WHERE json_each.value IN ({marks}))"
                     f"{leech})")
        args.extend(tags)
    sql = ("SELECT c.id, COALESCE(s.state, 'new'), s.due, c.position FROM cards c "
           "LEFT JOIN card_state s ON s.card_id = c.id WHERE " + " AND ".join(where)
           + " ORDER BY c.position")
    return [tuple(r) for r in db.conn.execute(sql, args)]


def done_since(db: sqlite_utils.Database, since: datetime) -> dict[str, int]:
    """Reviews logged since ``since``, by the state the card was in before each (``new`` ...).

    A new card counts once however often it was repeated: the daily new limit
    counts cards introduced, not answers.
    """
    rows = db.conn.execute(
        "SELECT COALESCE(json_extract(state_before, '$.state'), 'new') AS st, "
        "CASE WHEN COALESCE(json_extract(state_before, '$.state'), 'new') = 'new' "
        "THEN COUNT(DISTINCT card_id) ELSE COUNT(*) END "
        "FROM reviews WHERE reviewed_at >= ? GROUP BY st", [iso(since)])
    return dict(rows.fetchall())


def review_rows(db: sqlite_utils.Database) -> list[tuple[str, str, int, int | None]]:
    """The whole log as (card_id, reviewed_at, rating, duration_ms), oldest first."""
    return [tuple(r) for r in db.conn.execute(
        "SELECT card_id, reviewed_at, rating, duration_ms FROM reviews ORDER BY reviewed_at, id")]
