"""Parametric cards: numbers drawn per review, substituted into prompt, code and answers."""

from __future__ import annotations

import random
import re

from .model import Card, Reject

__all__ = ["draw_params", "fill_params", "instantiate"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def draw_params(card: Card, seed: int) -> dict[str, int]:
    """Draw each parameter from its inclusive range; the same card and seed give the same values."""
    rng = random.Random(f"{card.id}:{seed}")
    return {name: rng.randint(low, high) for name, (low, high) in card.params.items()}


def fill_params(text: str, values: dict[str, int]) -> str:
    """Replace ``{NAME}`` for each drawn parameter; other braces are left alone."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0),
                            text)


def instantiate(card: Card, seed: int) -> Card:
    """The card as one review shows it: parameters drawn and filled in (a fixed card is returned as is)."""
    if not card.params:
        return card
    values = draw_params(card, seed)

    def f(text: str) -> str:
        return fill_params(text, values)

    return card.with_changes(
        prompt=f(card.prompt), prompt_zh=f(card.prompt_zh), code=f(card.code),
        explain=f(card.explain), explain_zh=f(card.explain_zh), hint=f(card.hint),
        accept=tuple(f(a) for a in card.accept),
        reject=tuple(Reject(f(r.answer), f(r.why)) for r in card.reject),
        params={},
    )
