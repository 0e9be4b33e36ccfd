"""Parametric cards: numbers drawn per review, substituted into prompt, code and answers."""

from __future__ import annotations

import ast
import random
import re

from .generators import DimExpr, GeneratorError, dim_expr
from .model import Card, Reject

__all__ = ["draw_params", "fill_params", "instantiate", "placeholders"]

_PLACEHOLDER = re.compile(r"\{([^{}\n]+)\}")


def draw_params(card: Card, seed: int) -> dict[str, int]:
    """Draw each parameter from its inclusive range; the same card and seed give the same values."""
    rng = random.Random(f"{card.id}:{seed}")
    return {name: rng.randint(low, high) for name, (low, high) in card.params.items()}


def _arithmetic(inner: str) -> DimExpr | None:
    """``B`` or integer arithmetic over names (``B+1``, ``2*C``, ``(H-k)//s + 1``), else None."""
    try:
        expr = dim_expr(ast.parse(inner.strip(), mode="eval").body, inner)
    except (SyntaxError, GeneratorError):
        return None
    return expr if expr.symbols and expr.minimum is None else None


def _value(inner: str, values: dict[str, int]) -> str | None:
    """The placeholder's value when every name in it is a drawn parameter, else None."""
    expr = _arithmetic(inner)
    if expr is None or not set(expr.symbols) <= set(values):
        return None
    return str(expr.evaluate(values))


def placeholders(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each ``{...}`` that reads as integer arithmetic over names, with those names: what
    ``fill_params`` would fill in, so a deck can be checked for names that are no parameter."""
    exprs = ((m.group(0), _arithmetic(m.group(1))) for m in _PLACEHOLDER.finditer(text))
    return [(text, tuple(expr.symbols)) for text, expr in exprs if expr is not None]


def fill_params(text: str, values: dict[str, int]) -> str:
    """Replace ``{B}`` or ``{B+1}`` (integer arithmetic over drawn parameters); other braces stay."""
    def sub(m: re.Match) -> str:
        value = _value(m.group(1), values)
        return m.group(0) if value is None else value

    return _PLACEHOLDER.sub(sub, text)


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
        hint_zh=f(card.hint_zh),
        accept=tuple(f(a) for a in card.accept),
        reject=tuple(Reject(f(r.answer), f(r.why)) for r in card.reject),
        params={},
    )
