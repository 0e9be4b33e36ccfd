"""The LaTeX renderer never crashes and never leaves a backslash: odd input, random token soup,
the Atlas formulas and every formula of the built-in decks."""

from __future__ import annotations

import random

import pytest

from atlas_quiz.render import render_inline, render_latex
from atlas_quiz.render.gallery import GALLERY


@pytest.mark.parametrize("source, expected", [
    (r"\foo", "foo"),
    (r"\weird{a} + b", "weird a + b"),
    (r"\softmax(x)", "softmax(x)"),
])
def test_unknown_commands_degrade_to_their_name(source, expected):
    assert render_latex(source) == expected


@pytest.mark.parametrize("source", [
    "", " ", r"\frac{a}{", r"x^", r"_i", r"\right)", r"\left( x", r"a & b", r"\\", r"}{",
    r"\begin{pmatrix} a & b", r"\end{cases}", r"\sqrt[", r"x^{y^{z^{w}}}", r"\text{", "%comment",
    r"\left\langle a \middle| b \right\rangle", r"\mathbf{}", r"\hat{}", r"{}^{2}", "$x$",
    r"\underbrace\sum", r"\overbrace{x}", r"\text{\\}",
])
def test_malformed_or_odd_source_renders_without_crashing_or_backslashes(source):
    assert "\\" not in render_latex(source)
    assert "\\" not in render_inline(source)


_SOUP = [
    r"\frac", r"\sqrt", "{", "}", "^", "_", "x", "2", r"\left(", r"\right)", r"\left.", r"\right|",
    "&", r"\\", r"\begin{pmatrix}", r"\end{pmatrix}", r"\begin{cases}", r"\end{cases}", r"\sum",
    r"\int", r"\max", r"\arg", r"\hat", r"\mathbf", r"\text", r"\operatorname", r"\tag", r"\foo",
    "(", ")", "[", "]", r"\{", r"\}", "|", r"\|", r"\lVert", r"\rVert", "+", "-", "=", r"\le", " ",
    r"\,", r"\quad", "'", r"\over", r"\overbrace", r"\underbrace", r"\xrightarrow", r"\boxed",
    r"\not", r"\middle|", r"\limits", r"\substack", r"\binom", "$", "%", "~", r"\begin{aligned}",
    r"\end{aligned}", r"\begin{array}{cc}", r"\end{array}", r"\mathbb", r"\boldsymbol", r"\alpha",
    "其", r"\hspace{1em}", r"\pmod", r"\phantom", r"\color{red}", r"\Big(", r"\overset",
    r"\backslash", r"\sqrt[", "#", r"\_", r"\left\langle", r"\right\rangle",
]


def test_random_token_soup_never_crashes_nor_leaves_a_backslash():
    rng = random.Random(20261123)
    for _ in range(1500):
        source = "".join(rng.choice(_SOUP) for _ in range(rng.randint(1, 12)))
        for out in (render_latex(source), render_latex(source, width=10), render_inline(source)):
            assert "\\" not in out, (source, out)


def assert_renders_cleanly(source: str) -> None:
    block = render_latex(source)
    assert "\\" not in block, block
    assert all(line == line.rstrip() for line in block.split("\n"))
    inline = render_inline(source)
    assert "\\" not in inline and "\n" not in inline


@pytest.mark.parametrize("where, source", GALLERY, ids=[w for w, _ in GALLERY])
def test_atlas_formula_renders_without_a_backslash_left(where, source):
    assert_renders_cleanly(source)


def test_every_formula_in_the_built_in_decks_renders_without_a_backslash_left(builtin_cards):
    failures = []
    for card in builtin_cards:
        if not card.latex:
            continue
        try:
            assert_renders_cleanly(card.latex)
        except Exception as exc:  # collect them all: one report names every bad card
            failures.append(f"{card.id}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


