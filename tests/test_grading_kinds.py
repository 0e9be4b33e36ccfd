"""Grading each card kind through a real engine, as a learner's answer would be graded."""

from __future__ import annotations

import re

import pytest

from atlas_quiz.cards import Card, Reject
from atlas_quiz.grading.output_cards import Literal, TensorLiteral, parse_literal
from atlas_quiz.grading.shape_cards import ERROR, parse_shape
from atlas_quiz.grading.symbolic import FormulaError, parse_formula


def card(**kw) -> Card:
    fields = {"id": "t.card", "kind": "expr", "title": "t", "title_zh": "t", "source": "000 §1",
              "prompt": "p", **kw}
    return Card(**fields)


ROWSUM = card(inputs={"x": "randn(B, d)"}, reference="x.sum(-1, keepdim=True)")
SOFTMAX = card(inputs={"x": "randn(B, n)"}, reference="torch.softmax(x, -1)",
               stress={"x": "randn(B, n, scale=1e4)"})


# --- expr ------------------------------------------------------------------------------------

def test_reference_itself_is_correct(engine):
    res = engine.grade(ROWSUM, ROWSUM.reference)
    assert res.correct and res.stage == "ok" and res.feedback == "correct on all 4 trials"


def test_missing_keepdim_is_a_shape_error_even_though_it_broadcasts(engine):
    res = engine.grade(ROWSUM, "x.sum(-1)")
    assert res.verdict == "wrong" and res.stage == "shape" and not res.shape_ok
    assert res.feedback.startswith("expected shape (")


def test_a_later_wrong_shape_is_reported_when_the_first_difference_is_in_the_values(engine):
    # Values differ on trial 1 (typical sizes); the size-1 trial drops the kept dimension.
    res = engine.grade(ROWSUM, "x.sum(-1, keepdim=True) + 1 if B > 1 else x.sum(-1)")
    assert res.stage == "values" and not res.shape_ok and "trial 1 of 4" in res.feedback
    assert res.details["shape_failure"] == ("wrong shape on trial 2 of 4 (size 1: B=1, d=1): "
                                            "expected shape (1, 1), got (1,)")


def test_a_later_error_is_reported_as_the_reason_shapes_are_not_ok(engine):
    res = engine.grade(ROWSUM, "x.sum(-1, keepdim=True) + 1 if B > 1 else x.nope()")
    assert res.stage == "values" and not res.shape_ok
    assert res.details["shape_failure"].startswith("error on trial 2 of 4 (size 1: B=1, d=1): ")
    assert "nope" in res.details["shape_failure"]


def test_right_shapes_with_wrong_values_report_no_shape_failure(engine):
    res = engine.grade(ROWSUM, "x.sum(-1, keepdim=True) + 1")
    assert res.stage == "values" and res.shape_ok and "shape_failure" not in res.details


def test_wrong_dtype_is_reported_before_values(engine):
    res = engine.grade(ROWSUM, "x.double().sum(-1, keepdim=True)")
    assert res.stage == "dtype" and "torch.float64" in res.feedback and res.shape_ok


def test_naive_softmax_fails_only_the_stress_trial_with_nan(engine):
    res = engine.grade(SOFTMAX, "torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)")
    assert res.verdict == "wrong" and "NaN in the wrong place" in res.feedback
    assert "trial 5 of 5, stress" in res.feedback and res.shape_ok


def test_stable_softmax_by_hand_passes_the_stress_trial(engine):
    answer = "z = x - x.max(-1, keepdim=True).values\nreturn z.exp() / z.exp().sum(-1, keepdim=True)"
    assert engine.grade(SOFTMAX, answer).correct


def test_modifying_an_input_in_place_is_wrong_even_with_right_values(engine):
    res = engine.grade(ROWSUM, "y = x.sum(-1, keepdim=True).clone()\nx.zero_()\nreturn y")
    assert res.stage == "mutation" and "'x'" in res.feedback


def test_in_place_is_allowed_when_the_card_says_so(engine):
    inplace = card(inputs={"x": "randn(n)"}, reference="x.clamp(min=0)", inplace=True)
    assert engine.grade(inplace, "x.clamp_(min=0)").correct


def test_error_feedback_names_the_answer_line_and_the_trial(engine):
    res = engine.grade(ROWSUM, "y = x\nz = y @ y\nreturn z")
    assert res.verdict == "error" and res.feedback.startswith("line 2: RuntimeError")
    assert "(trial 1 of 4" in res.feedback and res.details["line"] == 2


def test_known_mistake_is_named_with_its_reason(engine):
    c = card(inputs={"x": "randn(B, d)"}, reference="x - x.mean(-1, keepdim=True)",
             reject=(Reject("x - x.mean()", "you centred on the mean of all elements"),))
    res = engine.grade(c, "x - x.mean(dim=None)")
    assert res.mistake == "you centred on the mean of all elements"
    assert res.feedback.startswith("Known mistake: you centred")


def test_a_different_wrong_answer_names_no_mistake(engine):
    c = card(inputs={"x": "randn(B, d)"}, reference="x * 2", reject=(Reject("x * 3", "tripled"),))
    assert engine.grade(c, "x * 4").mistake == ""


def test_print_output_is_returned_capped(engine):
    res = engine.grade(ROWSUM, "print('hello ' * 5000)\nreturn x.sum(-1, keepdim=True)")
    assert res.correct and res.output.startswith("hello hello") and res.output.endswith("truncated]")
    assert len(res.output) < 2100


def test_returning_a_python_number_where_a_tensor_is_expected(engine):
    c = card(inputs={"x": "randn(n)"}, reference="x.sum()")
    res = engine.grade(c, "x.sum().item()")
    assert res.stage == "type" and "got float" in res.feedback


def test_crash_is_an_error_and_the_next_answer_is_graded(engine):
    res = engine.grade(ROWSUM, "import os\nos._exit(3)")
    assert res.verdict == "error" and "exited with status 3" in res.feedback
    assert engine.grade(ROWSUM, ROWSUM.reference).correct


def test_syntax_error_is_reported_without_running(engine):
    res = engine.grade(ROWSUM, "x.sum(-1,")
    assert res.verdict == "error" and res.stage == "parse" and "line 1" in res.feedback


# --- shape -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["(8, 16, 16, 16)", "8,16,16,16", "torch.Size([8, 16, 16, 16])",
                                  "[8, 16, 16, 16]", "8 x 16 x 16 x 16", "Size([8, 16, 16, 16])"])
def test_shape_answers_are_read_in_any_common_form(text):
    assert parse_shape(text) == (8, 16, 16, 16)


def test_shape_answer_error_and_scalar():
    assert parse_shape("error") is ERROR and parse_shape("Error.") is ERROR
    assert parse_shape("()") == () and parse_shape("torch.Size([])") == () and parse_shape("(5,)") == (5,)
    with pytest.raises(ValueError, match="could not read"):
        parse_shape("(8, B)")


def test_shape_card_runs_its_code_on_meta_and_explains_errors(engine):
    conv = card(kind="shape", code="nn.Conv2d(3, 16, 3, stride=2, padding=1)(torch.randn(8, 3, 32, 32))")
    assert engine.grade(conv, "torch.Size([8, 16, 16, 16])").correct
    wrong = engine.grade(conv, "(8, 16, 15, 15)")
    assert wrong.feedback == "expected (8, 16, 16, 16), got (8, 16, 15, 15) (dimension 2 differs)"
    bad = card(kind="shape", code="torch.randn(3, 4) + torch.randn(3)")
    assert engine.grade(bad, "error").correct
    res = engine.grade(bad, "(3, 4)")
    assert "the code raises RuntimeError" in res.feedback


def test_parametric_shape_card_grades_the_drawn_numbers(engine):
    c = card(kind="shape", code="torch.randn({B}, 3).sum(0)", params={"B": (2, 50)},
             prompt="B={B}")
    from atlas_quiz.cards import instantiate

    for seed in range(3):
        assert engine.grade(c, "(3,)", seed=seed).correct
    shown = instantiate(c, 4)
    b = int(shown.prompt.split("=")[1])
    c2 = card(kind="shape", code="torch.randn({B}, 3)", params={"B": (2, 50)})
    assert engine.grade(c2, f"({b}, 3)", seed=4).correct == (instantiate(c2, 4).code == f"torch.randn({b}, 3)")


# --- output ----------------------------------------------------------------------------------

def test_output_literals_parse_without_evaluation(tmp_path):
    assert parse_literal("tensor([[3], [12]])") == TensorLiteral([[3], [12]], "int")
    assert parse_literal("tensor([1., 2.], requires_grad=True)").kind == "float"
    assert parse_literal("tensor([0.5000, 1.0000], grad_fn=<MulBackward0>)").values == [0.5, 1.0]
    assert parse_literal("tensor([1, 2], dtype=torch.int32)").dtype == "int32"
    assert parse_literal("(tensor([1]), 3)")[1] == 3
    marker = tmp_path / "pwned"
    with pytest.raises(Literal):
        parse_literal(f"__import__('os').system('touch {marker}')")
    assert not marker.exists()


def test_output_card_checks_values_shape_and_int_versus_float(engine):
    c = card(kind="output", code="torch.arange(6).reshape(2, 3).sum(1, keepdim=True)")
    assert engine.grade(c, "tensor([[ 3],\n        [12]])").correct
    assert engine.grade(c, "[[3], [12]]").correct
    assert "shape (2, 1)" in engine.grade(c, "tensor([3, 12])").feedback
    assert "ints, not floats" in engine.grade(c, "tensor([[3.], [12.]])").feedback
    f = card(kind="output", code="torch.tensor([1.0, 2.0]) / 3")
    assert engine.grade(f, "tensor([0.3333, 0.6667])").correct
    assert not engine.grade(f, "tensor([0.3333, 0.7])").correct


def test_output_card_whose_code_raises_expects_error(engine):
    c = card(kind="output", code="torch.arange(4).float().mean(dim=3)")
    assert engine.grade(c, "error").correct
    assert "raises an error" in engine.grade(c, "tensor(1.5)").feedback


def test_a_broadcast_error_after_a_reduction_without_keepdim_says_what_went_wrong(engine):
    centre = card(inputs={"x": "randn(3, 5)"}, reference="x - x.mean(-1, keepdim=True)")
    res = engine.grade(centre, "x - x.mean(-1)")
    assert res.verdict == "error" and "must match the size" in res.feedback
    assert "without keepdim=True drops its axis" in res.feedback
    other = engine.grade(centre, "x - x.mean(-1, keepdim=True)[:2]")  # the axis was kept: no note
    assert other.verdict == "error" and "keepdim" not in other.feedback.split("RuntimeError")[1]


# --- symbolic --------------------------------------------------------------------------------

CONV = card(kind="symbolic", answer="floor((H + 2*p - k)/s) + 1",
            variables={"H": "int>=1", "k": "int>=1", "s": "int>=1", "p": "int>=0"},
            reject=(Reject("(H + 2*p - k)/s + 1", "forgot the floor"),))


@pytest.mark.parametrize("answer", ["(H + 2p - k)//s + 1", "floor((H-k+2*p)/s)+1",
                                    "H_out = (H + 2*p - k) // s + 1"])
def test_equivalent_formulas_are_correct(engine, answer):
    assert engine.grade(CONV, answer).correct


def test_wrong_formula_shows_a_point_where_it_differs_and_names_the_mistake(engine):
    res = engine.grade(CONV, "(H + 2*p - k)/s + 1")
    assert res.verdict == "wrong" and res.mistake == "forgot the floor"
    assert "your formula gives" in res.feedback


def test_sympy_proof_is_reported_for_algebraic_identities(engine):
    c = card(kind="symbolic", answer="sigmoid(x) * (1 - sigmoid(x))", variables={"x": "real"})
    res = engine.grade(c, "exp(-x)/(1+exp(-x))^2")
    assert res.correct


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('x')", "not allowed"),
    ("__import__('os')", "unknown function '__import__'"),
    ("().__class__", "not allowed"),
    ("x.real", "not allowed"),
    ("Cin * k", "unknown name 'Cin'"),
    ("2 ** 100000", "too large"),
    ("2 ** (2 ** x)", "too large"),
    ("lambda: 1", "not allowed"),
    ("exp", "is a function"),
])
def test_formula_parser_refuses_anything_but_maths(text, message):
    with pytest.raises(FormulaError, match=message):
        parse_formula(text, {"x": "real", "k": "int>=1"})


def test_caret_and_implicit_products_are_understood():
    x = parse_formula("2x^2 + 3(x+1)", {"x": "real"})
    assert str(x.expand()) == "2*x**2 + 3*x + 3"


def test_deck_check_reports_an_answer_the_grader_cannot_read(engine):
    from atlas_quiz.grading import prove_card

    c = card(kind="shape", code="torch.randn(2, 3)", accept=("(2, 3)",), reject=(Reject("(2, B)"),))
    proof = prove_card(engine, c)
    assert not proof.ok and "does not parse" in proof.problems[0]


def test_torch_return_types_cross_as_tuples(engine):
    c = card(inputs={"A": "randn(n, n)"}, reference="tuple(torch.linalg.qr(A))")
    assert engine.grade(c, "torch.linalg.qr(A)").correct
    m = card(inputs={"x": "randn(B, n)"}, reference="(x.max(0).values, x.max(0).indices)")
    assert engine.grade(m, "torch.max(x, 0)").correct


def test_an_answer_may_end_in_a_with_block(engine):
    c = card(inputs={"x": "randn(n)"}, reference="x * 2")
    assert engine.grade(c, "with torch.no_grad():\n    y = x * 2\n    return y").correct


@pytest.mark.parametrize("text", ["error", "RuntimeError", "raises", "It raises.", "torch.OutOfMemoryError"])
def test_error_answers_are_understood_by_shape_and_output_cards(engine, text):
    bad = card(kind="shape", code="torch.randn(3, 4) + torch.randn(3)")
    out = card(kind="output", code="torch.randn(3, 4) + torch.randn(3)")
    assert engine.grade(bad, text).correct and engine.grade(out, text).correct


def test_more_seeds_catch_a_reject_that_fails_only_on_some_draws(engine):
    from atlas_quiz.grading import prove_card

    # on a 0/1 vector, max equals sum whenever at most one entry is 1: a mistake that passes by luck
    c = card(inputs={"x": "bernoulli(n)"}, reference="x.sum()", trials=1,
             reject=(Reject("x.max()", "max is not sum"),), accept=("x.sum(0)",))
    proved_by_one_draw = [s for s in range(12)
                          if prove_card(engine, c.with_changes(id=f"t.s{s}"), seeds=1).ok]
    assert proved_by_one_draw, "with one draw, some variants look proved"
    variant = c.with_changes(id=f"t.s{proved_by_one_draw[0]}")
    assert not prove_card(engine, variant, seeds=12).ok  # more draws find the lucky pass


def test_a_bare_list_must_also_get_ints_and_floats_right(engine):
    ints = card(kind="output", code="torch.relu(torch.tensor([-1, 0, 3]))")
    assert engine.grade(ints, "[0, 0, 3]").correct
    assert "ints, not floats" in engine.grade(ints, "[0., 0., 3.]").feedback
    floats = card(kind="output", code="torch.tensor([1.0, 2.0]) * 2")
    assert engine.grade(floats, "[2., 4.]").correct and not engine.grade(floats, "[2, 4]").correct
    assert engine.grade(card(kind="output", code="torch.tensor(66.)"), "66.").correct


def test_a_formula_off_by_a_tiny_constant_is_wrong(engine):
    c = card(kind="symbolic", answer="2*n*k*m", variables={"n": "int>=1", "k": "int>=1", "m": "int>=1"})
    res = engine.grade(c, "2*n*k*m + 1e-9")
    assert res.verdict == "wrong" and "constant" in res.feedback
    assert engine.grade(c, "2nmk").correct and engine.grade(c, "2 n k m").correct


def test_a_formula_missing_a_constant_term_is_told_which_constant(engine):
    gauss = card(kind="symbolic", answer="-(x - mu)^2 / (2*s^2) - log(s) - log(2*pi)/2",
                 variables={"x": "real", "mu": "real", "s": "positive"})
    res = engine.grade(gauss, "-(x - mu)^2 / (2*s^2) - log(s)")
    assert res.verdict == "wrong" and "by the constant log(2)/2 + log(pi)/2 (≈ 0.918939)" in res.feedback
    res = engine.grade(gauss, "-(x - mu)^2 / s^2 - log(s) - log(2*pi)/2")  # not a constant apart
    assert "your formula gives" in res.feedback and "constant" not in res.feedback


def test_values_a_hair_apart_are_shown_with_the_digits_that_tell_them_apart(engine):
    c = card(kind="symbolic", answer="2*n*k*m", variables={"n": "int>=1", "k": "int>=1", "m": "int>=1"})
    res = engine.grade(c, "2.0000001*n*k*m")
    expected, got = re.search(r"expected (\S+), your formula gives (\S+)", res.feedback).groups()
    assert expected != got and float(got) / float(expected) == pytest.approx(1.00000005)


def test_unicode_and_more_functions_are_read():
    assert parse_formula("ln(2π)", {}) == parse_formula("log(2*pi)", {})
    x = parse_formula("sech(x)^2", {"x": "real"})
    assert parse_formula("x²", {"x": "real"}) == parse_formula("x^2", {"x": "real"}) and x is not None


def test_a_name_typo_is_caught_before_running_and_lists_the_names_in_scope(engine):
    res = engine.grade(ROWSUM, "X.sum(-1, keepdim=True)")
    assert res.verdict == "error" and res.stage == "parse" and res.details["unknown"] == ["X"]
    assert "unknown name 'X'" in res.feedback and "x, B, d" in res.feedback
    helper = "import numpy as np\ns = lambda t: t.sum(-1, keepdim=True)\nreturn s(x) + np.zeros(1, 'f')[0]"
    assert engine.grade(ROWSUM, helper).correct


@pytest.mark.parametrize("text", ["exp(exp(exp(exp(exp(x)))))", "(((x^64)^64)^64)^64", "exp(exp(x))",
                                  "2^(exp(x))", "cosh(exp(x))", "floor(exp(x^64))", "ceil(2^x)"])
def test_formulas_too_large_to_evaluate_are_refused_at_once(text):
    with pytest.raises(FormulaError, match="too large"):
        parse_formula(text, {"x": "real"})


def test_nested_softplus_and_sigmoid_still_parse():
    parse_formula("log(1 + exp(log(1 + exp(x))))", {"x": "real"})
    parse_formula("x * sigmoid(x)", {"x": "real"})


@pytest.mark.parametrize("answer", ["x" + "+x" * 3000, "(" * 5000 + "x" + ")" * 5000, "x" * 60_000])
def test_absurdly_long_or_deep_answers_are_an_error_not_a_crash(engine, answer):
    res = engine.grade(ROWSUM, answer)
    assert res.verdict == "error" and res.stage == "parse"


def test_the_warm_up_grades_one_card_of_each_parsed_kind_correct(engine):
    assert engine.warm_up() == ["correct", "correct", "correct"]
