"""A student's submission: one JSON file, rewritten atomically on every save.

The file is the record (files first): it holds the spec's hash, the student,
every answer with the time it was saved, and when and how the exam ended. The
grader reads it back through :func:`read_submission`, which trusts nothing in it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .spec import QuizSpec, check_student_id

__all__ = ["MAX_ANSWER_CHARS", "MAX_SUBMISSION_BYTES", "SUBMISSION_FORMAT", "AlreadySubmitted",
           "Answer", "Rejected", "Submission", "SubmissionFile", "iso", "parse_iso",
           "read_submission", "submission_path"]

SUBMISSION_FORMAT = "atlas-quiz-submission/1"
MAX_ANSWER_CHARS = 20_000
MAX_SUBMISSION_BYTES = 1 << 20
FINISHED = ("submitted", "time up")


def iso(when: datetime) -> str:
    """UTC time as ``2026-11-23T09:00:00.000Z`` (millisecond precision)."""
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Read back :func:`iso` (any ISO 8601 time with a zone)."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone")
    return when


class AlreadySubmitted(Exception):
    """The student has handed this exam in; it cannot be reopened."""


class Rejected(Exception):
    """A submission the grader will not grade; the message says why (for the instructor)."""


@dataclass
class Answer:
    """One answer: which card it answers, the text, and when it was last saved."""

    card: str
    text: str = ""
    saved_at: str | None = None


@dataclass
class Submission:
    """What a student handed in (or has saved so far)."""

    student: str
    spec_hash: str
    quiz: str
    started_at: str
    updated_at: str
    answers: dict[str, Answer] = field(default_factory=dict)
    submitted_at: str | None = None
    finished: str | None = None  # "submitted", "time up", or None while the exam runs

    @classmethod
    def new(cls, spec: QuizSpec, student: str, now: datetime) -> Submission:
        """An empty submission with one blank answer per question this student gets."""
        answers = {q.slot: Answer(q.card.id) for q in spec.questions_for(student)}
        stamp = iso(now)
        return cls(student, spec.hash, spec.title, stamp, stamp, answers)

    def deadline(self, spec: QuizSpec) -> datetime:
        """When time runs out: the time limit counts from the first start, across restarts."""
        return parse_iso(self.started_at) + timedelta(seconds=spec.time_limit_s)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``format`` first)."""
        d = asdict(self)
        return {"format": SUBMISSION_FORMAT, **d}

    def to_json(self) -> str:
        """The file's text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"


def submission_path(folder: str | Path, student: str) -> Path:
    """Where a student's submission lives in a folder of submissions."""
    return Path(folder) / f"{check_student_id(student)}.json"


class SubmissionFile:
    """A submission being written: every change is saved atomically (temp file, fsync, rename).

    Open it with :meth:`open`: a student who restarts after a crash gets their
    saved answers and their original deadline back; one who submitted cannot
    reopen.
    """

    def __init__(self, path: Path, submission: Submission) -> None:
        self.path = path
        self.submission = submission
        self.saves = 0

    @classmethod
    def open(cls, spec: QuizSpec, student: str, folder: str | Path, *, now: datetime) -> SubmissionFile:
        """Resume the student's file in ``folder``, or start a new one (written at once)."""
        path = submission_path(folder, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            try:
                sub = read_submission(path, spec, expected_student=student)
            except Rejected as exc:
                raise ValueError(f"{path} exists and cannot be resumed: {exc}") from None
            if sub.finished:
                raise AlreadySubmitted(f"{student} already handed this quiz in ({sub.finished} at "
                                       f"{sub.submitted_at})")
            out = cls(path, sub)
        else:
            out = cls(path, Submission.new(spec, student, now))
            out.save(now=now)
        return out

    def answer(self, slot: str) -> str:
        """The saved text of one answer."""
        return self.submission.answers[slot].text

    def set_answer(self, slot: str, text: str, *, now: datetime) -> bool:
        """Record an answer in memory (``save`` writes it); False when nothing changed.

        Only the first ``MAX_ANSWER_CHARS`` characters are kept (the grader
        rejects longer ones), and compared: typing on past the limit changes
        nothing, so nothing is written again.
        """
        ans = self.submission.answers[slot]
        text = text[:MAX_ANSWER_CHARS]
        if ans.text == text or self.submission.finished:
            return False
        ans.text = text
        ans.saved_at = iso(now)
        return True

    def save(self, *, now: datetime) -> None:
        """Write the whole submission to disk, atomically and durably."""
        self.submission.updated_at = iso(now)
        write_atomic(self.path, self.submission.to_json())
        self.saves += 1

    def submit(self, reason: str, *, now: datetime) -> None:
        """Hand the exam in (``submitted`` or ``time up``) and save; later changes are ignored."""
        if reason not in FINISHED:
            raise ValueError(f"reason must be one of {FINISHED}")
        if self.submission.finished:
            return
        self.submission.finished = reason
        self.submission.submitted_at = iso(now)
        self.save(now=now)


def read_submission(path: str | Path, spec: QuizSpec, *, expected_student: str | None = None,
                    max_bytes: int = MAX_SUBMISSION_BYTES) -> Submission:
    """Read and check a submission against the spec; raise :class:`Rejected` saying what is wrong.

    Checks the size, the JSON, the format, the spec hash, the student id, that
    every answer is one of the student's own questions for the card drawn for
    them, and each answer's length. Missing answers are blank, not an error.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise Rejected(f"oversized file: {size} bytes, more than the {max_bytes} allowed")
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise Rejected(f"unreadable file: {exc}") from None
    except json.JSONDecodeError as exc:
        raise Rejected(f"bad JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != SUBMISSION_FORMAT:
        raise Rejected(f"not an atlas-quiz submission (expected format {SUBMISSION_FORMAT!r})")
    if data.get("spec_hash") != spec.hash:
        raise Rejected("wrong spec hash: this submission was made for another quiz or another "
                       "version of this spec")
    student = data.get("student")
    try:
        check_student_id(student)
    except ValueError as exc:
        raise Rejected(str(exc)) from None
    if expected_student is not None and student != expected_student:
        raise Rejected(f"the file is for student {student!r}, not {expected_student!r}")
    answers = _answers(data.get("answers"), spec, student)
    try:
        for key in ("started_at", "updated_at"):
            parse_iso(data[key])
        if data.get("submitted_at") is not None:
            parse_iso(data["submitted_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Rejected(f"bad or missing time stamp: {exc}") from None
    finished = data.get("finished")
    if finished is not None and finished not in FINISHED:
        raise Rejected(f"unknown end of exam {finished!r}")
    return Submission(student, spec.hash, str(data.get("quiz", "")), data["started_at"],
                      data["updated_at"], answers, data.get("submitted_at"), finished)


def _answers(raw: Any, spec: QuizSpec, student: str) -> dict[str, Answer]:
    if not isinstance(raw, dict):
        raise Rejected("`answers` must be an object of item -> answer")
    drawn = {q.slot: q.card.id for q in spec.questions_for(student)}
    out = {slot: Answer(card) for slot, card in drawn.items()}
    for slot, ans in raw.items():
        if slot not in drawn:
            raise Rejected(f"unknown item {slot!r} (the quiz has {', '.join(drawn)})")
        if not isinstance(ans, dict) or not isinstance(ans.get("text"), str):
            raise Rejected(f"item {slot!r}: expected {{\"card\": ..., \"text\": ...}}")
        if ans.get("card") != drawn[slot]:
            raise Rejected(f"item {slot!r}: answers card {ans.get('card')!r}, but this student was "
                           f"drawn {drawn[slot]!r}")
        if len(ans["text"]) > MAX_ANSWER_CHARS:
            raise Rejected(f"item {slot!r}: oversized answer of {len(ans['text'])} characters "
                           f"(at most {MAX_ANSWER_CHARS})")
        saved = ans.get("saved_at")
        try:  # the late policy reads it: a time that cannot be read must not pass as on time
            if saved is not None:
                parse_iso(saved)
        except (TypeError, ValueError, AttributeError):
            raise Rejected(f"item {slot!r}: bad time stamp saved_at={saved!r}") from None
        out[slot] = Answer(drawn[slot], ans["text"], saved)
    return out
