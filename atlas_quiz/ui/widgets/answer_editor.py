"""The answer editor: a multi-line Python ``TextArea`` that submits with a key shown in the footer."""

from __future__ import annotations

from textual import events
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
        self.code = True  # Python: enter indents. A printed value is typed as is (see reset).

    def on_mount(self) -> None:
        """Turn on highlighting once the first screen is drawn: parsing its query costs ~20 ms."""
        self.call_after_refresh(self._highlight)

    def _highlight(self) -> None:
        # Setting the language reloads the document, which puts the cursor at the start: keep it
        # where it was (after a resumed answer, not in front of it).
        selection = self.selection
        self.language = "python"
        self.selection = selection

    async def _on_key(self, event: events.Key) -> None:
        """Enter keeps the line's indentation, one level deeper after a ``:`` (TextArea has no
        auto-indent); alt+key goes to the screen's keys; every other key is TextArea's."""
        if event.key.startswith("alt+"):
            # tmux sends escape then n, typed quickly, as alt+n: TextArea would type the "n".
            event.prevent_default()
            return
        if event.key != "enter" or self.read_only or not self.code:
            return
        event.stop()
        event.prevent_default()  # TextArea's own handler would insert a bare newline
        start, end = self.selection
        row, column = min(start, end)
        before = self.document.get_line(row)[:column]
        indent = before[: len(before) - len(before.lstrip())]
        if before.rstrip().endswith(":"):
            indent += " " * self.indent_width
        self.replace("\n" + indent, start, end, maintain_selection_offset=False)

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

    def reset(self, text: str = "", *, code: bool = True) -> None:
        """Empty, editable and focused: ready for the next card. ``code``: the answer is Python
        (enter keeps the indentation); else a value typed as printed, indented by hand."""
        self.code = code
        self.read_only = False
        self.remove_class("-sealed")
        # Edit the document rather than load a new one: a new one re-parses the highlighting
        # query (~20 ms); clearing the history keeps ctrl+z from bringing back the last card's answer.
        self.replace(text, self.document.start, self.document.end, maintain_selection_offset=False)
        self.history.clear()
        self.move_cursor(self.document.end)
        self.focus()

    def seal(self) -> None:
        """Read-only, so no key changes a graded answer by accident; it shrinks to its text."""
        self.read_only = True
        self.add_class("-sealed")

    def unseal(self) -> None:
        """Editable and focused again, the text kept: the answer goes back for a fix."""
        self.read_only = False
        self.remove_class("-sealed")
        self.focus()
