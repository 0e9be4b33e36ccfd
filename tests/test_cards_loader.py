"""The deck loader: valid decks load into dataclasses; each kind of mistake gives one clear error."""

from __future__ import annotations

import textwrap

import pytest

from atlas_quiz.cards import Card, DeckError, instantiate, load_decks

GOOD = """
[deck]
name = "07 Normalization"
name_zh = "归一化"

[[card]]
id = "t.rms"
kind = "expr"
title = "RMSNorm"
title_zh = "均方根归一化"
source = "000 §15.1"
tags = ["norm"]
latex = '''\\frac{x}{\\sqrt{\\frac{1}{d}\\sum_i x_i^2+\\epsilon}}\\odot g'''
prompt = "Normalize each row."
inputs = { x = "randn(B, d)", g = "randn(d)" }
constants = { eps = 1e-6 }
reference = "x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g"
accept = ["F.rms_norm(x, (x.shape[-1],), g, eps)"]
reject = ["x * g", { answer = "x / x.norm() * g", why = "whole-tensor norm" }]

[[card]]
id = "t.shape"
kind = "shape"
title = "Conv"
title_zh = "卷积"
source = "000 §5.2"
prompt = "Shape with B={B}?"
code = "nn.Conv2d(3, 16, 3, padding=1)(torch.randn({B}, 3, 8, 8))"
params = { B = [2, 9] }
accept = ["({B}, 16, 8, 8)"]
"""


def write(tmp_path, text, name="deck.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path, text):
    with pytest.raises(DeckError) as info:
        load_decks([write(tmp_path, GOOD.split("[[card]]")[0] + text)])
    return info.value.problems


CARD_HEAD = """
[[card]]
id = "t.bad"
kind = "expr"
title = "T"
title_zh = "T"
source = "000 §1"
prompt = "p"
"""


def test_valid_deck_loads_into_dataclasses(tmp_path):
    (deck,) = load_decks([write(tmp_path, GOOD)])
    assert deck.name == "07 Normalization" and deck.key == "deck"
    rms, shape = deck.cards
    assert isinstance(rms, Card) and rms.deck == "deck"
    assert rms.reject[0].why == "" and rms.reject[1].why == "whole-tensor norm"
    assert rms.dim_symbols() == ("B", "d")
    assert dict(rms.scope()) == {"x": "(B, d) float32", "g": "(d,) float32", "eps": "= 1e-06"}
    assert shape.params == {"B": (2, 9)}


def test_card_round_trips_through_dict(tmp_path):
    (deck,) = load_decks([write(tmp_path, GOOD)])
    for card in deck.cards:
        again = Card.from_dict(card.to_dict())
        assert again == card and again.content_hash() == card.content_hash()


def test_parametric_card_draws_the_same_values_for_the_same_seed(tmp_path):
    (deck,) = load_decks([write(tmp_path, GOOD)])
    card = deck.cards[1]
    a, b = instantiate(card, 5), instantiate(card, 5)
    assert a == b and "{B}" not in a.code and a.accept[0] in {f"({n}, 16, 8, 8)" for n in range(2, 10)}
    drawn = {instantiate(card, s).code for s in range(30)}
    assert len(drawn) > 1  # different reviews practise different numbers


def test_duplicate_ids_across_files_name_both_places(tmp_path):
    a = write(tmp_path, GOOD, "a.toml")
    b = write(tmp_path, GOOD, "b.toml")
    with pytest.raises(DeckError) as info:
        load_decks([a, b])
    dups = [p for p in info.value.problems if "duplicate id" in p.message]
    assert {p.card for p in dups} == {"t.rms", "t.shape"}
    assert all(p.file.endswith("b.toml") and "a.toml" in p.message for p in dups)


def test_unknown_kind_is_named_with_the_choices(tmp_path):
    (p,) = problems_of(tmp_path, CARD_HEAD.replace('kind = "expr"', 'kind = "essay"'))
    assert p.field == "kind" and "essay" in p.message and "expr" in p.message and p.line


def test_missing_field_for_a_kind_says_which(tmp_path):
    (p,) = problems_of(tmp_path, CARD_HEAD + 'inputs = { x = "randn(n)" }\n')
    assert "missing field 'reference'" in p.message and p.card == "t.bad"


@pytest.mark.parametrize("generator, expected", [
    ("randn(B, d", "does not parse"),
    ("rnd(B)", "unknown generator 'rnd'"),
    ("randint(C, B)", "randint(high, (shape...))"),
    ("randn(B, d, dtype=float7)", "unknown dtype 'float7'"),
    ("randn(B, d>2)", "'n>=2'"),
    ("randn(B, 'd')", "expected a dimension"),
    ("adjacency(n, m)", "exactly one size"),
    ("bernoulli(B, scale=2)", "no keyword 'scale'"),
])
def test_bad_generator_gives_one_error_naming_the_field(tmp_path, generator, expected):
    text = CARD_HEAD + f'inputs = {{ x = "{generator}" }}\nreference = "x"\n'
    (p,) = problems_of(tmp_path, text)
    assert p.field == "inputs.x" and expected in p.message


@pytest.mark.parametrize("generator", [
    "randn(B, d)", "rand", "rand(n, low=-1, high=1)", "randint(C, (B,))", "randint(-3, 3, (n, m))",
    "bernoulli(B, p=0.3)", "adjacency(n)", "positive(B, d)", "randn(B, n>=2)", "randn(2*h, d//2 + 1)",
    "randn(B, d, dtype=torch.float64)", "spd(b, n)", "probs(B, C)", "randn(n, requires_grad=True)",
])
def test_good_generators_parse(tmp_path, generator):
    (deck,) = load_decks([write(tmp_path, GOOD.split("[[card]]")[0] + CARD_HEAD
                                + f'inputs = {{ x = "{generator}" }}\nreference = "x"\n')])
    assert deck.cards[0].inputs["x"] == generator


def test_unbalanced_latex_braces_are_reported(tmp_path):
    text = CARD_HEAD + 'inputs = { x = "randn(n)" }\nreference = "x"\n' + "latex = '''\\frac{a}{b'''\n"
    (p,) = problems_of(tmp_path, text)
    assert p.field == "latex" and "never closed" in p.message


def test_reference_that_does_not_parse_names_its_line(tmp_path):
    text = CARD_HEAD + 'inputs = { x = "randn(n)" }\nreference = "x +"\n'
    (p,) = problems_of(tmp_path, text)
    assert p.field == "reference" and "does not parse" in p.message


def test_unknown_field_catches_typos(tmp_path):
    text = CARD_HEAD + 'inputs = { x = "randn(n)" }\nreference = "x"\nrefrence = "x"\n'
    (p,) = problems_of(tmp_path, text)
    assert p.field == "refrence" and "unknown field" in p.message


def test_each_mistake_in_one_file_gives_its_own_error(tmp_path):
    bad = [
        CARD_HEAD.replace("t.bad", "t.a") + 'inputs = { x = "randn(B, d" }\nreference = "x"\n',
        CARD_HEAD.replace("t.bad", "t.b").replace('"expr"', '"essay"'),
        CARD_HEAD.replace("t.bad", "t.c") + 'inputs = { x = "randn(n)" }\n',
        CARD_HEAD.replace("t.bad", "t.d") + 'inputs = { x = "randn(n)" }\nreference = "x"\n'
        + "latex = '''}x{'''\n",
        CARD_HEAD.replace("t.bad", "t.rms") + 'inputs = { x = "randn(n)" }\nreference = "x"\n',
    ]
    problems = problems_of(tmp_path, "\n".join(bad) + "\n" + GOOD.split("[deck]")[1].split('name_zh = "归一化"')[1])
    by_card = {p.card: p for p in problems}
    assert len(problems) == 5 and set(by_card) == {"t.a", "t.b", "t.c", "t.d", "t.rms"}
    lines = [p.line for p in problems]
    assert lines == sorted(lines) and len(set(lines)) == 5  # each points at its own place
    assert "duplicate id" in by_card["t.rms"].message


def test_toml_syntax_error_gives_the_line(tmp_path):
    with pytest.raises(DeckError) as info:
        load_decks([write(tmp_path, 'x = "unterminated\n')])
    (p,) = info.value.problems
    assert p.line == 1 and "TOML" in p.message


def test_dims_rules_are_validated(tmp_path):
    text = CARD_HEAD + 'inputs = { x = "randn(B, D)" }\nreference = "x"\ndims = { D = "h*q" }\n'
    (p,) = problems_of(tmp_path, text)
    assert p.field == "dims.D" and "unknown symbols" in p.message


def test_placeholders_take_integer_arithmetic_over_parameters():
    from atlas_quiz.cards import fill_params

    text = r"({N} + 1, {2*N}, {(N - 3)//2 + 1}) \frac{a}{b} {x} {N>=2}"
    assert fill_params(text, {"N": 9}) == r"(9 + 1, 18, 4) \frac{a}{b} {x} {N>=2}"


def test_prose_joins_soft_line_breaks_and_keeps_paragraphs_and_lists():
    from atlas_quiz.cards.text import prose

    text = "Write the body: out = x + y.\nx and y are 1-D.\n\nSteps:\n- load\n- store"
    assert prose(text) == "Write the body: out = x + y. x and y are 1-D.\n\nSteps:\n- load\n- store"
