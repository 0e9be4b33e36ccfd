"""The lab's login: the student types the personal token from their slip of paper."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from .messages import TokenEntered

__all__ = ["TokenScreen"]


class TokenScreen(Screen):
    """Asks for a token; the app checks it and calls :meth:`refuse` when it opens nothing."""

    def __init__(self, title: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.quiz_title = title

    def compose(self) -> ComposeResult:
        """The quiz title, what to type, the field and room for an error."""
        with Vertical(id="login"):
            yield Static(self.quiz_title, id="login-title")
            yield Static("Type the personal token your instructor gave you (like ABCD-EFGH-JKMN-PQRS).")
            yield Input(placeholder="token", id="token", max_length=64)
            yield Static("", id="login-error")

    def on_mount(self) -> None:
        """Ready to type."""
        self.query_one("#token", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Hand the token up; the field empties so it does not linger on screen."""
        event.stop()
        token = event.value.strip()
        event.input.value = ""
        if token:
            self.post_message(TokenEntered(token))

    def refuse(self, message: str) -> None:
        """Say why the token did not open the exam."""
        self.query_one("#login-error", Static).update(message)
