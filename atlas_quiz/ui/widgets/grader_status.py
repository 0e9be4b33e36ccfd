"""One line that says whether answers can be graded yet: starting, ready, or why not."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

__all__ = ["GraderStatus"]


class GraderStatus(Static):
    """Shows the grading service's state; the screen sets ``status`` and ``detail``."""

    status: reactive[str] = reactive("starting")
    detail: reactive[str] = reactive("")

    def render(self) -> Text:
        """The state as a short, coloured line."""
        if self.status == "ready":
            return Text.assemble(("● ", "green"), f"grader ready ({self.detail})")
        if self.status == "failed":
            return Text.assemble(("● ", "red"), "grader unavailable: ",
                                 (self.detail.splitlines()[0] if self.detail else "", "red"),
                                 ("  (answers are shown for self-rating)", "dim"))
        return Text.assemble(("● ", "yellow"), "grader starting (loading torch in the background)")
