"""The countdown: time left, turning amber then red, and one ``TimeUp`` when it reaches zero."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from .messages import TimeUp

__all__ = ["ExamTimer", "format_remaining"]

TICK_S = 0.25  # fine enough that the display never looks stuck, cheap enough to ignore


def format_remaining(seconds: float) -> str:
    """``1:05:09``, ``12:03`` or ``0:07``: what a student reads at a glance."""
    s = max(0, int(seconds + 0.999))  # round up: show 0:00 only when time is really up
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class ExamTimer(Static):
    """Shows ``remaining()`` (a callable passed down), refreshed a few times a second."""

    def __init__(self, remaining: Callable[[], float], **kwargs) -> None:
        super().__init__(**kwargs)
        self.remaining = remaining
        self._expired = False

    def on_mount(self) -> None:
        """Start ticking."""
        self.tick()
        self.set_interval(TICK_S, self.tick)

    def tick(self) -> None:
        """Redraw; announce the end once."""
        left = self.remaining()
        style = "bold red" if left < 60 else "bold yellow" if left < 300 else "bold"
        self.update(Text.assemble(("time left ", "dim"), (format_remaining(left), style)))
        if left <= 0 and not self._expired:
            self._expired = True
            self.post_message(TimeUp())
