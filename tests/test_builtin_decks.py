"""The built-in decks: every card proved, the required cards present, the quality bar held.

The proofs run once per deck file, so pytest-xdist spreads them over the cores.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from atlas_quiz.cards import instantiate, load_decks, parse_generator
from atlas_quiz.grading import prove_card
from atlas_quiz.paths import builtin_decks_dir

DECK_FILES = sorted(builtin_decks_dir().glob("*.toml"))

# Issue 4's required cards: id -> input names (and constants) that must be exactly these.
REQUIRED_EXPR = {
    "tensor.matmul": ("A", "B"), "tensor.outer": ("u", "v"), "tensor.bmm": ("A", "B"),
    "tensor.batch_trace": ("A",),
    "act.relu": ("x",), "act.sigmoid": ("x",), "act.silu": ("x",), "act.gelu_tanh": ("x",),
    "act.leaky_relu": ("x",), "act.softmax": ("x",), "act.log_softmax": ("x",),
    "loss.mse": ("pred", "target"), "loss.cross_entropy": ("logits", "target"),
    "loss.bce_logits": ("logits", "y"), "loss.kl_std_normal": ("mu", "logvar"),
    "norm.layernorm": ("x", "gamma", "beta"), "norm.rmsnorm": ("x", "g"),
    "norm.batchnorm_train": ("x",),
    "attn.sdpa": ("Q", "K", "V"), "attn.causal": ("Q", "K", "V"), "attn.split_heads": ("x",),
    "ffn.swiglu": ("x", "W1", "W3", "W2"), "rope.apply": ("x", "cos", "sin"),
    "vae.reparam": ("mu", "logvar", "eps"), "ddpm.q_sample": ("x0", "eps"),
    "lora.forward": ("x", "W", "A", "Bm"), "gcn.layer": ("A", "X", "W"),
    "contrastive.infonce": ("z1", "z2"), "moe.topk_softmax": ("logits",),
    "optim.adam_step": ("p", "g", "m", "v"),
}
REQUIRED_CONSTANTS = {
    "act.leaky_relu": {"alpha": 0.01}, "norm.layernorm": {"eps": 1e-5}, "norm.rmsnorm": {"eps": 1e-6},
    "norm.batchnorm_train": {"eps": 1e-5}, "attn.split_heads": {"h"}, "ddpm.q_sample": {"abar"},
    "lora.forward": {"alpha"}, "contrastive.infonce": {"tau"}, "moe.topk_softmax": {"k"},
    "optim.adam_step": {"t", "lr", "b1", "b2", "eps"},
}
REQUIRED_SHAPE_CODE = {
    "shape.mha_split": "torch.randn(2, 128, 512).view(2, 128, 8, 64).transpose(1, 2)",
    "shape.conv2d": "nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1)(torch.randn(8, 3, 32, 32))",
    "shape.maxpool": "nn.MaxPool2d(2)(torch.randn(1, 3, 7, 7))",
    "shape.broadcast_error": "torch.randn(3, 4) + torch.randn(3)",
}
REQUIRED_OUTPUT_CODE = {
    "output.sum_keepdim": "torch.arange(6).reshape(2, 3).sum(1, keepdim=True)",
    "output.cumsum": "torch.arange(4).cumsum(0)",
}
REQUIRED_SYMBOLIC = ("symbolic.conv_out", "symbolic.sigmoid_grad", "symbolic.linear_params")


@pytest.fixture(scope="module")
def cards(builtin_cards):
    return {c.id: c for c in builtin_cards}


@pytest.mark.slow
@pytest.mark.parametrize("path", DECK_FILES, ids=[p.stem for p in DECK_FILES])
def test_every_card_of_the_deck_file_is_proved(engine, path):
    (deck,) = load_decks([path])
    failures = {}
    for card in deck.cards:
        proof = prove_card(engine, card)
        if not proof.ok:
            failures[card.id] = proof.problems
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


def test_required_expr_cards_have_exactly_their_inputs(cards):
    missing = sorted(set(REQUIRED_EXPR) - set(cards))
    assert not missing, f"required cards missing: {missing}"
    for card_id, names in REQUIRED_EXPR.items():
        card = cards[card_id]
        assert card.kind == "expr", card_id
        assert tuple(card.inputs) == names, (card_id, tuple(card.inputs))
    for card_id, constants in REQUIRED_CONSTANTS.items():
        got = cards[card_id].constants
        if isinstance(constants, dict):
            assert all(got.get(k) == v for k, v in constants.items()), (card_id, got)
        else:
            assert constants <= set(got), (card_id, got)


def test_required_input_shapes_and_types(cards):
    assert cards["loss.cross_entropy"].input_specs()["target"].name == "randint"
    assert cards["loss.bce_logits"].input_specs()["y"].name == "bernoulli"
    assert cards["gcn.layer"].input_specs()["A"].name == "adjacency"
    v = cards["optim.adam_step"].input_specs()["v"]
    assert v.name in ("positive", "rand") or "low" in v.keywords
    assert cards["act.softmax"].stress and cards["act.log_softmax"].stress


def test_required_shape_output_and_symbolic_cards(cards):
    for table, kind in ((REQUIRED_SHAPE_CODE, "shape"), (REQUIRED_OUTPUT_CODE, "output")):
        for card_id, code in table.items():
            assert cards[card_id].kind == kind and cards[card_id].code.strip() == code, card_id
    for card_id in REQUIRED_SYMBOLIC:
        assert cards[card_id].kind == "symbolic", card_id


def test_every_card_is_bilingual_sourced_and_explained(builtin_cards):
    bad = [c.id for c in builtin_cards
           if not (c.title_zh and c.explain and c.prompt and re.match(r"^\d{3}\b", c.source))]
    assert not bad, f"cards without title_zh, explain, prompt or a seed source: {bad}"


def test_every_card_has_a_hint_in_both_languages_that_does_not_give_the_answer_away(builtin_cards):
    def squash(text: str) -> str:
        return re.sub(r"\s+", "", text)

    missing = [c.id for c in builtin_cards if not (c.hint and c.hint_zh)]
    assert not missing, f"cards without hint or hint_zh: {missing}"
    for card in builtin_cards:
        for seed in range(3):  # parametric cards: the numbers drawn into answers and hint alike
            shown = instantiate(card, seed)
            hint = squash(shown.hint + shown.hint_zh)
            given = [a for a in (shown.reference, shown.answer, *shown.accept) if len(squash(a)) >= 5
                     and squash(a) in hint]
            assert not given, f"{card.id}: the hint gives away {given}"


def test_every_expr_card_has_an_accept_and_a_reject_with_its_reason(builtin_cards):
    bad = [c.id for c in builtin_cards if c.kind in ("expr", "kernel")
           and not (c.accept and c.reject and any(r.why for r in c.reject))]
    assert not bad, f"expr cards without accept, or without a reject that says why: {bad}"


def test_the_deck_has_the_size_and_mix_the_course_needs(builtin_cards):
    kinds = Counter(c.kind for c in builtin_cards)
    parametric_shapes = sum(1 for c in builtin_cards if c.kind == "shape" and c.params)
    assert len(builtin_cards) >= 300
    assert kinds["expr"] >= 150 and kinds["shape"] >= 50 and kinds["output"] >= 30
    assert kinds["symbolic"] >= 30 and kinds["kernel"] >= 10 and parametric_shapes >= 20


def test_every_chapter_of_the_atlas_and_every_seed_is_covered(builtin_cards):
    chapters = {c.chapter for c in builtin_cards if c.seed_file == "000"}
    assert {f"000 §{n}" for n in range(1, 22)} <= chapters
    assert {"000", "001", "002", "003", "004"} <= {c.seed_file for c in builtin_cards}


def test_inputs_use_known_generators(builtin_cards):
    for c in builtin_cards:
        for text in c.inputs.values():
            parse_generator(text)  # raises if a deck slipped past validation
