"""Grading building blocks: comparison, the wire format, trials, answer compilation."""

from __future__ import annotations

import math

import pytest
import torch

from atlas_quiz.cards import AnswerSyntaxError, Card, parse_generator
from atlas_quiz.grading.compare import first_difference
from atlas_quiz.grading.inputs import build_trials, make_input
from atlas_quiz.grading.program import compile_answer, describe_error
from atlas_quiz.grading.wire import Foreign, decode, digest, encode


def expr_card(**kw) -> Card:
    fields = {"id": "t.card", "kind": "expr", "title": "t", "title_zh": "t", "source": "000 §1",
              "prompt": "p", "inputs": {"x": "randn(B, d)"}, "reference": "x", **kw}
    return Card(**fields)


# --- comparison -------------------------------------------------------------------------------

def test_broadcastable_wrong_shape_is_a_shape_difference():
    diff = first_difference(torch.zeros(4, 8), torch.zeros(4, 1))
    assert diff.stage == "shape" and diff.message == "expected shape (4, 8), got (4, 1)"


def test_dtype_must_match_unless_promotion_is_allowed():
    e, g = torch.ones(3), torch.ones(3, dtype=torch.float64)
    assert first_difference(e, g).stage == "dtype"
    assert first_difference(e, g, allow_promotion=True) is None


def test_value_difference_names_the_largest_error_and_its_index():
    e = torch.zeros(3, 6)
    g = e.clone()
    g[2, 5] = 0.31
    g[0, 0] = 0.01
    diff = first_difference(e, g)
    assert diff.stage == "values" and diff.details["index"] == [2, 5]
    assert diff.message.startswith("max abs error 0.31 at [2, 5]: expected 0, got 0.31")
    assert diff.details["mismatched"] == 2


def test_tolerances_follow_the_dtype():
    e = torch.tensor([1.0])
    assert first_difference(e, e + 5e-6) is None  # within fp32 atol
    assert first_difference(e, e + 1e-3) is not None
    h = torch.tensor([1.0], dtype=torch.bfloat16)
    assert first_difference(h, h + 0.0078) is None  # bf16 rtol 1.6e-2


def test_nan_and_inf_must_sit_in_the_same_places():
    e = torch.tensor([1.0, float("nan"), float("inf")])
    assert first_difference(e, e.clone()) is None
    assert "NaN in the wrong place at [0]" in first_difference(e, torch.tensor([math.nan] * 2 + [math.inf])).message
    assert "inf of the wrong sign" in first_difference(e, torch.tensor([1.0, math.nan, -math.inf])).message


def test_integers_compare_exactly():
    e = torch.tensor([1, 2, 3])
    assert first_difference(e, torch.tensor([1, 2, 4])).details["index"] == [2]


def test_scalar_where_a_tensor_is_expected_is_a_type_difference():
    diff = first_difference(torch.tensor(1.0), 1.0)
    assert diff.stage == "type" and ".item()" in diff.message


def test_tuples_compare_item_by_item():
    diff = first_difference((torch.ones(2), torch.ones(3)), (torch.ones(2), torch.ones(2)))
    assert diff.message.startswith("item 1: expected shape (3,)")
    assert first_difference((torch.ones(2),), [torch.ones(2), torch.ones(2)]).stage == "shape"


def test_foreign_values_are_the_wrong_type():
    assert first_difference(torch.ones(1), Foreign("Rigged")).message == "expected a tensor, got Rigged"


# --- wire format ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    torch.randn(3, 4), torch.arange(5), torch.tensor([True, False]), torch.zeros(0, 3),
    torch.randn(2, 2).to(torch.bfloat16), torch.tensor(2.5), 3, 2.5, True, None, float("nan"),
    (torch.ones(2), [1, 2.0]), torch.Size([2, 3]), "text",
])
def test_values_round_trip_through_bytes(value):
    chunks: list[bytes] = []
    desc = encode(value, chunks)
    back, end = decode(desc, b"".join(chunks))
    assert end == sum(map(len, chunks))
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(back)
    else:
        assert first_difference(value, back, rtol=0, atol=0) is None if value is not None else back is None


def test_tensor_subclass_crosses_as_a_foreign_value():
    class Rigged(torch.Tensor):
        pass

    chunks: list[bytes] = []
    value, _ = decode(encode(torch.ones(2).as_subclass(Rigged), chunks), b"".join(chunks))
    assert isinstance(value, Foreign) and "Rigged" in value.type_name


def test_description_that_lies_about_its_bytes_is_refused():
    chunks: list[bytes] = []
    desc = encode(torch.ones(4), chunks)
    desc["shape"] = [1000]
    with pytest.raises(ValueError, match="does not match"):
        decode(desc, b"".join(chunks))


def test_digest_sees_a_single_changed_element():
    t = torch.randn(5)
    before = digest(t)
    t[3] += 1
    assert digest(t) != before


# --- trials -----------------------------------------------------------------------------------

def test_trials_include_size_one_and_odd_sizes_and_are_reproducible():
    card = expr_card(inputs={"x": "randn(B, d)", "g": "randn(d)"})
    trials = build_trials(card, seed=7)
    labels = [t.label for t in trials]
    assert labels == ["typical", "size 1", "odd sizes", "random sizes"]
    assert trials[1].dims == {"B": 1, "d": 1}
    assert all(v % 2 == 1 for v in trials[2].dims.values())
    again = build_trials(card, seed=7)
    assert all(torch.equal(a.args["x"], b.args["x"]) for a, b in zip(trials, again))
    other = build_trials(card, seed=8)[1]  # size-1 trials have the same shapes: compare values
    assert not torch.equal(other.args["x"], trials[1].args["x"])


def test_dimension_rules_hold_in_every_trial():
    card = expr_card(inputs={"x": "randn(B, D)", "y": "randn(n>=2)"}, constants={"h": 4},
                     dims={"D": "h*k", "k": "even"}, trials=6)
    for t in build_trials(card, seed=3):
        assert t.dims["D"] == 4 * t.dims["k"] and t.dims["k"] % 2 == 0
        assert t.args["y"].shape[0] >= 2 and t.args["h"] == 4 and t.args["k"] == t.dims["k"]


def test_stress_trial_replaces_the_named_inputs():
    card = expr_card(stress={"x": "randn(B, d, scale=1e4)"})
    *normal, stress = build_trials(card, seed=0)
    assert stress.label == "stress" and stress.args["x"].abs().max() > 100
    assert all(t.args["x"].abs().max() < 100 for t in normal)


@pytest.mark.parametrize("text, check", [
    ("adjacency(n)", lambda t: torch.equal(t, t.T) and t.diagonal().abs().sum() == 0),
    ("probs(B, C)", lambda t: torch.allclose(t.sum(-1), torch.ones(t.shape[0]))),
    ("spd(n)", lambda t: bool((torch.linalg.eigvalsh(t.double()) > 0).all())),
    ("randint(C, (B,))", lambda t: t.dtype == torch.int64 and int(t.max()) < 5),
    ("positive(B)", lambda t: bool((t > 0).all())),
    ("bernoulli(B, p=0.5)", lambda t: set(t.tolist()) <= {0.0, 1.0}),
])
def test_generators_produce_what_they_promise(text, check):
    t = make_input(parse_generator(text), {"n": 6, "B": 7, "C": 5}, torch.Generator().manual_seed(0))
    assert check(t)


# --- compiling answers ------------------------------------------------------------------------

def test_body_ending_in_return_and_final_expression_both_work():
    f = compile_answer("y = x * 2\nreturn y + 1", ["x"])
    g = compile_answer("y = x * 2\ny + 1", ["x"])
    assert f(1) == g(1) == 3


def test_syntax_error_names_the_answer_line():
    with pytest.raises(AnswerSyntaxError) as info:
        compile_answer("y = 1\nreturn (y +", ["x"])
    assert info.value.line == 2


def test_runtime_error_names_the_answer_line():
    f = compile_answer("y = x\nz = y / 0\nreturn z", ["x"])
    with pytest.raises(ZeroDivisionError) as info:
        f(1)
    assert describe_error(info.value) == ("ZeroDivisionError: division by zero", 2)


def test_promotion_compares_in_the_common_dtype_and_never_truncates():
    ints = torch.tensor([2, 3])
    assert first_difference(ints, torch.tensor([2.7, 3.9]), allow_promotion=True) is not None
    assert first_difference(ints, torch.tensor([2.0, 3.0]), allow_promotion=True) is None
    assert first_difference(torch.tensor([True, False]), torch.tensor([0.5, 0.0]),
                            allow_promotion=True) is not None
    f32 = torch.tensor([1.0, 2.0])
    assert first_difference(f32, f32.double() + 5e-6, allow_promotion=True) is None  # fp32 tolerance
