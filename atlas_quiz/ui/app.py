"""The review app: a thin shell that wires the session, the grader and the screens together."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from ..grading.client import Grader
from .screens.review import ReviewScreen
from .session import ReviewSession

__all__ = ["ReviewApp"]

# The grader's state changes on the client's reader thread (ready, failed, restarted by a
# grade); reading two attributes four times a second follows it with no cross-thread calls.
GRADER_POLL_S = 0.25


class ReviewApp(App):
    """Reviews the due cards of ``session``, grading through ``grader`` (started on mount)."""

    CSS_PATH = "app.tcss"
    TITLE = "atlas-quiz"

    def __init__(self, session: ReviewSession, grader: Grader, *,
                 on_first_card: Callable[[], None] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.grader = grader
        self._on_first_card = on_first_card
        self.review_screen: ReviewScreen | None = None
        self._grader_shown: tuple[str, str] | None = None

    def on_mount(self) -> None:
        """Start the grader (torch loads over there), then the first card or the summary."""
        self.grader.start()
        self.set_interval(GRADER_POLL_S, self._follow_grader)
        if self.session.queue.next() is None:
            self.show_summary()
        else:
            self.review_screen = ReviewScreen(self.session)
            self.push_screen(self.review_screen)

    def first_card_shown(self) -> None:
        """Called once the first screen has been drawn (the startup benchmark's mark)."""
        if self._on_first_card is not None:
            self._on_first_card()
            self._on_first_card = None

    def grader_state(self) -> tuple[str, str]:
        """The grader as the status line shows it: ``starting``, ``ready`` or ``failed``, and a detail."""
        status = self.grader.status
        if status == "ready":
            info = self.grader.info
            return status, f"{info.get('device', '?')}, torch {info.get('torch', '?')}"
        if status == "failed":
            return status, self.grader.error
        return "starting", ""  # starting, or stopped for a moment before a restart

    def _follow_grader(self) -> None:
        """Tell the review screen when the grader's state has changed since it was last told."""
        state = self.grader_state()
        screen = self.review_screen
        if state != self._grader_shown and screen is not None and screen.is_mounted \
                and screen.is_attached:  # not before it is composed, nor after the summary
            self._grader_shown = state
            screen.grader_changed(*state)

    def show_summary(self) -> None:
        """End of the session: the summary replaces the review screen."""
        from .screens.summary import SummaryScreen

        screen = SummaryScreen(self.session.summary(), self.session.now())
        if self.review_screen is not None and self.screen is self.review_screen:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
        self.call_after_refresh(self.first_card_shown)

    def action_show_stats(self) -> None:
        """Open the stats screen (plotext and the stats queries load only now)."""
        self.show_stats()

    def show_stats(self) -> None:
        """Push the stats screen over the current one."""
        from ..scheduling import collect_stats
        from .screens.stats import StatsScreen

        self.push_screen(StatsScreen(collect_stats(self.session.db, now=self.session.now())))

    def on_unmount(self) -> None:
        """Stop the grading service with the app."""
        self.grader.close()
