"""``atlas-quiz grade --mode strict``: one answer, and a batch graded in parallel, in order."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from atlas_quiz.cli import cli

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(shutil.which("bwrap") is None,
                       reason="strict mode needs bubblewrap (bwrap), which is not installed"),
]

DECK = '''
[deck]
name = "Strict CLI"

[[card]]
id = "c.softmax"
kind = "expr"
title = "Softmax"
title_zh = "Softmax"
source = "000 §4"
prompt = "Softmax over the last dim."
inputs = { x = "randn(B, n)" }
reference = "torch.softmax(x, -1)"

[[card]]
id = "c.shape"
kind = "shape"
title = "Shape"
title_zh = "形状"
source = "000 §5"
prompt = "Shape?"
code = "torch.randn(2, 3).T"
'''


@pytest.fixture
def deck_file(tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text(DECK, encoding="utf-8")
    return path


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_strict_grade_of_one_answer_exits_zero_when_correct(deck_file):
    out = run("grade", "c.softmax", "x.exp() / x.exp().sum(-1, keepdim=True)", "--mode", "strict",
              "--deck", deck_file, "--device", "cpu", "--json")
    assert out.exit_code == 0 and json.loads(out.output)["verdict"] == "correct"


def test_strict_batch_with_jobs_writes_results_in_input_order(tmp_path, deck_file):
    answers = ["torch.softmax(x, -1)", "x", "(3, 2)", "F.softmax(x, dim=-1)", "import os\nos._exit(3)",
               "x.softmax(0)", "(2, 3)", "torch.exp(x - x.logsumexp(-1, keepdim=True))"] * 3
    lines = [{"id": i, "card": "c.shape" if a.startswith("(") else "c.softmax", "answer": a}
             for i, a in enumerate(answers)]
    batch = tmp_path / "answers.jsonl"
    batch.write_text("\n".join(json.dumps(line) for line in lines))
    out = run("grade", "--batch", batch, "--mode", "strict", "--jobs", 2, "--deck", deck_file,
              "--device", "cpu")
    results = [json.loads(line) for line in out.output.splitlines()]
    assert out.exit_code == 1
    assert [r["id"] for r in results] == list(range(len(answers)))
    expected = [True, False, True, True, False, False, False, True] * 3
    assert [r["correct"] for r in results] == expected
    assert "status 3" in results[4]["feedback"]
