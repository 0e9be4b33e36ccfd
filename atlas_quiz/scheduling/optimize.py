"""Fit FSRS parameters to the learner's own review log (``atlas-quiz optimize``).

fsrs's Optimizer learns only from reviews made on a later day than the card's
previous review, and below one mini-batch of those (512) it quietly returns
its defaults; we count them first, without torch, and refuse with the count
when there are too few. The fit itself imports torch, inside :func:`optimize`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlite_utils

from ..store.meta import set_meta
from ..store.reviews import iso, review_rows
from .review import fsrs_id
from .settings import load_settings, save_settings

__all__ = ["MIN_REVIEWS", "OPTIMIZED_KEY", "OptimizeReport", "RetentionEstimate",
           "count_usable", "optimize", "retention_estimate", "review_logs"]

MIN_REVIEWS = 512  # fsrs.optimizer.mini_batch_size: fewer and the fit returns the defaults
OPTIMIZED_KEY = "scheduler.optimized"


@dataclass(frozen=True)
class RetentionEstimate:
    """How well a parameter set predicts the log: mean predicted recall against the real rate.

    Over the reviews the optimizer learns from; ``log_loss`` is the binary
    cross-entropy it minimises (lower is better).
    """

    reviews: int
    actual: float
    predicted: float
    log_loss: float


@dataclass(frozen=True)
class OptimizeReport:
    """What ``optimize`` found: counts, and the old and new fit when there was enough data."""

    reviews: int
    usable: int
    needed: int
    old_parameters: tuple[float, ...]
    new_parameters: tuple[float, ...] | None = None
    old_estimate: RetentionEstimate | None = None
    new_estimate: RetentionEstimate | None = None
    saved: bool = False

    @property
    def enough(self) -> bool:
        """Whether the log held enough usable reviews to fit."""
        return self.usable >= self.needed

    def to_dict(self) -> dict:
        """JSON-ready, for ``--json`` and the ``meta`` record."""
        return {**asdict(self), "enough": self.enough}


def review_logs(db: sqlite_utils.Database) -> list:
    """The whole review log as fsrs ``ReviewLog`` objects, oldest first."""
    from fsrs import Rating, ReviewLog

    return [ReviewLog(card_id=fsrs_id(card_id), rating=Rating(rating),
                      review_datetime=datetime.fromisoformat(at), review_duration=duration)
            for card_id, at, rating, duration in review_rows(db)]


def _histories(logs: list) -> dict[int, list]:
    cards: dict[int, list] = {}
    for log in sorted(logs, key=lambda log: log.review_datetime):
        cards.setdefault(log.card_id, []).append(log)
    return cards


def count_usable(logs: list) -> int:
    """Reviews the optimizer learns from: those on a later day than the card's previous review.

    The same rule, and the same cap of 64 reviews per card, as fsrs's Optimizer.
    """
    usable = 0
    for history in _histories(logs).values():
        history = history[:64]
        usable += sum(1 for prev, cur in zip(history, history[1:], strict=False)
                      if (cur.review_datetime - prev.review_datetime).days > 0)
    return usable


def retention_estimate(logs: list, parameters: tuple[float, ...] | list[float]
                       ) -> RetentionEstimate:
    """Replay the log under ``parameters`` and compare predicted with actual recall (no torch)."""
    from fsrs import Card, Rating, Scheduler

    scheduler = Scheduler(parameters=parameters, enable_fuzzing=False)
    n, recalled, predicted, loss = 0, 0, 0.0, 0.0
    for card_id, history in _histories(logs).items():
        card = Card(card_id=card_id, due=history[0].review_datetime)
        for log in history[:64]:
            when = log.review_datetime
            if card.last_review and (when - card.last_review).days > 0:
                p = min(max(scheduler.get_card_retrievability(card, when), 1e-6), 1 - 1e-6)
                y = log.rating != Rating.Again
                n, recalled, predicted = n + 1, recalled + y, predicted + p
                loss -= math.log(p) if y else math.log(1 - p)
            card, _ = scheduler.review_card(card, log.rating, review_datetime=when)
    if n == 0:
        return RetentionEstimate(0, 0.0, 0.0, 0.0)
    return RetentionEstimate(n, recalled / n, predicted / n, loss / n)


def optimize(db: sqlite_utils.Database, *, now: datetime, save: bool = True,
             minimum: int = MIN_REVIEWS) -> OptimizeReport:
    """Fit FSRS parameters to the log; when ``save``, store them so the scheduler uses them.

    With fewer than ``minimum`` usable reviews nothing is fitted or saved: the
    report says how many there are and how many are needed. Imports torch.
    """
    from fsrs.scheduler import DEFAULT_PARAMETERS

    settings = load_settings(db)
    old = tuple(settings.parameters or DEFAULT_PARAMETERS)
    logs = review_logs(db)
    usable = count_usable(logs)
    report = OptimizeReport(reviews=len(logs), usable=usable, needed=minimum, old_parameters=old)
    if usable < minimum:
        return report
    from fsrs import Optimizer  # torch: only here, never in the review app's process

    new = tuple(float(p) for p in Optimizer(logs).compute_optimal_parameters())
    report = OptimizeReport(reviews=len(logs), usable=usable, needed=minimum, old_parameters=old,
                            new_parameters=new, old_estimate=retention_estimate(logs, old),
                            new_estimate=retention_estimate(logs, new), saved=save)
    if save:
        save_settings(db, settings.with_changes(parameters=new))
        set_meta(db, OPTIMIZED_KEY, json.dumps({"at": iso(now), **report.to_dict()}))
    return report
