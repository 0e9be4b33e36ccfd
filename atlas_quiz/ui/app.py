"""The review app: a thin shell that wires the session, the grader and the screens together."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import App

from ..grading.client import Grader, GraderUnavailable
from .messages import GraderFailed, GraderReady
from .screens.review import ReviewScreen
from .session import ReviewSession

__all__ = ["ReviewApp"]


class ReviewApp(App):
    """Reviews the due cards of ``session``, grading through ``grader`` (started on mount)."""

    CSS_PATH = "app.tcss"
    TITLE = "atlas-quiz"

    def __init__(self, session: ReviewSession, grader: Grader, *,
                 on_first_card: Callable[[], None] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.grader = grader
        self.grader_detail = ""
        self._on_first_card = on_first_card
        self.review_screen: ReviewScreen | None = None

    def on_mount(self) -> None:
        """Start the grader (torch loads over there), then the first card or the summary."""
        self.grader.start()
        self._watch_grader()
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

    @work(thread=True, group="grader")
    def _watch_grader(self) -> None:
        """Wait for the grader off the UI thread, then say how it went."""
        try:
            info = self.grader.wait_ready()
        except GraderUnavailable as exc:
            self.post_message(GraderFailed(str(exc)))
        else:
            self.post_message(GraderReady(info))

    @on(GraderReady)
    def _grader_ready(self, message: GraderReady) -> None:
        self.grader_detail = f"{message.info.get('device', '?')}, torch {message.info.get('torch', '?')}"
        if self.review_screen is not None:
            self.review_screen.grader_changed("ready", self.grader_detail)

    @on(GraderFailed)
    def _grader_failed(self, message: GraderFailed) -> None:
        self.grader_detail = message.error
        if self.review_screen is not None:
            self.review_screen.grader_changed("failed", message.error)

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
