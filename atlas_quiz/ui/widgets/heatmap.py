"""Reviews per day as a calendar heatmap: a column per week, a row per weekday, darker is more."""

from __future__ import annotations

from datetime import date, timedelta

from rich.text import Text
from textual.widget import Widget

__all__ = ["ReviewHeatmap", "heatmap_text"]

_LEVELS = ("grey23", "dark_green", "green4", "green3", "green1")
_DAYS = ("Mon", "   ", "Wed", "   ", "Fri", "   ", "Sun")


def _level(count: int, top: int) -> int:
    if count <= 0 or top <= 0:
        return 0
    return min(4, 1 + (4 * (count - 1)) // top)


def heatmap_text(days: list[tuple[date, int]], weeks: int) -> Text:
    """The last ``weeks`` weeks of ``(day, count)`` pairs (oldest first) as coloured squares."""
    counts = dict(days)
    last = days[-1][0] if days else date.today()
    first = last - timedelta(days=last.weekday()) - timedelta(weeks=weeks - 1)
    top = max((c for d, c in days if d >= first), default=0)
    out = Text()
    months = [" "] * (weeks * 2 + 2)
    for w in range(weeks):
        monday = first + timedelta(weeks=w)
        if monday.day <= 7:  # the first week of a month carries its name
            months[w * 2:w * 2 + 3] = list(f"{monday:%b}")
    out.append("    " + "".join(months).rstrip() + "\n")
    for weekday in range(7):
        out.append(_DAYS[weekday] + " ", style="dim")
        for w in range(weeks):
            day = first + timedelta(weeks=w, days=weekday)
            if day > last:
                out.append("  ")
                continue
            out.append("■ ", style=_LEVELS[_level(counts.get(day, 0), top)])
        out.append("\n")
    total = sum(c for d, c in days if d >= first)
    out.append(f"{total} reviews in the last {weeks} weeks; busiest day {top}", style="dim")
    return out


class ReviewHeatmap(Widget):
    """As many weeks as fit the width (at most a year)."""

    DEFAULT_CSS = """
    ReviewHeatmap { height: 9; }
    """

    def __init__(self, days: list[tuple[date, int]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.days = days

    def render(self) -> Text:
        """The heatmap at the current width."""
        weeks = max(4, min(53, ((self.content_size.width or 80) - 4) // 2))
        return heatmap_text(self.days, weeks)
