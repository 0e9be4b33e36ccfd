"""The card model, the TOML deck loader and its validation. Standard library only."""

from .answers import AnswerSyntaxError, answer_function, check_syntax
from .generators import (
    GENERATORS,
    DimRule,
    GeneratorError,
    InputSpec,
    parse_dim_rule,
    parse_generator,
)
from .loader import DeckError, Problem, deck_files, load_deck, load_decks
from .model import GRADED_KINDS, KINDS, Card, Deck, Reject, chapter_of, seed_of
from .params import draw_params, fill_params, instantiate

__all__ = [
    "GENERATORS",
    "GRADED_KINDS",
    "KINDS",
    "AnswerSyntaxError",
    "Card",
    "Deck",
    "DeckError",
    "DimRule",
    "GeneratorError",
    "InputSpec",
    "Problem",
    "Reject",
    "answer_function",
    "chapter_of",
    "check_syntax",
    "deck_files",
    "draw_params",
    "fill_params",
    "instantiate",
    "load_deck",
    "load_decks",
    "parse_dim_rule",
    "parse_generator",
    "seed_of",
]
