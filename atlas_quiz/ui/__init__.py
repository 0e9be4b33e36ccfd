"""The Textual review app. Never imports torch: grading goes through ``grading.client``."""

__all__ = ["ReviewApp"]


def __getattr__(name: str):
    # Lazy, so that ``import atlas_quiz.ui.session`` does not pay for Textual.
    if name == "ReviewApp":
        from .app import ReviewApp

        return ReviewApp
    raise AttributeError(name)
