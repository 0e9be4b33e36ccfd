"""A question as the exam shows it: the review app's card view, without the card's id and source."""

from __future__ import annotations

from ..widgets.card_view import CardView

__all__ = ["QuestionView"]


class QuestionView(CardView):
    """Title, formula, prompt and what is in scope, drawn as in review. The id and source line
    is left out: an id like ``quiz.cross_entropy`` names the function that answers the
    question. The hint stays hidden (the exam has no key for it)."""

    show_meta = False
