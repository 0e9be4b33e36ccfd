"""The answer editor: a multi-line Python ``TextArea`` that submits with a key shown in the footer."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import TextArea

from ..messages import AnswerSubmitted

__all__ = ["AnswerEditor"]


class AnswerEditor(TextArea):
    """Python with highlighting and indentation; ``ctrl+s`` (or ``ctrl+enter`` where the terminal
    reports it) submits, because plain enter must stay a newline for multi-line answers."""

    BINDINGS = [
        Binding("ctrl+s,ctrl+enter", "submit", "Submit"),
        # TextArea itself moves focus on (a lone) escape; the binding makes that visible.
        Binding("escape", "leave", "Card keys"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(theme="monokai", soft_wrap=True, tab_behavior="indent",
                         show_line_numbers=True, **kwargs)

    def on_mount(self) -> None:
        """Turn on highlighting once the first screen is drawn: parsing its query costs ~20 ms."""
        self.call_after_refresh(setattr, self, "language", "python")

    def action_submit(self) -> None:
        """Post the answer, unless it is read-only (graded) or empty."""
        if self.read_only:
            return
        text = self.text.strip("\n")
        if not text.strip():
            self.notify("Type an answer first.", severity="warning", timeout=2)
            return
        self.post_message(AnswerSubmitted(text))

    def action_leave(self) -> None:
        """Hand the keys to the card (skip, bury, undo, ...)."""
        self.screen.focus_next()

    def reset(self, text: str = "") -> None:
        """Empty, editable and focused: ready for the next card."""
        self.read_only = False
        # Edit the document rather than load a new one: a new one re-parses the highlighting
        # query (~20 ms); clearing the history keeps ctrl+z from bringing back the last card's answer.
        self.replace(text, self.document.start, self.document.end, maintain_selection_offset=False)
        self.history.clear()
        self.move_cursor(self.document.end)
        self.focus()

    def seal(self) -> None:
        """Read-only, so no key changes a graded answer by accident."""
        self.read_only = True
