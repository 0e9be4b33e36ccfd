"""Answers in the forms learners really write: shapes, printed values, error answers, formulas."""

from __future__ import annotations

import pytest

from atlas_quiz.cards import Card
from atlas_quiz.grading.shape_cards import ERROR, is_error_answer, parse_shape
from atlas_quiz.grading.symbolic import parse_formula


def card(**kw) -> Card:
    fields = {"id": "t.card", "kind": "shape", "title": "t", "title_zh": "t", "source": "000 §1",
              "prompt": "p", **kw}
    return Card(**fields)


BROADCAST_SHAPE = card(code="torch.randn(3, 4) + torch.randn(3)")
BROADCAST_OUTPUT = card(kind="output", code="torch.randn(3, 4) + torch.randn(3)")
CUMSUM = card(kind="output", code="torch.arange(4).cumsum(0)")
CONV = {"H": "int>=1", "k": "int>=1", "s": "int>=1", "p": "int>=0"}


@pytest.mark.parametrize("text", ["`(8, 16, 16, 16)`", "shape: (8, 16, 16, 16)", "8X16X16X16",
                                  "out.shape = torch.Size([8, 16, 16, 16])", "-> (8, 16, 16, 16)",
                                  "8*16*16*16", "Shape is (8, 16, 16, 16)."])
def test_shape_answers_with_a_label_backticks_or_capital_x_are_read(text):
    assert parse_shape(text) == (8, 16, 16, 16)


@pytest.mark.parametrize("text", ["raises RuntimeError", "it raises an error", "Error!",
                                  "RuntimeError: The size of tensor a (4) must match the size of "
                                  "tensor b (3) at non-singleton dimension 1",
                                  "error (3 vs 4 cannot broadcast)", "error - the sizes differ",
                                  "it is an error", "`RuntimeError`"])
def test_an_error_answer_may_name_the_error_and_give_its_reason(engine, text):
    assert is_error_answer(text) and parse_shape(text) is ERROR
    assert engine.grade(BROADCAST_SHAPE, text).correct
    assert engine.grade(BROADCAST_OUTPUT, text).correct


@pytest.mark.parametrize("text", ["(3, 4)", "it", "the", "is", "tensor(2)", "nan", "None", "8x16",
                                  "shape: (3, 4)"])
def test_values_and_stray_words_are_not_error_answers(text):
    assert not is_error_answer(text)


def test_an_empty_shape_answer_is_not_read_as_the_scalar_shape(engine):
    scalar = card(code="torch.randn(3).sum()")
    assert engine.grade(scalar, "()").correct
    res = engine.grade(scalar, "  ")
    assert res.verdict == "error" and "the answer is empty" in res.feedback


def test_an_error_answer_is_wrong_when_the_code_runs(engine):
    ok = card(code="torch.randn(3, 4) + torch.randn(4)")
    res = engine.grade(ok, "RuntimeError: the sizes do not match")
    assert not res.correct and "expected (3, 4), got an error" in res.feedback


@pytest.mark.parametrize("text", ["(0, 1, 3, 6)", "0, 1, 3, 6", ">>> tensor([0, 1, 3, 6])",
                                  "`tensor([0, 1, 3, 6])`"])
def test_printed_values_as_a_tuple_or_pasted_with_a_prompt_are_read(engine, text):
    assert engine.grade(CUMSUM, text).correct


def test_a_tuple_of_values_still_needs_the_right_values_shape_and_kind(engine):
    assert "at [2]: expected 3, got 2" in engine.grade(CUMSUM, "(0, 1, 2, 3)").feedback
    assert "shape (4,)" in engine.grade(CUMSUM, "(1, 3, 6)").feedback
    assert "ints, not floats" in engine.grade(CUMSUM, "(0., 1., 3., 6.)").feedback
    pair = card(kind="output", code="torch.tensor([1, 2]), torch.tensor([3, 4])")
    assert engine.grade(pair, "(tensor([1, 2]), tensor([3, 4]))").correct
    assert not engine.grade(pair, "(tensor([1, 2]), tensor([3, 5]))").correct


def test_a_float_printed_with_a_trailing_point_keeps_its_point(engine):
    sixty_six = card(kind="output", code="torch.tensor(66.)")
    assert engine.grade(sixty_six, "`66.`").correct and engine.grade(sixty_six, ">>> 66.").correct


@pytest.mark.parametrize("text, correct", [
    ("tensor([0.5000, 0.8808])", True), ("tensor([0.5, 0.8807])", True),  # rounded or cut at 4 decimals
    ("tensor([0.5000, 0.8800])", False), ("tensor([0.5000, 0.8820])", False),  # the 3rd decimal is wrong
    ("tensor([5.0000e-01, 8.8080e-01])", True),
])
def test_printed_floats_are_held_to_the_four_decimals_pytorch_prints(engine, text, correct):
    sigmoid = card(kind="output", code="torch.sigmoid(torch.tensor([0, 2]))")
    assert engine.grade(sigmoid, text).correct == correct


def test_floor_and_ceil_brackets_are_read_as_floor_and_ceil():
    assert parse_formula("⌊(H + 2p − k)/s⌋ + 1", CONV) == parse_formula("floor((H + 2*p - k)/s) + 1", CONV)
    blocks = {"S": "int>=1", "k": "int>=1"}
    assert parse_formula("⌈S/k⌉", blocks) == parse_formula("ceil(S/k)", blocks)


def test_sigma_is_the_sigmoid_unless_the_card_names_a_variable_sigma():
    x = {"x": "real"}
    assert parse_formula("σ(x)(1 - σ(x))", x) == parse_formula("sigmoid(x)*(1 - sigmoid(x))", x)
    with_sigma = {"x": "real", "σ": "positive"}
    assert parse_formula("σ*x", with_sigma) == parse_formula("x*σ", with_sigma)


@pytest.mark.parametrize("text", ["    e = (x - x.amax(-1, keepdim=True)).exp()\n    return e / e.sum(-1, keepdim=True)",
                                  "\treturn x.softmax(-1)", "    x.softmax(-1)"])
def test_a_body_copied_with_its_function_indent_is_graded(engine, text):
    softmax = card(kind="expr", inputs={"x": "randn(B, n)"}, reference="torch.softmax(x, -1)")
    assert engine.grade(softmax, text).correct


def test_a_body_indented_unevenly_is_still_a_syntax_error():
    from atlas_quiz.cards import AnswerSyntaxError, check_syntax

    with pytest.raises(AnswerSyntaxError, match="indent"):
        check_syntax("    y = x * 2\n  return y")


def test_a_root_sign_takes_the_name_number_or_bracket_after_it():
    v = {"x": "real", "mu": "real", "s": "positive"}
    assert parse_formula("1/(s√(2π))", v) == parse_formula("1/(s*sqrt(2*pi))", v)
    assert parse_formula("2√s", v) == parse_formula("2*sqrt(s)", v)
    assert parse_formula("√2 s", v) == parse_formula("sqrt(2)*s", v)


@pytest.mark.parametrize("text", ["C*(2", "floor((H - k)/s + 1", "(n_in*(n_out + 1)"])
def test_a_formula_with_an_open_bracket_says_so_in_plain_words(text):
    with pytest.raises(ValueError, match="could not read the formula: a bracket is not closed$"):
        parse_formula(text, {"C", "H", "k", "s", "n_in", "n_out"})
