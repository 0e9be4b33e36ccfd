"""What the attack tests share: their deck, the honest answer, and two ways to run an answer."""

from __future__ import annotations

import torch

from atlas_quiz.grading import Engine
from atlas_quiz.grading.wire import decode, encode

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


def run_value(runner, code: str):
    """Run ``code`` in a sandboxed child and return what it returned."""
    chunks: list[bytes] = []
    arg = encode(torch.zeros(1), chunks)
    header = {"op": "run", "kind": "expr", "code": code, "argnames": ["x"], "trials": [{"args": [arg]}]}
    response, payload = runner.run(header, b"".join(chunks), 10.0)
    trial = response["trials"][0]
    assert trial["status"] == "ok", trial.get("error")
    return decode(trial["value"], payload)[0]
