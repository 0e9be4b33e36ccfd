"""One review session, without Textual: which card is up, with which seed, what was done, the summary.

The screens only draw what this says and call its methods, so the rules (a
seed per review, a hint caps the rating, an answer the grader cannot read costs
no review, a review is recorded the moment it is rated, undo brings the card
back with its answer) are testable without a terminal. It drives
:class:`atlas_quiz.scheduling.ReviewQueue`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlite_utils

from ..cards import Card, instantiate
from ..grading.result import GradeResult
from ..scheduling import Rating, ReviewOutcome, ReviewQueue, fast_seconds, rating_for

__all__ = ["Recorded", "ReviewSession", "SessionSummary", "Shown", "local_now", "reference_answer"]


def local_now() -> datetime:
    """Now, aware, in the local timezone: the learner's day starts at a local hour."""
    return datetime.now(timezone.utc).astimezone()


def reference_answer(card: Card, result: GradeResult | None = None) -> str:
    """A correct answer to ``card`` (as shown): the reference, the formula, or the expected value.

    The result panel shows it, and its length sets how fast an Easy answer is.
    """
    if card.known_answer():
        return card.known_answer()
    expected = (result.details or {}).get("expected") if result else None
    if isinstance(expected, list):
        return "(" + ", ".join(map(str, expected)) + ("," if len(expected) == 1 else "") + ")"
    return str(expected) if expected is not None else "(see the feedback above)"


@dataclass
class Shown:
    """The card on screen: as stored (graded and recorded) and as this review shows it (``view``)."""

    card: Card
    view: Card
    seed: int
    started: float
    hinted: bool = False
    retried: bool = False  # back after an undo: the learner has seen the reference
    answer: str = ""  # put back in the editor after an undo
    submitted: float | None = None

    @property
    def cap(self) -> str:
        """Why this review is Hard at best ("" when it is not): a hint, or an answer given again
        after an undo."""
        return "hint used" if self.hinted else "answered again after an undo" if self.retried else ""


@dataclass
class Recorded:
    """A review this session wrote, with what it takes to write it again under another rating."""

    shown: Shown
    outcome: ReviewOutcome
    fields: dict[str, Any]


@dataclass
class SessionSummary:
    """What the summary screen shows."""

    reviewed: int
    correct: int
    graded: int
    seconds: float
    next_due: datetime | None
    left: tuple[int, int, int]
    ratings: dict[int, int] = field(default_factory=dict)
    scope: str = ""  # "deck 000_07, tag attention" when the session was filtered: counts are of those


class ReviewSession:
    """Today's queue plus the state of the card on screen; time and randomness are parameters."""

    def __init__(self, db: sqlite_utils.Database, *, decks: list[str] | None = None,
                 tags: list[str] | None = None, now: Callable[[], datetime] = local_now,
                 clock: Callable[[], float] = time.monotonic, seed: int | None = None) -> None:
        self.db = db
        self._now = now
        self._clock = clock
        self._rng = random.Random(seed)
        self.queue = ReviewQueue.build(db, now=now(), decks=decks, tags=tags)
        self.scope = ", ".join([*(f"deck {d}" for d in decks or ()), *(f"tag {t}" for t in tags or ())])
        self.current: Shown | None = None
        self.log: list[Recorded] = []

    def now(self) -> datetime:
        """The session's idea of now (fixed in tests)."""
        return self._now()

    def show_next(self) -> Shown | None:
        """Put the queue's next card up with a fresh seed; ``None`` when nothing is due."""
        card = self.queue.next()
        if card is None:
            self.current = None
            return None
        seed = self._rng.randrange(1 << 31)
        self.current = Shown(card, instantiate(card, seed), seed, self._clock())
        return self.current

    def has_hint(self) -> bool:
        """Whether the card on screen has a hint to show (most cards have none)."""
        return self.current is not None and bool(self.current.view.hint)

    def hint(self) -> str:
        """Mark the hint as seen (a correct answer is then Hard at best) and return it.

        A card without a hint shows nothing, so nothing is marked: no rating is
        capped for a hint the learner never saw.
        """
        assert self.current is not None
        if self.current.view.hint:
            self.current.hinted = True
        return self.current.view.hint

    def submit(self) -> float:
        """Stop the clock on the current card; return the seconds spent (grading is not counted)."""
        assert self.current is not None
        self.current.submitted = self._clock()
        return self.current.submitted - self.current.started

    def resume(self) -> None:
        """The answer came back unread (a typo): the clock runs on as if it was never submitted."""
        assert self.current is not None
        self.current.submitted = None

    def suggested_rating(self, result: GradeResult) -> int:
        """The rating the grade earns: Again, Hard after a hint, Good, or Easy when faster than
        thinking and typing the expected answer (:func:`atlas_quiz.scheduling.fast_seconds`)."""
        shown = self.current
        assert shown is not None
        spent = (shown.submitted or self._clock()) - shown.started
        fast = fast_seconds(shown.card.kind, reference_answer(shown.view, result))
        return int(rating_for(result.verdict, used_hint=shown.hinted, retried=shown.retried,
                              duration_s=spent, fast_s=fast))

    def record(self, rating: int, *, answer: str = "", verdict: str = "",
               feedback: str = "") -> ReviewOutcome:
        """Write the review now (a kill later loses nothing); a hint or an undo caps the rating
        at Hard."""
        shown = self.current
        assert shown is not None
        if shown.cap:
            rating = min(rating, int(Rating.Hard))
        spent = (shown.submitted or self._clock()) - shown.started
        fields = {"answer": answer, "verdict": verdict, "feedback": feedback,
                  "duration_ms": round(spent * 1000), "seed": shown.seed}
        outcome = self.queue.answer(shown.card, rating=rating, now=self.now(), **fields)
        self.log.append(Recorded(shown, outcome, fields))
        return outcome

    def rerate(self, rating: int) -> ReviewOutcome:
        """Replace the last review's rating: undo it and write it again with the same answer."""
        last = self.log.pop()
        self.queue.undo(self.now())
        self.current = last.shown
        return self.record(rating, answer=last.fields["answer"], verdict=last.fields["verdict"],
                           feedback=last.fields["feedback"])

    def skip(self) -> None:
        """Move the current card behind every other card due; nothing is recorded."""
        if self.current:
            self.queue.skip(self.current.card.id)

    def bury(self) -> datetime | None:
        """Hide the current card until tomorrow."""
        return self.queue.bury(self.current.card.id, self.now()) if self.current else None

    def suspend(self) -> None:
        """Take the current card out of the queues until it is unsuspended."""
        if self.current:
            self.queue.suspend(self.current.card.id, self.now())

    def undo(self) -> Shown | None:
        """Take back the newest review; its card comes up again with the numbers and the answer
        it had. The learner has seen the reference by then, so the new answer is Hard at best."""
        card_id = self.queue.undo(self.now())
        if card_id is None:
            return None
        shown = self.show_next()
        if shown is not None and self.log and self.log[-1].outcome.card_id == card_id == shown.card.id:
            last = self.log.pop()
            shown.seed, shown.view = last.shown.seed, last.shown.view
            shown.answer, shown.hinted = last.fields["answer"], last.shown.hinted
        if shown is not None:
            shown.retried = True
        return shown

    def summary(self) -> SessionSummary:
        """Cards done, correct, time spent and when the next card falls due.

        A card still in the queue (the session ended early) is due now; otherwise
        the earliest of this session's cards and the learning cards due later today.
        Each card counts by its latest review only: a learning step due a minute
        after an Again is moot once the card was answered again.
        """
        latest = {r.outcome.card_id: r.outcome for r in self.log}  # the log is oldest first
        dues = [o.due for o in latest.values() if not o.suspended]
        if self.queue.later_due:
            dues.append(self.queue.later_due)
        if self.queue.next_id() is not None:
            dues.append(self.now())
        ratings: dict[int, int] = {}
        for r in self.log:
            ratings[int(r.outcome.rating)] = ratings.get(int(r.outcome.rating), 0) + 1
        graded = [r for r in self.log if r.fields["verdict"]]
        return SessionSummary(
            reviewed=len(self.log), correct=sum(r.fields["verdict"] == "correct" for r in graded),
            graded=len(graded), seconds=sum(r.fields["duration_ms"] for r in self.log) / 1000,
            next_due=min(dues) if dues else None, left=self.queue.counts(), ratings=ratings,
            scope=self.scope)
