"""The card's formula, laid out in two dimensions by ``atlas_quiz.render`` (raw and dim if that fails).

The renderer is imported with the widget, not on first use: the first card on
screen usually has a formula, so deferring it would not bring that card sooner.
"""

from __future__ import annotations

from functools import lru_cache

from rich.text import Text
from textual.widget import Widget

from ...render import render_latex

__all__ = ["Equation", "formula_text"]


@lru_cache(maxsize=256)
def formula_text(latex: str, width: int = 80) -> Text:
    """The one place a formula becomes terminal text, so the UI switches renderers in one line.

    A renderer failure falls back to the raw source: a bad formula must never
    stop a review.
    """
    try:
        return Text(render_latex(latex, width=width))
    except Exception:  # the renderer's bug is not the learner's problem
        return Text(latex, style="dim")


class Equation(Widget):
    """Shows one formula, re-laid out when the width changes."""

    DEFAULT_CSS = """
    Equation { height: auto; }
    """

    def __init__(self, latex: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.latex = latex

    def show(self, latex: str) -> None:
        """Replace the formula (an empty one hides the widget)."""
        self.latex = latex
        self.display = bool(latex)
        self.refresh(layout=True)

    def render(self) -> Text:
        """The formula at the widget's width."""
        return formula_text(self.latex, max(20, self.content_size.width or 80))
