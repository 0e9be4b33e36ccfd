"""What the attack tests share: their deck, the honest answer, and grading an attack then an honest answer."""

from __future__ import annotations

from atlas_quiz.grading import Engine

HONEST = "x.clamp(min=0)"

DECK = '''
[deck]
name = "Adversarial tests"

[[card]]
id = "adv.relu"
kind = "expr"
title = "ReLU"
title_zh = "ReLU"
source = "000 §3"
prompt = "Apply ReLU to x."
inputs = { x = "randn(B, n)" }
reference = "torch.relu(x)"

[[card]]
id = "adv.log"
kind = "expr"
title = "Logarithm"
title_zh = "对数"
source = "000 §3"
prompt = "The natural logarithm of x (NaN where x < 0)."
inputs = { x = "randn(B, n)" }
reference = "torch.log(x)"
'''


def contained(engine: Engine, card, answer: str, seed: int = 0):
    """Grade a hostile answer, then check that the next honest answer is still graded correct."""
    result = engine.grade(card, answer, seed=seed)
    after = engine.grade(card, HONEST, seed=seed + 1)
    assert after.correct, f"the engine stopped serving: {after.verdict}: {after.feedback}"
    return result
