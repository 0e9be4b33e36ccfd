"""Scheduler settings (limits, retention, steps, leech threshold), kept in the ``meta`` table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import timedelta
from typing import Any

import sqlite_utils

from ..store.meta import get_meta, set_meta

__all__ = ["SETTINGS_KEY", "Limits", "SchedulerSettings", "load_settings", "save_settings"]

SETTINGS_KEY = "scheduler.settings"


@dataclass(frozen=True)
class Limits:
    """How many new cards and reviews a day brings at most (all decks together)."""

    new_per_day: int = 20
    reviews_per_day: int = 200


@dataclass(frozen=True)
class SchedulerSettings:
    """Everything that shapes a schedule; the defaults are FSRS's and Anki's.

    ``parameters`` is ``None`` until ``atlas-quiz optimize`` fits the learner's
    own; ``fuzz`` spreads review intervals a little (seeded per card and
    review, so a schedule is reproducible); a day starts at ``day_start_hour``
    in the timezone of the ``now`` given (4 am, as in Anki, so a late session
    counts for the evening it began); learning cards due within ``learn_ahead``
    are shown early once nothing else is left.
    """

    desired_retention: float = 0.9
    limits: Limits = field(default_factory=Limits)
    leech_lapses: int = 8
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval: int = 36500
    parameters: tuple[float, ...] | None = None
    fuzz: bool = True
    day_start_hour: int = 4
    learn_ahead: timedelta = timedelta(minutes=20)

    def __post_init__(self) -> None:
        problems = []
        if not 0.5 <= self.desired_retention < 1:
            problems.append(f"desired_retention {self.desired_retention} is not in [0.5, 1)")
        if self.limits.new_per_day < 0 or self.limits.reviews_per_day < 0:
            problems.append(f"daily limits must not be negative: {self.limits}")
        if self.leech_lapses < 1:
            problems.append(f"leech_lapses {self.leech_lapses} must be at least 1")
        if not 0 <= self.day_start_hour < 24:
            problems.append(f"day_start_hour {self.day_start_hour} is not in 0..23")
        if self.maximum_interval < 1:
            problems.append(f"maximum_interval {self.maximum_interval} must be at least 1 day")
        if problems:
            raise ValueError("; ".join(problems))

    def scheduler(self):
        """The fsrs Scheduler for these settings (fsrs's own fuzz off: ours is seeded)."""
        from fsrs import Scheduler

        extra = {} if self.parameters is None else {"parameters": self.parameters}
        return Scheduler(desired_retention=self.desired_retention,
                         learning_steps=self.learning_steps,
                         relearning_steps=self.relearning_steps,
                         maximum_interval=self.maximum_interval,
                         enable_fuzzing=False, **extra)

    def with_changes(self, **changes: Any) -> SchedulerSettings:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: durations in seconds; :meth:`from_dict` reads it back."""
        d = asdict(self)
        for key in ("learning_steps", "relearning_steps"):
            d[key] = [step.total_seconds() for step in getattr(self, key)]
        d["learn_ahead"] = self.learn_ahead.total_seconds()
        d["parameters"] = None if self.parameters is None else list(self.parameters)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SchedulerSettings:
        """Read back :meth:`to_dict`; missing keys take their defaults, unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown scheduler settings: {', '.join(sorted(extra))}")
        d = dict(data)
        if "limits" in d:
            d["limits"] = Limits(**d["limits"])
        for key in ("learning_steps", "relearning_steps"):
            if key in d:
                d[key] = tuple(timedelta(seconds=s) for s in d[key])
        if "learn_ahead" in d:
            d["learn_ahead"] = timedelta(seconds=d["learn_ahead"])
        if d.get("parameters") is not None:
            d["parameters"] = tuple(float(p) for p in d["parameters"])
        return cls(**d)


def load_settings(db: sqlite_utils.Database) -> SchedulerSettings:
    """The settings saved in ``db``, or the defaults when none were saved."""
    text = get_meta(db, SETTINGS_KEY)
    return SchedulerSettings.from_dict(json.loads(text)) if text else SchedulerSettings()


def save_settings(db: sqlite_utils.Database, settings: SchedulerSettings) -> None:
    """Store ``settings`` in ``db``; every later queue and review uses them."""
    set_meta(db, SETTINGS_KEY, json.dumps(settings.to_dict()))
