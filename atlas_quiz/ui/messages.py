"""Messages between widgets and screens, named for what happened (attributes down, messages up)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..cards import Card
from ..grading.result import GradeResult


@dataclass
class AnswerSubmitted(Message):
    """The learner submitted the text in the answer editor."""

    answer: str


@dataclass
class CardGraded(Message):
    """The grader returned a result for the answer to ``card`` (``error`` when it could not)."""

    card: Card
    answer: str
    result: GradeResult | None
    error: str = ""
