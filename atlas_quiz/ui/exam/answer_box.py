"""The exam's answer editor: the review app's editor, where ``ctrl+s`` saves and moves on."""

from __future__ import annotations

from textual.binding import Binding

from ..messages import AnswerSubmitted
from ..widgets.answer_editor import AnswerEditor

__all__ = ["AnswerBox"]


class AnswerBox(AnswerEditor):
    """Python highlighting and indentation as in review; in an exam ``ctrl+s`` means
    "keep this and go to the next question" (nothing is graded), so the footer says so."""

    BINDINGS = [
        Binding("ctrl+s,ctrl+enter", "submit", "Save & next"),
    ]

    def action_submit(self) -> None:
        """Post the answer even when blank: skipping a question is allowed in an exam."""
        if not self.read_only:
            self.post_message(AnswerSubmitted(self.text))
