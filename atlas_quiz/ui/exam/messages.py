"""Messages of the exam app, named for what happened (attributes down, messages up)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

__all__ = ["ItemChosen", "TimeUp", "TokenEntered"]


@dataclass
class ItemChosen(Message):
    """The student picked a question in the list (by position)."""

    index: int


class TimeUp(Message):
    """The exam's time ran out."""


@dataclass
class TokenEntered(Message):
    """The student typed a token on the login screen."""

    token: str
