"""The end: the answers are handed in. No grade and no verdict here: the instructor grades later."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

__all__ = ["HandedInScreen"]


class HandedInScreen(Screen):
    """Says that (and why) the exam ended and how many questions were answered."""

    BINDINGS = [Binding("q,escape,ctrl+q", "app.quit", "Close")]

    def __init__(self, reason: str, answered: int, total: int, where: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reason, self.answered, self.total, self.where = reason, answered, total, where

    def compose(self) -> ComposeResult:
        """How the exam ended and what happens next."""
        head = "Time is up: your answers were handed in." if self.reason == "time up" \
            else "Your answers are handed in."
        with Vertical(id="handed-in"):
            yield Static(head, id="handed-in-title")
            yield Static(f"{self.answered} of {self.total} questions answered. "
                         "Your instructor will grade them and send you feedback.")
            yield Static(f"Saved: {self.where}", id="handed-in-where")
            yield Static("Press q to close.", classes="dim")
