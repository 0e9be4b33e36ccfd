"""What a review does to a card (FSRS, fuzz, lapses, leeches), and recording it.

:func:`next_state` is pure; :func:`record_review` logs the review and stores
the new state in one transaction, so a kill loses at most the answer in flight.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlite_utils

from ..cards import Card
from ..store import reviews as store
from .days import next_day_start, require_aware
from .rating import Rating
from .settings import SchedulerSettings, load_settings

__all__ = ["ReviewOutcome", "bury", "fsrs_id", "next_state", "record_review", "suspend",
           "undo_last_review", "unsuspend"]

_STATE_NAMES = {1: "learning", 2: "review", 3: "relearning"}


@dataclass(frozen=True)
class ReviewOutcome:
    """What recording a review did: its log id and the card's new schedule.

    ``became_leech`` is true on the review that made the card a leech (it is
    then tagged ``leech`` and suspended): the app should say so.
    """

    review_id: int
    card_id: str
    rating: Rating
    state: str
    due: datetime
    reviewed_at: datetime
    lapses: int
    became_leech: bool
    suspended: bool

    @property
    def interval(self) -> timedelta:
        """How long until the card comes back."""
        return self.due - self.reviewed_at


def fsrs_id(card_id: str) -> int:
    """A stable integer for a card id: fsrs cards and review logs want ints."""
    return int.from_bytes(hashlib.blake2b(card_id.encode(), digest_size=6).digest(), "big")


def _fuzzed_days(days: int, *, maximum: int, seed: str) -> int:
    """``days`` spread by FSRS's fuzz ranges, drawn from ``seed`` (Anki seeds it per card and rep).

    fsrs's own fuzz draws from the process-wide RNG; a seeded draw keeps
    schedules reproducible and lands an undone-then-redone review on the same day.
    """
    from fsrs.scheduler import FUZZ_RANGES

    if days < 2.5:
        return days
    delta = 1.0
    for r in FUZZ_RANGES:
        delta += r["factor"] * max(min(float(days), r["end"]) - r["start"], 0.0)
    high = min(round(days + delta), maximum)
    low = min(max(2, round(days - delta)), high)
    return min(round(random.Random(seed).random() * (high - low + 1) + low), maximum)


def next_state(state: dict[str, Any], rating: Rating, *, now: datetime,
               settings: SchedulerSettings) -> tuple[dict[str, Any], bool]:
    """The card_state row after a review rated ``rating`` at ``now``, and whether it became a leech.

    A lapse is a card in review state rated Again. A card becomes a leech at
    ``leech_lapses`` lapses and again every half of that after (as in Anki),
    and is then flagged and suspended.
    """
    from fsrs import Card as FsrsCard

    when = require_aware(now).astimezone(timezone.utc)  # fsrs wants UTC
    card_id = state["card_id"]
    if state["fsrs"]:
        card = FsrsCard.from_json(state["fsrs"])
    else:
        card = FsrsCard(card_id=fsrs_id(card_id), due=when)
    new, _ = settings.scheduler().review_card(card, Rating(rating), review_datetime=when)
    reps = state["reps"] + 1
    if settings.fuzz and new.state.value == 2:
        days = round((new.due - when) / timedelta(days=1))
        fuzzed = _fuzzed_days(days, maximum=settings.maximum_interval, seed=f"{card_id}:{reps}")
        new.due = when + timedelta(days=fuzzed)
    lapsed = state["state"] == "review" and rating == Rating.Again
    lapses = state["lapses"] + lapsed
    threshold = settings.leech_lapses
    became_leech = lapsed and lapses >= threshold and (
        (lapses - threshold) % max(1, threshold // 2) == 0)
    after = {**state, "fsrs": new.to_json(), "due": store.iso(new.due),
             "state": _STATE_NAMES[new.state.value], "reps": reps, "lapses": lapses,
             "last_review": store.iso(when)}
    if became_leech:
        after.update(leech=1, suspended=1)
    return after, became_leech


def record_review(db: sqlite_utils.Database, card: Card | str, *, rating: Rating | int,
                  now: datetime, answer: str = "", verdict: str = "", feedback: str = "",
                  duration_ms: int = 0, seed: int | None = None,
                  settings: SchedulerSettings | None = None) -> ReviewOutcome:
    """Log one review and store the card's new FSRS state, in one transaction.

    ``card`` is a card or its id (``KeyError`` if the database lacks it). The
    log row keeps the answer, verdict, feedback, duration, grading seed, the
    card's content hash and the whole state before and after, so that
    :func:`undo_last_review` can put it back exactly.
    """
    settings = settings or load_settings(db)
    card_id, card_hash = _identify(db, card)
    rating = Rating(rating)
    reviewed_at = store.iso(now)
    leech: list[bool] = []

    def decide(before: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        after, became_leech = next_state(before, rating, now=now, settings=settings)
        leech.append(became_leech)
        return {"reviewed_at": reviewed_at, "rating": int(rating), "verdict": verdict,
                "answer": answer, "feedback": feedback, "duration_ms": int(duration_ms),
                "seed": seed, "card_hash": card_hash}, after

    review_id, after = store.apply_review(db, card_id, decide)
    return ReviewOutcome(review_id=review_id, card_id=card_id, rating=rating,
                         state=after["state"], due=datetime.fromisoformat(after["due"]),
                         reviewed_at=datetime.fromisoformat(reviewed_at),
                         lapses=after["lapses"], became_leech=leech[-1],
                         suspended=bool(after["suspended"]))


def _identify(db: sqlite_utils.Database, card: Card | str) -> tuple[str, str]:
    """(id, content hash) of the card as the learner saw it; ``KeyError`` if the db lacks it."""
    card_id = card.id if isinstance(card, Card) else card
    row = db.conn.execute("SELECT hash FROM cards WHERE id = ?", [card_id]).fetchone()
    if row is None:
        raise KeyError(card_id)
    return card_id, card.content_hash() if isinstance(card, Card) else row[0]


def undo_last_review(db: sqlite_utils.Database) -> str | None:
    """Take back the newest review: its state is restored exactly and its log row deleted.

    Returns the card id (for the app to show that card again), or ``None``
    when there is nothing to undo.
    """
    return store.undo_last(db)


def bury(db: sqlite_utils.Database, card_id: str, now: datetime,
         settings: SchedulerSettings | None = None) -> datetime:
    """Hide a card until the learner's next day begins; return that moment."""
    settings = settings or load_settings(db)
    until = next_day_start(now, settings.day_start_hour)
    store.set_state_fields(db, card_id, buried_until=store.iso(until))
    return until


def suspend(db: sqlite_utils.Database, card_id: str) -> None:
    """Take a card out of every queue until it is unsuspended; its schedule is kept."""
    store.set_state_fields(db, card_id, suspended=1)


def unsuspend(db: sqlite_utils.Database, card_id: str) -> None:
    """Put a suspended card (a leech too) back into the queues where its schedule says."""
    store.set_state_fields(db, card_id, suspended=0)

