"""Are you sure? The last step before handing the exam in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

__all__ = ["HandInScreen"]


class HandInScreen(ModalScreen[bool]):
    """Dismissed with True to hand in, False to go back; says how many questions are blank."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, answered: int, total: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.answered, self.total = answered, total

    def compose(self) -> ComposeResult:
        """The question, with the count of blank answers, and two buttons."""
        blank = self.total - self.answered
        warning = f"{blank} question{'s' if blank != 1 else ''} still blank. " if blank else ""
        with Vertical(id="hand-in"):
            yield Static(f"Hand in your answers? {warning}You cannot change them afterwards.")
            with Horizontal(id="hand-in-buttons"):
                yield Button("Hand in", id="hand-in-yes", variant="error")
                yield Button("Back to the exam", id="hand-in-no", variant="primary")

    def on_mount(self) -> None:
        """Back is the safe default."""
        self.query_one("#hand-in-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Answer the question."""
        event.stop()
        self.dismiss(event.button.id == "hand-in-yes")

    def action_back(self) -> None:
        """Escape goes back to the exam."""
        self.dismiss(False)
