"""The ``atlas-quiz`` command line: a thin layer over the library; each command lives in ``commands/``."""

from __future__ import annotations

import click

from . import __version__
from .commands import deck, export, grade, optimize, quiz, review

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="atlas-quiz")
def cli() -> None:
    """Learn the mathematics of deep learning as working PyTorch.

    \b
    Example:
        atlas-quiz deck build          # compile the built-in decks
        atlas-quiz review              # today's due cards in the terminal
        atlas-quiz deck check decks/   # prove every card
    """


cli.add_command(deck.deck)
cli.add_command(grade.grade)
cli.add_command(export.export)
cli.add_command(optimize.optimize)
cli.add_command(review.review)
cli.add_command(review.serve)
cli.add_command(quiz.quiz)


def main() -> None:
    """Entry point of the console script."""
    cli()
