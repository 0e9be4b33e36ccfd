"""Scheduling with FSRS: the daily queue, recording reviews, leeches, undo, stats data.

Depends on ``fsrs`` and the store; never on torch or textual (the optimizer's
torch is imported inside :func:`optimize` only, which the CLI runs). Every
function takes the time as ``now=`` (timezone-aware; the learner's day starts
at ``settings.day_start_hour`` in ``now``'s timezone, so pass
``datetime.now().astimezone()``).

Daily review, as the app drives it::

    queue = ReviewQueue.build(db, now=now, decks=None, tags=None)  # ~1 ms for 400 cards
    card = queue.next()                       # Card | None; stays first until acted on
    new, learning, review = queue.counts()
    rating = rating_for(result.verdict, used_hint=False, retried=False,
                        duration_s=12.0, fast_s=fast_seconds(card.kind, card.reference))
    outcome = queue.answer(card, rating=rating, now=now, answer=text, verdict=result.verdict,
                           feedback=result.feedback, duration_ms=12_000, seed=seed)
    outcome.review_id, outcome.due, outcome.state, outcome.became_leech
    queue.skip(card.id); queue.bury(card.id, now); queue.suspend(card.id, now)
    queue.undo(now)                           # -> card id shown again first, or None

The same actions without a queue: :func:`record_review` (log row and new FSRS
state in one transaction; returns :class:`ReviewOutcome`),
:func:`undo_last_review`, :func:`bury`, :func:`suspend`, :func:`unsuspend`.

- :class:`Rating` is fsrs's (Again=1, Hard=2, Good=3, Easy=4); :func:`rating_for`
  maps a verdict to it (wrong/error/timeout: Again; correct: Good, Easy when
  faster than :func:`fast_seconds` (thought by kind plus typing the expected
  answer); correct after a hint or retry: Hard).
- :class:`SchedulerSettings` (desired retention 0.9, :class:`Limits` of 20 new
  and 200 reviews a day, leech at 8 lapses, learning steps 1 and 10 minutes,
  fitted parameters) lives in the ``meta`` table: :func:`load_settings`,
  :func:`save_settings`.
- Queue order: learning and relearning cards due now, then reviews due today
  (oldest due first), then new cards in deck order, then learning cards due
  within ``learn_ahead`` (20 min); skipped cards last. A leech is suspended
  and flagged (``card_state.leech``); ``tags=["leech"]`` selects leeches.
- Stats (plain dataclasses, for the stats screen): :func:`reviews_per_day`,
  :func:`due_forecast`, :func:`true_retention`, :func:`cards_by_state`,
  :func:`mastery_by_chapter`, or all at once with :func:`collect_stats`.
- :func:`optimize` fits FSRS parameters from the learner's log once it holds
  :data:`MIN_REVIEWS` reviews that count (``atlas-quiz optimize``).
"""

from .optimize import MIN_REVIEWS, OptimizeReport, RetentionEstimate, optimize, retention_estimate
from .queue import ReviewQueue
from .rating import Rating, fast_seconds, rating_for
from .review import (
    ReviewOutcome,
    bury,
    next_state,
    record_review,
    suspend,
    undo_last_review,
    unsuspend,
)
from .settings import Limits, SchedulerSettings, load_settings, save_settings
from .stats import (
    ChapterMastery,
    DayCount,
    Retention,
    Stats,
    cards_by_state,
    collect_stats,
    due_forecast,
    mastery_by_chapter,
    reviews_per_day,
    true_retention,
)

__all__ = [
    "MIN_REVIEWS",
    "ChapterMastery",
    "DayCount",
    "Limits",
    "OptimizeReport",
    "Rating",
    "Retention",
    "RetentionEstimate",
    "ReviewOutcome",
    "ReviewQueue",
    "SchedulerSettings",
    "Stats",
    "bury",
    "cards_by_state",
    "collect_stats",
    "due_forecast",
    "fast_seconds",
    "load_settings",
    "mastery_by_chapter",
    "next_state",
    "optimize",
    "rating_for",
    "record_review",
    "retention_estimate",
    "reviews_per_day",
    "save_settings",
    "suspend",
    "true_retention",
    "undo_last_review",
    "unsuspend",
]
