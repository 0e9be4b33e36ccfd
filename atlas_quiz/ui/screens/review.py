"""The review screen: a card, the answer editor, the grade, and the keys that rate and move on.

Phases: ``answer`` (editing), ``recall`` (a recall card before reveal),
``grading`` (the answer is with the grader), ``graded`` (recorded with the
suggested rating; 1-4 replace it), ``revealed`` (self-rating: recall cards, or
when the grader cannot grade). An answer the grader cannot read (a typo) goes
back to ``answer`` with the reason and costs no review. The session does the
bookkeeping; this screen draws and routes keys.

The card and the result scroll in one pane; the editor sits below it, so it
stays on screen however long the card is.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import DescendantBlur, DescendantFocus
from textual.screen import Screen
from textual.widgets import Footer, Header

from ...grading.client import GraderClosed, GraderUnavailable
from ..messages import AnswerSubmitted, CardGraded
from ..session import ReviewSession, Shown
from ..widgets.answer_editor import AnswerEditor
from ..widgets.card_view import CardView
from ..widgets.grader_status import GraderStatus
from ..widgets.result_panel import HARD, RATING_NAMES, ResultPanel

__all__ = ["ReviewScreen"]

_WAITING = {
    "starting": "Waiting for the grader: torch is still loading in the background. Your answer "
                "is kept and graded as soon as it is ready.",
    "failed": "The grader had stopped: starting it again. Your answer is kept and graded as soon "
              "as it is back.",
}
_RATE = Binding.Group("Rate", compact=True)  # "1234 Rate": the footer must fit 80 columns
# tmux (and other terminals) send escape followed quickly by a key as alt+key: these do what
# escape then the key does, from the editor too.
_ALT_KEYS = {"n": "skip", "b": "bury", "s": "suspend", "u": "undo", "t": "stats", "q": "quit_session"}
_ALLOWED = {
    "answer": {"submit", "edit", "skip", "bury", "suspend", "undo", "stats", "quit_session"},
    "recall": {"reveal", "skip", "bury", "suspend", "undo", "stats", "quit_session"},
    "grading": {"stats", "quit_session"},
    "graded": {"next", "rate", "bury", "suspend", "undo", "stats", "quit_session"},
    "revealed": {"rate", "bury", "suspend", "undo", "stats", "quit_session"},
}


class ReviewScreen(Screen):
    """Shows the session's current card and turns keys into session actions."""

    CSS_PATH = "review.tcss"
    BINDINGS = [
        Binding("ctrl+t", "hint", "Hint"),
        # The card scrolls while the editor keeps the focus: the question stays in reach as you type.
        Binding("ctrl+down", "scroll_card(1)", "Scroll card", key_display="^↓/^↑"),
        Binding("ctrl+up", "scroll_card(-1)", show=False),
        Binding("ctrl+s", "submit", "Submit", show=False),  # the editor's key, when it lost focus
        Binding("i", "edit", "Edit answer"),
        Binding("space", "reveal", "Reveal", key_display="space"),
        Binding("space,enter", "next", "Next", key_display="space"),
        *(Binding(str(n), f"rate({n})", name, group=_RATE) for n, name in RATING_NAMES.items()),
        Binding("n", "skip", "Skip"),
        Binding("b", "bury", "Bury"),
        Binding("s", "suspend", "Suspend"),
        Binding("u", "undo", "Undo"),
        Binding("t", "stats", "Stats"),
        Binding("q", "quit_session", "Quit"),
        *(Binding(f"alt+{key}", f"card_key('{action}')", show=False) for key, action in _ALT_KEYS.items()),
    ]

    def __init__(self, session: ReviewSession, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.phase = "answer"
        self._answer = ""
        self._feedback = ""

    def compose(self) -> ComposeResult:
        """The card and the result scroll together; the editor, status and keys stay put."""
        yield Header()
        with VerticalScroll(id="review-body"):
            yield CardView()
            yield ResultPanel(id="result")
        yield AnswerEditor(id="answer")
        yield GraderStatus(id="grader-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Show the first card (the app has already checked one is due) and the grader's state."""
        self.grader_changed(*self.app.grader_state())
        self.advance()
        self.call_after_refresh(self.app.first_card_shown)

    # -- drawing -------------------------------------------------------------------------------

    def show(self, shown: Shown) -> None:
        """Put ``shown`` on screen, editor empty (or holding the undone answer) and focused."""
        self.query_one(CardView).show_card(shown.view)
        self.query_one(ResultPanel).clear()
        editor = self.query_one(AnswerEditor)
        self.phase = "recall" if shown.card.kind == "recall" else "answer"
        editor.display = self.phase == "answer"
        if self.phase == "answer":
            editor.reset(shown.answer, code=shown.card.kind in ("expr", "kernel"))
        else:
            self.query_one("#review-body").focus()
        self.query_one("#review-body", VerticalScroll).scroll_home(animate=False)
        self._show_counts()
        self.refresh_bindings()

    def _show_counts(self) -> None:
        new, learning, review = self.session.queue.counts()
        self.sub_title = f"new {new} · learning {learning} · review {review}"

    def advance(self) -> None:
        """The next due card, or the summary when none is left."""
        shown = self.session.show_next()
        if shown is None:
            self.app.show_summary()
        else:
            self.show(shown)

    def grader_changed(self, status: str, detail: str) -> None:
        """The app tells us the grader's state; an answer waiting for it says it is now graded."""
        widget = self.query_one(GraderStatus)
        widget.status, widget.detail = status, detail
        if status == "ready" and self.phase == "grading":
            self.query_one(ResultPanel).show_waiting("Grading…")

    def _settle(self, phase: str) -> None:
        self.phase = phase
        self.query_one(AnswerEditor).seal()
        self._show_result()
        self.query_one("#review-body").focus()
        self.refresh_bindings()

    def _show_result(self) -> None:
        """Scroll the result's first line to the top of the pane (the card is above it)."""
        self.query_one(ResultPanel).scroll_on_resize()

    # -- answering and grading -----------------------------------------------------------------

    @on(AnswerSubmitted)
    def _submitted(self, message: AnswerSubmitted) -> None:
        shown = self.session.current
        if self.phase != "answer" or shown is None:
            return
        self.session.submit()
        self._answer = message.answer
        status = self.app.grader_state()[0]  # read before grading restarts a failed grader
        self._settle("grading")
        self.query_one(ResultPanel).show_waiting(_WAITING.get(status, "Grading…"))
        self._grade(shown, message.answer)

    @work(thread=True, group="grade")
    def _grade(self, shown: Shown, answer: str) -> None:
        """Grade off the UI thread; the reply comes back as a message."""
        try:
            result = self.app.grader.grade(shown.card, answer, seed=shown.seed)
        except GraderClosed:
            return  # the app is quitting: nobody is left to tell
        except (GraderUnavailable, TimeoutError) as exc:
            self.post_message(CardGraded(shown.card, answer, None, str(exc) or "no reply"))
            return
        self.post_message(CardGraded(shown.card, answer, result))

    @on(CardGraded)
    def _graded(self, message: CardGraded) -> None:
        shown = self.session.current
        if self.phase != "grading" or shown is None or shown.card.id != message.card.id:
            return  # an answer overtaken by quit or undo
        panel = self.query_one(ResultPanel)
        if message.result is None:
            self._feedback = message.error
            panel.show_revealed(shown.view, note=f"Could not grade this answer ({message.error}). "
                                                 "Compare with the reference and rate yourself (1-4).")
            self._settle("revealed")
            return
        result = message.result
        if result.stage == "parse":  # a typo is not an answer: back to the editor, clock running
            self.session.resume()
            self.phase = "answer"
            panel.show_unread(result.feedback)
            self._show_result()
            self.query_one(AnswerEditor).unseal()
            self.refresh_bindings()
            return
        outcome = self.session.record(self.session.suggested_rating(result),
                                      answer=message.answer, verdict=result.verdict,
                                      feedback=result.feedback)
        panel.show_graded(shown.view, result, int(outcome.rating), shown.cap)
        self._show_counts()
        if outcome.became_leech:
            self.notify("This card is now a leech: it is suspended until you unsuspend it.",
                        severity="warning")
        self._settle("graded")

    # -- keys ----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only the keys that make sense in this phase (and none that type into the editor)."""
        if action not in _SCREEN_ACTIONS or action == "scroll_card":
            return True
        if action == "card_key":  # alt+key: escape and the key at once, so the editor's focus is moot
            return self._allowed(str(parameters[0]))
        if action not in ("hint", "submit") and self.phase == "answer" \
                and self.query_one(AnswerEditor).has_focus:
            return False  # letters type into the editor; esc leaves it for these keys
        return self._allowed(action)

    def _allowed(self, action: str) -> bool:
        """Whether ``action`` makes sense in this phase, whatever has the focus."""
        shown = self.session.current
        if action == "hint":  # only on a card that has a hint, and only once
            return self.phase in ("answer", "recall") and shown is not None and not shown.hinted \
                and self.session.has_hint()
        if action == "undo":
            return "undo" in _ALLOWED.get(self.phase, set()) and bool(self.session.log)
        return action in _ALLOWED.get(self.phase, set())

    @on(DescendantFocus)
    @on(DescendantBlur)
    def _focus_moved(self) -> None:
        self.refresh_bindings()

    def action_hint(self) -> None:
        """Show the hint; the rating is then Hard at best."""
        self.session.hint()
        self.query_one(CardView).reveal_hint()
        self.refresh_bindings()

    def action_scroll_card(self, direction: int) -> None:
        """Half a screen of the card (and result) down or up, wherever the focus is."""
        body = self.query_one("#review-body", VerticalScroll)
        body.scroll_relative(y=direction * max(1, body.size.height // 2), animate=False)

    def action_edit(self) -> None:
        """Back into the editor."""
        self.query_one(AnswerEditor).focus()

    def action_submit(self) -> None:
        """ctrl+s with the focus outside the editor: submit it all the same (or say it is empty)."""
        self.query_one(AnswerEditor).action_submit()

    def action_card_key(self, action: str) -> None:
        """alt+key, as tmux reads escape then key typed quickly: leave the editor, do the key."""
        self.query_one("#review-body").focus()
        getattr(self, f"action_{action}")()

    def action_reveal(self) -> None:
        """Recall cards: show the answer, then rate yourself."""
        self.session.submit()
        self.query_one(ResultPanel).show_revealed(self.session.current.view,
                                                  note="Rate yourself: 1 Again, 2 Hard, 3 Good, 4 Easy.")
        self._answer, self._feedback = "", ""
        self._settle("revealed")

    def action_next(self) -> None:
        """Keep the rating already recorded and go on."""
        self.advance()

    def action_rate(self, rating: int) -> None:
        """Graded: replace the recorded rating. Revealed: record this rating. Then go on."""
        if self.phase == "graded":
            cap = self.session.log[-1].shown.cap
            if cap and rating > HARD:
                self.notify(f"Kept at Hard ({cap}): such a review is Hard at best.", timeout=3)
            if int(self.session.log[-1].outcome.rating) != rating:
                self.session.rerate(rating)
        else:
            self.session.record(rating, answer=self._answer, feedback=self._feedback)
        self.advance()

    def action_skip(self) -> None:
        """Show this card after the others; nothing is recorded."""
        self.session.skip()
        self.advance()

    def action_bury(self) -> None:
        """Hide this card until tomorrow."""
        self.session.bury()
        self.notify("Buried until tomorrow.", timeout=2)
        self.advance()

    def action_suspend(self) -> None:
        """Take this card out of the queues."""
        self.session.suspend()
        self.notify("Suspended.", timeout=2)
        self.advance()

    def action_undo(self) -> None:
        """Take back the last review; its card comes back with its answer."""
        shown = self.session.undo()
        if shown is not None:
            self.notify("Undid the last review.", timeout=2)
            self.show(shown)

    def action_stats(self) -> None:
        """The statistics screen."""
        self.app.show_stats()

    def action_quit_session(self) -> None:
        """End the session (an answer still being graded is dropped): the summary."""
        self.phase = "done"
        self.app.show_summary()


_SCREEN_ACTIONS = {b.action.split("(")[0] for b in ReviewScreen.BINDINGS}
