"""The numbers behind the stats screen, as plain dataclasses: the UI only draws them.

Days are the learner's days (``settings.day_start_hour`` in ``now``'s timezone).
SQLite groups by day with ``now``'s UTC offset applied to every moment, so a
daylight-saving change inside the window shifts a review near midnight by an
hour at most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlite_utils

from ..store.reviews import iso
from .days import day_of, day_start
from .settings import SchedulerSettings, load_settings

__all__ = ["ChapterMastery", "DayCount", "Retention", "Stats", "cards_by_state",
           "collect_stats", "due_forecast", "mastery_by_chapter", "reviews_per_day",
           "true_retention"]

STATES = ("new", "learning", "review", "relearning", "suspended")


@dataclass(frozen=True)
class DayCount:
    """How many reviews (done, or falling due) on one of the learner's days."""

    day: date
    count: int


@dataclass(frozen=True)
class Retention:
    """Reviews of cards in review state, and how many were recalled (not rated Again)."""

    passed: int
    total: int

    @property
    def rate(self) -> float | None:
        """The true retention, or ``None`` before any such review."""
        return self.passed / self.total if self.total else None


@dataclass(frozen=True)
class ChapterMastery:
    """A chapter's live cards and how many of them are mastered (stable for weeks)."""

    chapter: str
    cards: int
    mastered: int

    @property
    def share(self) -> float:
        """Mastered cards over all cards of the chapter."""
        return self.mastered / self.cards if self.cards else 0.0


@dataclass(frozen=True)
class Stats:
    """Everything the stats screen shows, read in one call."""

    reviews_per_day: list[DayCount]
    due_forecast: list[DayCount]
    retention: dict[str, Retention]
    cards_by_state: dict[str, int]
    mastery: list[ChapterMastery] = field(default_factory=list)


def _day_shift(now: datetime, hour: int) -> str:
    """The SQLite modifier that turns a stored UTC moment into the learner's date."""
    offset = now.utcoffset() or timedelta(0)
    minutes = round(offset.total_seconds() / 60) - hour * 60
    return f"{minutes:+d} minutes"


def _dense(first: date, days: int, counts: dict[str, int]) -> list[DayCount]:
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        out.append(DayCount(day, counts.get(day.isoformat(), 0)))
    return out


def _hour(db: sqlite_utils.Database, settings: SchedulerSettings | None) -> int:
    return (settings or load_settings(db)).day_start_hour


def reviews_per_day(db: sqlite_utils.Database, *, now: datetime, days: int = 365,
                    settings: SchedulerSettings | None = None) -> list[DayCount]:
    """Reviews done on each of the last ``days`` days (today last, zeros included): the heatmap."""
    hour = _hour(db, settings)
    since = day_start(now, hour) - timedelta(days=days - 1)
    rows = db.conn.execute(
        "SELECT date(reviewed_at, ?) AS d, COUNT(*) FROM reviews WHERE reviewed_at >= ? "
        "GROUP BY d", [_day_shift(now, hour), iso(since)])
    return _dense(day_of(now, hour) - timedelta(days=days - 1), days, dict(rows.fetchall()))


def due_forecast(db: sqlite_utils.Database, *, now: datetime, days: int = 30,
                 settings: SchedulerSettings | None = None) -> list[DayCount]:
    """Cards falling due on each of the next ``days`` days; today's count includes overdue cards."""
    hour = _hour(db, settings)
    today = day_of(now, hour)
    until = day_start(now, hour) + timedelta(days=days)
    rows = db.conn.execute(
        "SELECT MAX(date(s.due, ?), ?) AS d, COUNT(*) FROM card_state s "
        "JOIN cards c ON c.id = s.card_id WHERE c.retired_at IS NULL AND s.suspended = 0 "
        "AND s.state != 'new' AND s.due < ? GROUP BY d",
        [_day_shift(now, hour), today.isoformat(), iso(until)])
    return _dense(today, days, dict(rows.fetchall()))


def true_retention(db: sqlite_utils.Database, *, now: datetime, days: int = 30,
                   settings: SchedulerSettings | None = None) -> Retention:
    """Share of review-state cards recalled over the last ``days`` days (today included).

    Learning steps are left out, as in Anki's true retention: they measure
    minutes-old memories, not the schedule.
    """
    since = day_start(now, _hour(db, settings)) - timedelta(days=days - 1)
    passed, total = db.conn.execute(
        "SELECT COALESCE(SUM(rating > 1), 0), COUNT(*) FROM reviews WHERE reviewed_at >= ? "
        "AND reviewed_at <= ? AND json_extract(state_before, '$.state') = 'review'",
        [iso(since), iso(now)]).fetchone()
    return Retention(passed, total)


def cards_by_state(db: sqlite_utils.Database) -> dict[str, int]:
    """Live cards by state (new, learning, review, relearning); suspended ones counted apart."""
    rows = db.conn.execute(
        "SELECT CASE WHEN COALESCE(s.suspended, 0) = 1 THEN 'suspended' "
        "ELSE COALESCE(s.state, 'new') END AS st, COUNT(*) FROM cards c "
        "LEFT JOIN card_state s ON s.card_id = c.id WHERE c.retired_at IS NULL GROUP BY st")
    counts = dict(rows.fetchall())
    return {state: counts.get(state, 0) for state in STATES}


def mastery_by_chapter(db: sqlite_utils.Database, *,
                       mature_days: float = 21.0) -> list[ChapterMastery]:
    """Per chapter (deck order): live cards, and those in review with stability >= ``mature_days``."""
    rows = db.conn.execute(
        "SELECT COALESCE(NULLIF(c.chapter, ''), c.deck) AS ch, COUNT(*), "
        "COALESCE(SUM(s.state = 'review' AND s.suspended = 0 "
        "AND json_extract(s.fsrs, '$.stability') >= ?), 0) "
        "FROM cards c LEFT JOIN card_state s ON s.card_id = c.id "
        "WHERE c.retired_at IS NULL GROUP BY ch ORDER BY MIN(c.position)", [mature_days])
    return [ChapterMastery(ch, total, mastered) for ch, total, mastered in rows]


def collect_stats(db: sqlite_utils.Database, *, now: datetime,
                  settings: SchedulerSettings | None = None) -> Stats:
    """All the stats screen needs; retention over the last 1, 7, 30 and 365 days."""
    settings = settings or load_settings(db)
    return Stats(
        reviews_per_day=reviews_per_day(db, now=now, settings=settings),
        due_forecast=due_forecast(db, now=now, settings=settings),
        retention={f"{d}d": true_retention(db, now=now, days=d, settings=settings)
                   for d in (1, 7, 30, 365)},
        cards_by_state=cards_by_state(db),
        mastery=mastery_by_chapter(db),
    )
