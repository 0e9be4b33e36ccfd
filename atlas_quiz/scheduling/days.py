"""Where a learner's day begins and ends: in the timezone of ``now``, from a rollover hour."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["day_of", "day_start", "next_day_start", "require_aware"]


def require_aware(now: datetime) -> datetime:
    """``now`` itself, refused when naive: a day boundary or an FSRS due date needs a timezone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return now


def day_of(now: datetime, hour: int) -> date:
    """The learner's date at ``now``: before ``hour`` o'clock it is still the day before."""
    return (require_aware(now) - timedelta(hours=hour)).date()


def day_start(now: datetime, hour: int) -> datetime:
    """The moment (UTC) the learner's current day began."""
    local = require_aware(now)
    start = datetime.combine(day_of(local, hour), datetime.min.time(), local.tzinfo)
    return (start + timedelta(hours=hour)).astimezone(timezone.utc)


def next_day_start(now: datetime, hour: int) -> datetime:
    """The moment (UTC) the learner's next day begins: when buried cards come back."""
    local = require_aware(now)
    start = datetime.combine(day_of(local, hour) + timedelta(days=1), datetime.min.time(),
                             local.tzinfo)
    return (start + timedelta(hours=hour)).astimezone(timezone.utc)
