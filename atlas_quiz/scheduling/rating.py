"""From a graded answer to an FSRS rating."""

from __future__ import annotations

from fsrs import Rating

__all__ = ["FAST_SECONDS", "FAILED_VERDICTS", "Rating", "rating_for"]

FAILED_VERDICTS = frozenset({"wrong", "error", "timeout"})
# A correct answer this quick (seconds, by card kind) is rated Easy: typing a shape is
# quicker than writing an expression, and a kernel body takes minutes.
FAST_SECONDS = {"shape": 8.0, "output": 10.0, "expr": 20.0, "symbolic": 25.0, "kernel": 90.0,
                "recall": 5.0}


def rating_for(verdict: str, *, used_hint: bool = False, retried: bool = False,
               duration_s: float, fast_s: float = 15.0) -> Rating:
    """The rating a graded answer earns, so the learner never has to rate by hand.

    Wrong, error or timeout: Again. Correct after a hint or a retry: Hard (the
    memory needed help). Correct within ``fast_s`` seconds: Easy. Otherwise
    Good. ``FAST_SECONDS[card.kind]`` is a sensible ``fast_s``.
    """
    if verdict in FAILED_VERDICTS:
        return Rating.Again
    if verdict != "correct":
        raise ValueError(f"unknown verdict {verdict!r}: expected correct, wrong, error or timeout")
    if used_hint or retried:
        return Rating.Hard
    return Rating.Easy if duration_s <= fast_s else Rating.Good
