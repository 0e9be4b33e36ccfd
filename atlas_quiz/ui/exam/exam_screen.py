"""The exam itself: the questions, the current one, the student's answer, the clock.

Every keystroke is recorded in the session and written to disk after a short
pause in typing (debounced); leaving a question, ``ctrl+s`` and handing in
write at once. Nothing here grades or shows a reference.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from ...quiz import MAX_ANSWER_CHARS, ExamSession, fmt_points
from ..messages import AnswerSubmitted
from .answer_box import AnswerBox
from .exam_timer import ExamTimer
from .hand_in_screen import HandInScreen
from .item_list import ItemList
from .messages import ItemChosen, TimeUp
from .question_view import QuestionView

__all__ = ["SAVE_DELAY_S", "ExamScreen"]

SAVE_DELAY_S = 0.4  # a pause in typing this long writes the answer to disk


class ExamScreen(Screen):
    """Shows one question at a time; the session is passed down, ``HandedIn`` goes up via the app."""

    BINDINGS = [
        Binding("ctrl+n,pagedown", "next", "Next"),
        Binding("ctrl+p,pageup", "previous", "Previous"),
        Binding("f10,ctrl+e", "hand_in", "Hand in"),
    ]

    def __init__(self, session: ExamSession, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.index = 0
        self._save_timer: Timer | None = None
        self._dirty = False
        self._loaded = False  # the editor holds the current question's answer
        self._too_long: set[str] = set()  # slots whose editor holds more than is kept

    def compose(self) -> ComposeResult:
        """The bar (title, clock), the question list, the question and the answer box."""
        s = self.session
        with Horizontal(id="exam-bar"):
            yield Static(f"{s.spec.title}  ·  {s.student}", id="exam-title")
            yield ExamTimer(s.remaining, id="exam-timer")
        with Horizontal(id="exam-body"):
            yield ItemList(s.questions, id="exam-items")
            with Vertical(id="exam-main"):
                yield Static(id="exam-position")
                yield QuestionView(id="exam-card")
                yield AnswerBox(id="exam-answer")
        yield Footer()

    def on_mount(self) -> None:
        """Start at the first question without an answer (a resumed exam goes on where it was)."""
        answered = self.session.answered()
        self.query_one(ItemList).mark(answered)
        slots = [q.slot for q in self.session.questions]
        self.show(next((i for i, slot in enumerate(slots) if slot not in answered), 0))

    @property
    def question(self):
        """The question on screen."""
        return self.session.questions[self.index]

    def show(self, index: int) -> None:
        """Save the answer on screen, then show question ``index`` with its saved answer."""
        self.flush()
        self.index = max(0, min(index, len(self.session.questions) - 1))
        q = self.question
        points = fmt_points(q.points)
        self.query_one("#exam-position", Static).update(  # the item's name is the instructor's
            f"Question {self.index + 1} of {len(self.session.questions)}  ·  "
            f"{points} point{'' if points == '1' else 's'}")
        self.query_one(QuestionView).show_card(q.shown)
        box = self.query_one(AnswerBox)
        with box.prevent(TextArea.Changed):
            box.reset(self.session.answer(q.slot), code=q.shown.kind in ("expr", "kernel"))
        self._loaded = True
        items = self.query_one(ItemList)
        items.highlighted = self.index

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Record the keystroke now; write it once typing pauses."""
        event.stop()
        if self._record(event.text_area.text):
            if self._save_timer is not None:
                self._save_timer.stop()
            self._save_timer = self.set_timer(SAVE_DELAY_S, self.flush)

    def _record(self, text: str) -> bool:
        """Keep the editor's text in the session (True when that changed what is kept); say
        once when the answer outgrows what is kept, since the rest would be lost silently."""
        slot = self.question.slot
        if len(text) <= MAX_ANSWER_CHARS:
            self._too_long.discard(slot)
        elif slot not in self._too_long:
            self._too_long.add(slot)
            self.notify(f"This answer is longer than an answer may be: only the first "
                        f"{MAX_ANSWER_CHARS:,} characters are kept.", severity="warning", timeout=10)
        changed = self.session.record(slot, text)
        self._dirty = self._dirty or changed
        return changed

    def flush(self) -> None:
        """Write the answer on screen to disk now, if anything changed.

        The editor is read here, not only on ``Changed``: a key that hands in can
        arrive before the editor's last ``Changed`` message has been handled.
        """
        if self._loaded:
            self._record(self.query_one(AnswerBox).text)
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if self._dirty:
            self._dirty = False
            self.session.save()
            self.query_one(ItemList).mark(self.session.answered())

    def on_answer_submitted(self, event: AnswerSubmitted) -> None:
        """``ctrl+s``: keep the answer and move on."""
        event.stop()
        self.action_next()

    def on_item_chosen(self, event: ItemChosen) -> None:
        """Jump to the question picked in the list."""
        event.stop()
        self.show(event.index)
        self.query_one(AnswerBox).focus()

    def action_next(self) -> None:
        """The next question (stays on the last)."""
        self.show(self.index + 1)

    def action_previous(self) -> None:
        """The previous question."""
        self.show(self.index - 1)

    def action_hand_in(self) -> None:
        """Ask, then hand in."""
        self.flush()
        total = len(self.session.questions)
        self.app.push_screen(HandInScreen(len(self.session.answered()), total), self._hand_in_answered)

    def _hand_in_answered(self, yes: bool | None) -> None:
        if yes:
            self.app.hand_in("submitted")

    def on_time_up(self, event: TimeUp) -> None:
        """Time is up: whatever is on screen is saved and handed in."""
        event.stop()
        self.app.hand_in("time up")
