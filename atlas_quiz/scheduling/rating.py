"""From a graded answer to an FSRS rating."""

from __future__ import annotations

from fsrs import Rating

__all__ = ["FAILED_VERDICTS", "THINK_SECONDS", "TYPING_CHARS_PER_SECOND", "Rating", "fast_seconds",
           "rating_for"]

FAILED_VERDICTS = frozenset({"wrong", "error", "timeout"})
# Seconds of thought a learner who knows the card cold still needs before typing, by kind:
# reading a shape off code is quick, a formula or a kernel body needs a plan first.
THINK_SECONDS = {"shape": 4.0, "output": 5.0, "expr": 5.0, "symbolic": 6.0, "kernel": 20.0,
                 "recall": 4.0}
# A brisk typist's pace on code (about 55 words a minute): brackets and underscores are slower
# than prose.
TYPING_CHARS_PER_SECOND = 4.5


def fast_seconds(kind: str, expected: str) -> float:
    """How quick a correct answer must be to be rated Easy: thought, then typing ``expected``.

    The rule: ``THINK_SECONDS[kind]`` plus the time it takes to type the
    expected answer (the reference, or the expected shape/value/formula) at
    ``TYPING_CHARS_PER_SECOND``, counting each run of whitespace once (the
    editor indents). So ``A * B`` is Easy within about 6 s, a two-line SVD
    within about 28 s. A learner who types the answer straight from memory
    earns Easy; one who has to work it out, however correctly, earns Good,
    the common outcome, as FSRS expects.
    """
    typed = len(" ".join(expected.split()))
    return THINK_SECONDS.get(kind, 5.0) + typed / TYPING_CHARS_PER_SECOND


def rating_for(verdict: str, *, used_hint: bool = False, retried: bool = False,
               duration_s: float, fast_s: float = 0.0) -> Rating:
    """The rating a graded answer earns, so the learner never has to rate by hand.

    Wrong, error or timeout: Again. Correct after a hint or a retry: Hard (the
    memory needed help). Correct within ``fast_s`` seconds: Easy. Otherwise
    Good. :func:`fast_seconds` gives the ``fast_s`` of a card; without one no
    answer is Easy.
    """
    if verdict in FAILED_VERDICTS:
        return Rating.Again
    if verdict != "correct":
        raise ValueError(f"unknown verdict {verdict!r}: expected correct, wrong, error or timeout")
    if used_hint or retried:
        return Rating.Hard
    return Rating.Easy if duration_s <= fast_s else Rating.Good
