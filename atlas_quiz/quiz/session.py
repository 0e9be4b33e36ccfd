"""An exam in progress, as the exam app drives it: questions, answers, the clock, handing in.

No Textual here: the app is a thin view over :class:`ExamSession`, and tests
drive a session directly with a fake clock. :class:`LabState` is the browser
lab's server folder (token hashes, submissions, session locks) and the login.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .spec import Question, QuizSpec
from .submission import AlreadySubmitted, SubmissionFile
from .tokens import SessionLock, TokenStore

__all__ = ["Clock", "ExamSession", "LabState", "LoginFailed", "utc_now"]

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)  # `quiz session` sends it to the lab server's console


def utc_now() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(timezone.utc)


class ExamSession:
    """One student's exam: what they see (never a reference or a verdict) and what they save."""

    def __init__(self, spec: QuizSpec, file: SubmissionFile, *, clock: Clock = utc_now,
                 on_close: Callable[[], None] | None = None) -> None:
        self.spec = spec
        self.file = file
        self.clock = clock
        self.questions: list[Question] = spec.questions_for(file.submission.student)
        self.deadline = file.submission.deadline(spec)
        self._on_close = on_close

    @classmethod
    def start(cls, spec: QuizSpec, student: str, folder: str | Path, *,
              clock: Clock = utc_now) -> ExamSession:
        """Open (or resume) ``student``'s submission in ``folder``; raises ``AlreadySubmitted``."""
        return cls(spec, SubmissionFile.open(spec, student, folder, now=clock()), clock=clock)

    @property
    def student(self) -> str:
        """Whose exam this is."""
        return self.file.submission.student

    @property
    def finished(self) -> str | None:
        """``submitted`` or ``time up`` once handed in, else None."""
        return self.file.submission.finished

    def remaining(self) -> float:
        """Seconds left (0 when time is up)."""
        return max(0.0, (self.deadline - self.clock()).total_seconds())

    def answer(self, slot: str) -> str:
        """The saved answer to one question."""
        return self.file.answer(slot)

    def answered(self) -> set[str]:
        """Slots with a non-blank answer."""
        return {s for s, a in self.file.submission.answers.items() if a.text.strip()}

    def record(self, slot: str, text: str) -> bool:
        """Keep an answer in memory; the app saves it soon after (debounced) with :meth:`save`."""
        return self.file.set_answer(slot, text, now=self.clock())

    def save(self) -> None:
        """Write the submission to disk now (atomic, durable)."""
        if not self.finished:
            self.file.save(now=self.clock())

    def submit(self, reason: str = "submitted") -> None:
        """Hand the exam in; ``time up`` when the clock ran out."""
        self.file.submit(reason, now=self.clock())

    def close(self) -> None:
        """Release what the session holds (the lab's session lock)."""
        if self._on_close is not None:
            self._on_close()
            self._on_close = None


class LoginFailed(Exception):
    """A token that opens nothing; the message is safe to show the student."""


@dataclass
class LabState:
    """The browser lab's server folder: ``tokens.json``, ``submissions/``, ``locks/``."""

    folder: Path

    @property
    def tokens_path(self) -> Path:
        """The token hashes."""
        return self.folder / "tokens.json"

    @property
    def submissions(self) -> Path:
        """Where the lab keeps every submission (grade them from here)."""
        return self.folder / "submissions"

    def login(self, spec: QuizSpec, token: str, *, clock: Clock = utc_now) -> ExamSession:
        """The session a token opens: checks the token, one window at a time, one submission.

        Every refusal is a :class:`LoginFailed` whose message the student may
        read; what went wrong on the server (a token file or a saved submission
        that cannot be read, with its path) goes to the log, for the instructor.
        """
        try:
            store = TokenStore.load(self.tokens_path, spec.hash)
        except (ValueError, OSError) as exc:
            log.error("lab login: cannot read the token hashes in %s: %s", self.tokens_path, exc)
            raise LoginFailed("This lab cannot check tokens right now; ask your instructor.") from None
        student = store.student_for(token)
        if student is None:
            raise LoginFailed("That token is not valid for this quiz. Check it and try again.")
        lock = SessionLock(self.folder / "locks", student)
        if not lock.acquire():
            raise LoginFailed("This token is in use in another window. Close that one first.")
        try:
            file = SubmissionFile.open(spec, student, self.submissions, now=clock())
        except AlreadySubmitted:
            lock.release()
            raise LoginFailed("This token has already been used to hand the quiz in.") from None
        except (ValueError, OSError) as exc:
            lock.release()
            log.error("lab login: %s's saved answers cannot be opened: %s", student, exc)
            raise LoginFailed("Your saved answers cannot be opened; ask your instructor.") from None
        except BaseException:
            lock.release()
            raise
        return ExamSession(spec, file, clock=clock, on_close=lock.release)
