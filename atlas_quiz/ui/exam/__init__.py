"""The exam app: a quiz taken in the terminal (``quiz take``) or in a browser (``quiz serve``).

A view over :class:`atlas_quiz.quiz.ExamSession`: it shows the questions, a
timer and the student's own answers, saves as they type, and hands in. It
never grades, so it can never show a reference or a verdict.
"""

__all__ = ["ExamApp"]


def __getattr__(name: str):
    # Lazy, so that importing the package does not pay for Textual.
    if name == "ExamApp":
        from .app import ExamApp

        return ExamApp
    raise AttributeError(name)
