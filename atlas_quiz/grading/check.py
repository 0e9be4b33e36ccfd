"""Proving cards: the reference runs, every ``accept`` is graded correct, every ``reject`` is not."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..cards import Card, instantiate
from .engine import Engine

__all__ = ["PARAMETRIC_SEEDS", "Proof", "prove_card"]

# A parametric card is proved at least at this many draws of its parameters.
PARAMETRIC_SEEDS = 3


@dataclass
class Proof:
    """The outcome of proving one card."""

    card: str
    problems: list[str] = field(default_factory=list)
    answers: int = 0
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problems


def prove_card(engine: Engine, card: Card, seeds: int = 1) -> Proof:
    """Run every answer the card carries through the engine, as a learner's answer would be.

    ``seeds`` draws of the trials (and of a parametric card's numbers) are proved: a reject
    that only fails on some draws would let the same mistake pass a learner by luck.
    """
    from .result import CardError

    start = time.perf_counter()
    proof = Proof(card.id)
    if not card.graded:
        return proof
    seeds = range(max(seeds, PARAMETRIC_SEEDS) if card.params else max(seeds, 1))
    own_answer = card.reference if card.kind in ("expr", "kernel") else card.answer if \
        card.kind == "symbolic" else None
    for seed in seeds:
        shown = instantiate(card, seed)  # answers of a parametric card name the drawn values
        checks: list[tuple[str, str, bool]] = []
        if own_answer is not None:
            checks.append(("reference", own_answer, True))
        checks += [(f"accept {a!r}", a, True) for a in shown.accept]
        checks += [(f"reject {r.answer!r}", r.answer, False) for r in shown.reject]
        if not checks:  # shape/output with no answers: still prove the code runs
            checks.append(("code", "()", False))
        for label, answer, should_pass in checks:
            try:
                res = engine.grade(card, answer, seed=seed)
            except CardError as exc:
                proof.problems.append(str(exc))
                break
            except Exception as exc:  # a broken card must not stop the check of the others
                proof.problems.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            proof.answers += 1
            at = f" (seed {seed})" if len(seeds) > 1 else ""
            if res.stage == "parse":
                # an answer the grader cannot read proves nothing about the card
                proof.problems.append(f"{label}{at} does not parse: {res.feedback}")
            elif should_pass and not res.correct:
                proof.problems.append(f"{label}{at} should be correct but is {res.verdict}: "
                                      f"{res.feedback}")
            elif not should_pass and res.correct and label != "code":
                proof.problems.append(f"{label}{at} should be rejected but is graded correct")
    proof.elapsed_ms = (time.perf_counter() - start) * 1000
    return proof
