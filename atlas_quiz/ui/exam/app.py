"""The exam app: a login (browser lab only), the exam, the end. Small on purpose: screens do the work."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.binding import Binding

from ...quiz import ExamSession, LoginFailed
from .exam_screen import ExamScreen
from .hand_in_screen import HandInScreen
from .handed_in_screen import HandedInScreen
from .messages import TokenEntered
from .token_screen import TokenScreen

__all__ = ["MAX_LOGIN_TRIES", "ExamApp"]

MAX_LOGIN_TRIES = 5  # then the connection closes; a token has 80 random bits anyway


class ExamApp(App):
    """Runs one student's exam: given a ``session`` (terminal), or a ``login`` that turns a token
    into one (browser lab). ``show_paths`` says whether to tell the student where the file is."""

    CSS_PATH = "exam.tcss"
    TITLE = "atlas-quiz exam"
    ENABLE_COMMAND_PALETTE = False  # ctrl+p is "previous question"; an exam needs no palette
    BINDINGS = [Binding("ctrl+q", "quit", "Quit (answers are kept)", priority=True)]

    def __init__(self, *, session: ExamSession | None = None, title: str = "",
                 login: Callable[[str], ExamSession] | None = None, show_paths: bool = True) -> None:
        super().__init__()
        if (session is None) == (login is None):
            raise ValueError("give either a session or a login")
        self.session = session
        self.login = login
        self.quiz_title = title or (session.spec.title if session else "")
        self.show_paths = show_paths
        self.tries = 0

    def on_mount(self) -> None:
        """The exam at once, or the login first."""
        if self.session is not None:
            self._open(self.session)
        else:
            self.push_screen(TokenScreen(self.quiz_title))

    def _open(self, session: ExamSession) -> None:
        self.session = session
        if session.remaining() <= 0:  # came back after the deadline: hand in what was saved
            self.hand_in("time up")
        else:
            self.push_screen(ExamScreen(session))

    def on_token_entered(self, event: TokenEntered) -> None:
        """Check a token; after too many wrong ones, close."""
        if self.login is None or not isinstance(self.screen, TokenScreen):
            return  # a second Enter that arrived while the first token opened the exam
        try:
            session = self.login(event.token)
        except LoginFailed as exc:
            self.tries += 1
            if self.tries >= MAX_LOGIN_TRIES:
                self.exit(message="too many wrong tokens")
                return
            self.screen.refuse(str(exc))
            return
        self.pop_screen()
        self._open(session)

    def hand_in(self, reason: str) -> None:
        """Save what is on screen, hand in, and show the end (no verdict: nothing is graded here)."""
        session = self.session
        assert session is not None
        while isinstance(self.screen, HandInScreen):  # time ran out while the student was asked
            self.pop_screen()
        if isinstance(self.screen, ExamScreen):
            self.screen.flush()
        session.submit(reason)
        where = str(session.file.path) if self.show_paths else "on the lab's server"
        end = HandedInScreen(reason, len(session.answered()), len(session.questions), where)
        if isinstance(self.screen, ExamScreen):
            self.switch_screen(end)
        else:
            self.push_screen(end)

    async def action_quit(self) -> None:
        """Keep the answer on screen, then leave (the exam can be resumed until time is up)."""
        for screen in self.screen_stack:
            if isinstance(screen, ExamScreen):
                screen.flush()
        self.exit()

    def on_unmount(self) -> None:
        """Release the session's lock (browser lab)."""
        if self.session is not None:
            self.session.close()
