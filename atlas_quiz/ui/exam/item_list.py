"""The list of questions: where the student is, and which ones have an answer."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...quiz import Question
from ...quiz.gradebook import fmt_points
from .messages import ItemChosen

__all__ = ["ItemList"]


class ItemList(OptionList):
    """One line per question (its number and points), marked when answered; choosing one posts
    :class:`ItemChosen`. The spec's item names are the instructor's labels and stay off screen:
    a name like ``attention`` over a card about something else misleads, and a topic can hint."""

    def __init__(self, questions: list[Question], **kwargs) -> None:
        super().__init__(*self._question_options(questions, set()), **kwargs)
        self.questions = questions

    @staticmethod
    def _question_options(questions: list[Question], answered: set[str]) -> list[Option]:
        out = []
        for n, q in enumerate(questions, start=1):
            mark = ("● ", "green") if q.slot in answered else ("○ ", "dim")
            label = Text.assemble(mark, f"Question {n}", (f"  {fmt_points(q.points)} pt", "dim"))
            out.append(Option(label, id=f"item-{len(out)}"))
        return out

    def mark(self, answered: set[str]) -> None:
        """Redraw the marks, keeping the highlighted question."""
        keep = self.highlighted
        self.clear_options()
        self.add_options(self._question_options(self.questions, answered))
        self.highlighted = keep

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Tell the screen which question was picked."""
        event.stop()
        self.post_message(ItemChosen(event.option_index))
