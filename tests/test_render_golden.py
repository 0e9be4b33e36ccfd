"""Golden tests: a dozen hard formulas from the decks' subjects, pinned exactly as they render.

Each ``tests/golden/render/NAME.tex`` holds the source and ``NAME.txt`` the
expected terminal text, so a reviewer reads both side by side. After a
deliberate layout change, run with ``ATLAS_QUIZ_UPDATE_GOLDEN=1`` to rewrite
the ``.txt`` files (those tests then fail once, so the change is reviewed), and
read the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from atlas_quiz.render import render_latex

GOLDEN = Path(__file__).parent / "golden" / "render"
PINNED = {
    "adam_update", "arg_max_policy", "attention", "conv_output_size", "cross_entropy",
    "ddpm_forward", "ddpm_reverse", "elbo", "kl_gaussians", "layernorm", "multivariate_normal",
    "rmsnorm", "rope_rotation", "softmax", "ssm_discretisation",
}


def test_every_pinned_formula_has_its_source_and_its_expected_text():
    assert {p.stem for p in GOLDEN.glob("*.tex")} == PINNED
    assert {p.stem for p in GOLDEN.glob("*.txt")} == PINNED


@pytest.mark.parametrize("name", sorted(PINNED))
def test_hard_formula_renders_exactly_as_pinned(name):
    source = (GOLDEN / f"{name}.tex").read_text(encoding="utf-8").strip()
    rendered = render_latex(source) + "\n"
    expected_file = GOLDEN / f"{name}.txt"
    if os.environ.get("ATLAS_QUIZ_UPDATE_GOLDEN") == "1":
        expected_file.write_text(rendered, encoding="utf-8")
        pytest.fail(f"{expected_file.name} rewritten: review the diff, then run again")
    assert rendered == expected_file.read_text(encoding="utf-8")
