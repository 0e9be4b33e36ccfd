"""What the learner sees after answering: the verdict, the first difference, the reference, why."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static

from ...cards import Card
from ...grading.result import GradeResult

__all__ = ["RATING_NAMES", "ResultPanel", "reference_answer"]

RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
_VERDICT_STYLE = {"correct": ("✓ correct", "bold green"), "wrong": ("✗ wrong", "bold red"),
                  "error": ("✗ error", "bold red"), "timeout": ("⧗ timeout", "bold yellow")}


def reference_answer(card: Card, result: GradeResult | None = None) -> str:
    """A correct answer to show: the reference, the expected formula, or the first accepted answer."""
    if card.kind in ("expr", "kernel"):
        return card.reference
    if card.kind in ("symbolic", "recall"):
        return card.answer
    if card.accept:
        return card.accept[0]
    expected = (result.details or {}).get("expected") if result else None
    if isinstance(expected, list):
        return "(" + ", ".join(map(str, expected)) + ("," if len(expected) == 1 else "") + ")"
    return str(expected) if expected is not None else "(see the feedback above)"


def _code(text: str, lexer: str) -> Syntax:
    return Syntax(text, lexer, theme="monokai", background_color="default", word_wrap=True)


class ResultPanel(Static):
    """Filled by the review screen: waiting, graded, or revealed (for self-rating)."""

    def show_waiting(self, message: str) -> None:
        """Say the answer is in the grader's hands, and why it may take a moment."""
        self.display = True
        self.update(Text(message, style="italic yellow"))

    def show_graded(self, card: Card, result: GradeResult, rating: int, hinted: bool) -> None:
        """The verdict and the rating it gave, the first difference, the reference and ``explain``."""
        label, style = _VERDICT_STYLE.get(result.verdict, (result.verdict, "bold"))
        head = Text.assemble((label, style), f"  ({result.elapsed_ms:.0f} ms)   rated ",
                             (f"{rating} {RATING_NAMES[rating]}", "bold"))
        if hinted:
            head.append("  (hint used: Hard at best)", style="dim")
        parts: list[RenderableType] = [head]
        if result.feedback and result.verdict != "correct":
            parts.append(Text(result.feedback))
        if result.output:
            parts += [Text("Your output:", style="dim"), Text(result.output)]
        self._fill(card, parts, result)

    def show_revealed(self, card: Card, note: str = "") -> None:
        """The answer without a verdict: for recall cards, or when the grader is unavailable."""
        parts: list[RenderableType] = []
        if note:
            parts.append(Text(note, style="yellow"))
        self._fill(card, parts, None)

    def _fill(self, card: Card, parts: list[RenderableType], result: GradeResult | None) -> None:
        lexer = "python" if card.kind in ("expr", "kernel", "shape", "output") else "text"
        parts += [Text("Reference:", style="bold"), _code(reference_answer(card, result), lexer)]
        if card.explain:
            parts.append(Text(card.explain))
        if card.explain_zh:
            parts.append(Text(card.explain_zh, style="italic"))
        self.display = True
        self.update(Group(*parts))

    def clear(self) -> None:
        """Hide the panel until the next answer."""
        self.update("")
        self.display = False
