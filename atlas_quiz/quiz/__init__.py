"""Instructor-graded quizzes: specs, submissions, tokens, batch grading and the gradebook.

No Textual here (the exam app in ``atlas_quiz.ui.exam`` is a view over
:class:`ExamSession`), and no torch at import: the grading engine is imported
only when :func:`grade_class` runs.
"""

from .gradebook import ItemGrade, StudentGrade, fmt_points, item_analysis
from .grader import GRADER_VERSION, ClassReport, collect_submissions, grade_class
from .session import ExamSession, LabState, LoginFailed
from .spec import Item, Question, QuizSpec, check_student_id, derive_seed
from .spec_loader import SpecError, load_spec
from .submission import (
    MAX_ANSWER_CHARS,
    MAX_SUBMISSION_BYTES,
    AlreadySubmitted,
    Rejected,
    Submission,
    SubmissionFile,
    read_submission,
    submission_path,
)
from .tokens import TokenStore, read_roster

__all__ = [
    "GRADER_VERSION",
    "MAX_ANSWER_CHARS",
    "MAX_SUBMISSION_BYTES",
    "AlreadySubmitted",
    "ClassReport",
    "ExamSession",
    "Item",
    "ItemGrade",
    "LabState",
    "LoginFailed",
    "Question",
    "QuizSpec",
    "Rejected",
    "SpecError",
    "StudentGrade",
    "Submission",
    "SubmissionFile",
    "TokenStore",
    "check_student_id",
    "collect_submissions",
    "derive_seed",
    "fmt_points",
    "grade_class",
    "item_analysis",
    "load_spec",
    "read_roster",
    "read_submission",
    "sample_dir",
    "submission_path",
]


def sample_dir():
    """The folder of the sample quiz and its deck (``atlas-quiz quiz init`` copies it)."""
    from pathlib import Path

    return Path(__file__).resolve().parent / "sample"
