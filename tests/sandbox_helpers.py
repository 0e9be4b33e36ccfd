"""What the sandbox tests share: running one piece of code in a sandboxed child, below the engine."""

from __future__ import annotations

import torch

from atlas_quiz.grading.wire import decode, encode


def run_in_child(runner, code: str, timeout: float = 5.0):
    """Run ``code`` over one input ``x`` in a sandboxed child and return the value it returned."""
    chunks: list[bytes] = []
    arg = encode(torch.zeros(3), chunks)
    header = {"op": "run", "kind": "expr", "code": code, "argnames": ["x"], "trials": [{"args": [arg]}]}
    response, payload = runner.run(header, b"".join(chunks), timeout)
    trial = response["trials"][0]
    assert trial["status"] == "ok", trial.get("error")
    return decode(trial["value"], payload)[0]
