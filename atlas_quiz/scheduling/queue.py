"""Today's review queue: learning due first, then reviews, then new cards, within the daily limits.

Built the way Anki's scheduler builds it: three sub-queues gathered from the
database in one query (ids and states only, no card is parsed until shown),
limits counted against what today's log already holds, and rebuilt after every
change instead of patched (a rebuild over a few hundred cards costs about a
millisecond, see ``python -m atlas_quiz.bench queue``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

from ..cards import Card
from ..store import get_card
from ..store import reviews as store
from .days import day_start, next_day_start
from .rating import Rating
from .review import ReviewOutcome, bury, record_review, suspend, undo_last_review
from .settings import SchedulerSettings, load_settings

__all__ = ["ReviewQueue"]


class ReviewQueue:
    """The cards due now, in the order to show them.

    :meth:`next` gives the card to show; it stays first until it is answered,
    skipped, buried or suspended. Do those through the queue (:meth:`answer`,
    :meth:`skip`, :meth:`bury`, :meth:`suspend`, :meth:`undo`) and it stays
    current; after changing the database some other way, call :meth:`refresh`.
    """

    def __init__(self, db: sqlite_utils.Database, *, settings: SchedulerSettings,
                 decks: list[str] | None = None, tags: list[str] | None = None) -> None:
        self.db = db
        self.settings = settings
        self.decks = list(decks) if decks else None
        self.tags = list(tags) if tags else None
        self.built_at: datetime | None = None
        self._learning: list[str] = []   # due now
        self._review: list[str] = []
        self._new: list[str] = []
        self._ahead: list[str] = []      # learning due within learn_ahead
        self._later: str | None = None   # when the next learning card beyond that is due
        self._skipped: list[str] = []
        self._front: str | None = None   # an undone card, shown again first
        self._cache: dict[str, Card] = {}

    @classmethod
    def build(cls, db: sqlite_utils.Database, *, now: datetime, decks: list[str] | None = None,
              tags: list[str] | None = None,
              settings: SchedulerSettings | None = None) -> ReviewQueue:
        """The queue of the cards due at ``now`` (optionally only some decks or tags).

        Excludes suspended, buried (until the next day) and retired cards. New
        cards come in deck order; new cards and reviews stop at the daily limits
        less what was already done today. ``LookupError`` names an unknown deck.
        """
        queue = cls(db, settings=settings or load_settings(db), decks=decks, tags=tags)
        queue.refresh(now)
        return queue

    def refresh(self, now: datetime) -> None:
        """Read the queue again from the database as it is at ``now``."""
        s = self.settings
        today = day_start(now, s.day_start_hour)
        tomorrow = next_day_start(now, s.day_start_hour)
        now_s, ahead_s = store.iso(now), store.iso(now + s.learn_ahead)
        rows = store.queue_rows(self.db, now=now, horizon=tomorrow, decks=self.decks,
                                tags=self.tags)
        done = store.done_since(self.db, today)
        learning = [(due, cid) for cid, state, due, _ in rows
                    if state in ("learning", "relearning")]
        reviews = sorted((due, pos, cid) for cid, state, due, pos in rows if state == "review")
        self._learning = [cid for due, cid in sorted(learning) if due <= now_s]
        self._ahead = [cid for due, cid in sorted(learning) if now_s < due <= ahead_s]
        later = [due for due, _ in learning if due > ahead_s]
        self._later = min(later) if later else None
        review_room = max(0, s.limits.reviews_per_day - done.get("review", 0))
        self._review = [cid for _, _, cid in reviews[:review_room]]
        new_room = max(0, s.limits.new_per_day - done.get("new", 0))
        self._new = [cid for cid, state, _, _ in rows if state == "new"][:new_room]
        live = set(self._order())
        self._skipped = [cid for cid in self._skipped if cid in live]
        if self._front not in live:
            self._front = None
        self.built_at = now

    def _order(self) -> list[str]:
        return self._learning + self._review + self._new + self._ahead

    def _ordered_ids(self) -> list[str]:
        """Every queued id in showing order: an undone card first, skipped cards last."""
        skipped = set(self._skipped)
        ids = [cid for cid in self._order() if cid not in skipped and cid != self._front]
        ids += [cid for cid in self._skipped if cid != self._front]
        return ([self._front] if self._front else []) + ids

    def next_id(self) -> str | None:
        """The id of the card to show now, or ``None`` when nothing is due."""
        ids = self._ordered_ids()
        return ids[0] if ids else None

    def next(self) -> Card | None:
        """The card to show now, or ``None`` when nothing is due (see :attr:`later_due`)."""
        card_id = self.next_id()
        if card_id is None:
            return None
        if card_id not in self._cache:
            self._cache[card_id] = get_card(self.db, card_id)
        return self._cache[card_id]

    def counts(self) -> tuple[int, int, int]:
        """(new, learning, review) cards left: the three numbers a review screen shows."""
        return len(self._new), len(self._learning) + len(self._ahead), len(self._review)

    def __len__(self) -> int:
        return sum(self.counts())

    @property
    def later_due(self) -> datetime | None:
        """When the next learning card not yet in the queue falls due (later today), if any."""
        return datetime.fromisoformat(self._later) if self._later else None

    def answer(self, card: Card | str, *, rating: Rating | int, now: datetime,
               **review: Any) -> ReviewOutcome:
        """Record a review (see :func:`record_review` for the fields), then refresh."""
        outcome = record_review(self.db, card, rating=rating, now=now, settings=self.settings,
                                **review)
        self._skipped = [c for c in self._skipped if c != outcome.card_id]
        if self._front == outcome.card_id:
            self._front = None
        self.refresh(now)
        return outcome

    def skip(self, card_id: str) -> None:
        """Show this card after every other card still queued; the database is not touched."""
        self._skipped = [c for c in self._skipped if c != card_id] + [card_id]
        if self._front == card_id:
            self._front = None

    def bury(self, card_id: str, now: datetime) -> datetime:
        """Bury the card until tomorrow (see :func:`bury`) and drop it from the queue."""
        until = bury(self.db, card_id, now, self.settings)
        self.refresh(now)
        return until

    def suspend(self, card_id: str, now: datetime) -> None:
        """Suspend the card (see :func:`suspend`) and drop it from the queue."""
        suspend(self.db, card_id)
        self.refresh(now)

    def undo(self, now: datetime) -> str | None:
        """Undo the newest review; its card is shown again first. Returns its id, or ``None``."""
        card_id = undo_last_review(self.db)
        self._front = card_id
        self.refresh(now)
        return card_id
