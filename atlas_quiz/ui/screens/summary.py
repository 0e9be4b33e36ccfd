"""The end of a session: cards done, how many right, time spent, when the next card is due."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..session import SessionSummary
from ..widgets.result_panel import RATING_NAMES

__all__ = ["SummaryScreen", "describe_due"]


def describe_due(due: datetime | None, now: datetime) -> str:
    """When a card is due, as a learner reads it: ``in 10 min``, ``in 3 h``, ``2026-11-30 (in 7 days)``."""
    if due is None:
        return "nothing scheduled"
    seconds = (due - now).total_seconds()
    if seconds <= 0:
        return "now"
    if seconds < 3600:
        return f"in {max(1, round(seconds / 60))} min"
    if seconds < 86400:
        return f"in {round(seconds / 3600)} h"
    days = round(seconds / 86400)
    return f"{due.astimezone(now.tzinfo):%Y-%m-%d} (in {days} day{'s' if days != 1 else ''})"


def summary_table(summary: SessionSummary, now: datetime) -> Table:
    """The summary as a two-column table."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Cards reviewed", str(summary.reviewed))
    correct = f"{summary.correct} of {summary.graded} graded"
    if summary.graded:
        correct += f" ({100 * summary.correct / summary.graded:.0f}%)"
    table.add_row("Correct", correct)
    minutes, seconds = divmod(round(summary.seconds), 60)
    table.add_row("Time answering", f"{minutes} min {seconds:02d} s")
    table.add_row("Ratings", "  ".join(f"{RATING_NAMES[r]} {summary.ratings.get(r, 0)}"
                                       for r in RATING_NAMES))
    new, learning, review = summary.left
    only = f" ({summary.scope} only)" if summary.scope else ""
    table.add_row("Still due today", f"new {new} · learning {learning} · review {review}{only}")
    table.add_row("Next card due", describe_due(summary.next_due, now) + only)
    return table


class SummaryScreen(Screen):
    """Shown when the queue is empty or the learner quits; every review is already saved."""

    CSS_PATH = "summary.tcss"
    BINDINGS = [
        Binding("q,escape,enter", "app.quit", "Quit"),
        Binding("t", "app.show_stats", "Stats"),
    ]

    def __init__(self, summary: SessionSummary, now: datetime, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summary = summary
        self.now = now

    def compose(self) -> ComposeResult:
        """A centred table: the session at a glance."""
        yield Header()
        title = "Session done" if self.summary.reviewed else "Nothing reviewed"
        with Center():
            yield Static(f"[b]{title}[/b]  ·  every review is saved", id="summary-title")
        with Center():
            yield Static(summary_table(self.summary, self.now), id="summary-table")
        yield Footer()
