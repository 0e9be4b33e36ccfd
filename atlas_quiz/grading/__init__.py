"""Grading: run an answer against the card's reference, compare, explain the first difference.

Imports here are lazy so that ``atlas_quiz.grading.client`` (used by the UI)
never pulls torch in; the engine and its helpers import torch when first used.
Depends on torch, sympy, numpy and the standard library only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["CardError", "Engine", "GradeResult", "Proof", "RunnerUnavailable", "prove_card"]

_LAZY = {
    "Engine": ".engine",
    "RunnerUnavailable": ".worker",
    "GradeResult": ".result",
    "CardError": ".result",
    "Proof": ".check",
    "prove_card": ".check",
}

if TYPE_CHECKING:
    from .check import Proof, prove_card
    from .engine import Engine
    from .result import CardError, GradeResult
    from .worker import RunnerUnavailable


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(name)
