"""What the learner sees after answering: the verdict, the first difference, the reference, why.

Prose goes through :func:`wrapped`, so Chinese feedback and explanations fill
their lines instead of breaking only at spaces.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static

from ...cards import Card
from ...cards.text import prose
from ...grading.result import GradeResult
from ..session import reference_answer
from .wrapped_text import wrapped

__all__ = ["HARD", "RATING_NAMES", "ResultPanel"]

RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
HARD = 2  # the best rating a review capped by a hint or an undo can have
_VERDICT_STYLE = {"correct": ("✓ correct", "bold green"), "wrong": ("✗ wrong", "bold red"),
                  "error": ("✗ error", "bold red"), "timeout": ("⧗ timeout", "bold yellow")}


def _code(text: str, lexer: str) -> Syntax:
    return Syntax(text, lexer, theme="monokai", background_color="default", word_wrap=True)


class ResultPanel(Static):
    """Filled by the review screen: waiting, graded, or revealed (for self-rating)."""

    _scroll_pending = False

    def scroll_on_resize(self) -> None:
        """Bring the panel's first line to the top of its scroll pane, now and once its new
        content is laid out (the pane cannot scroll to a height it has not measured yet)."""
        self._scroll_pending = True
        self.scroll_visible(top=True, animate=False)

    def on_resize(self) -> None:
        """The new content is laid out: finish the scroll asked for."""
        if self._scroll_pending:
            self._scroll_pending = False
            self.scroll_visible(top=True, animate=False)

    def show_waiting(self, message: str) -> None:
        """Say the answer is in the grader's hands, and why it may take a moment."""
        self.display = True
        self.update(wrapped(message, "italic yellow"))

    def show_unread(self, message: str) -> None:
        """The grader could not read the answer (a typo): say why; no verdict, no reference."""
        self.display = True
        self.update(Group(Text("Not graded: the answer could not be read. Fix it and submit again.",
                               style="bold yellow"), wrapped(message)))

    def show_graded(self, card: Card, result: GradeResult, rating: int, cap: str = "") -> None:
        """The verdict and the rating it gave (``cap``: why it is Hard at best), the first
        difference, the reference and ``explain``."""
        label, style = _VERDICT_STYLE.get(result.verdict, (result.verdict, "bold"))
        head = Text.assemble((label, style), f"  ({result.elapsed_ms:.0f} ms)   rated ",
                             (f"{rating} {RATING_NAMES[rating]}", "bold"))
        head.append(f"  ({cap}: Hard at best; 1-2 to change)" if cap else "  (1-4 to change)", style="dim")
        parts: list[RenderableType] = [head]
        if result.feedback and result.verdict != "correct":
            parts.append(wrapped(result.feedback))
        if result.output:
            parts += [Text("Your output:", style="dim"), Text(result.output)]
        self._fill(card, parts, result)

    def show_revealed(self, card: Card, note: str = "") -> None:
        """The answer without a verdict: for recall cards, or when the grader is unavailable."""
        parts: list[RenderableType] = []
        if note:
            parts.append(wrapped(note, "yellow"))
        self._fill(card, parts, None)

    def _fill(self, card: Card, parts: list[RenderableType], result: GradeResult | None) -> None:
        lexer = "python" if card.kind in ("expr", "kernel", "shape", "output") else "text"
        parts += [Text("Reference:", style="bold"), _code(reference_answer(card, result), lexer)]
        if card.explain:
            parts.append(wrapped(prose(card.explain)))
        if card.explain_zh:
            parts.append(wrapped(prose(card.explain_zh), "italic"))
        parts.append(Text(f"card {card.id}", style="dim"))  # not on the question: ids can tell
        self.display = True
        self.update(Group(*parts))

    def clear(self) -> None:
        """Hide the panel until the next answer."""
        self.update("")
        self.display = False
