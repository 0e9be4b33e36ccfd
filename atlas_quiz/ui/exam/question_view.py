"""A question as the exam shows it: the review app's card view, without the card's id and source."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...cards import Card
from ..widgets.card_view import CardView

__all__ = ["QuestionView"]


class QuestionView(CardView):
    """Title, formula, prompt and what is in scope. The id and source line is left out: an id
    like ``quiz.cross_entropy`` names the function that answers the question."""

    def show_card(self, card: Card) -> None:
        """Show the card, then replace the title line by the titles alone (the hint stays hidden)."""
        super().show_card(card)
        title = Text.assemble((card.title, "bold"), "  ", (card.title_zh, "bold"))
        self.query_one("#card-title", Static).update(title)
