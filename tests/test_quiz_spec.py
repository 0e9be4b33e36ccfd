"""Quiz specs: validation with line and field, per-student draws, a stable hash, `quiz check`."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from atlas_quiz.cards import draw_params
from atlas_quiz.cli import cli
from atlas_quiz.quiz import SpecError, derive_seed, load_spec, sample_dir

DECK = str(sample_dir() / "deck.toml")


def write_spec(tmp_path, body: str, name: str = "quiz.toml"):
    head = f'[quiz]\ntitle = "T"\nminutes = 30\nseed = "s1"\ndecks = ["{DECK}"]\n'
    path = tmp_path / name
    path.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return path


GOOD = """
[[item]]
card = "quiz.relu"

[[item]]
name = "norm"
tags = ["norm"]
count = 2
points = 2
partial = 0.5

[[item]]
card = "quiz.conv_shape"
"""


def test_sample_spec_loads_with_its_items_and_slots():
    spec = load_spec(sample_dir() / "quiz.toml")
    assert spec.slots() == ["relu", "norm.1", "norm.2", "loss", "matmul", "conv_shape"]
    assert spec.max_points == 1 + 2 * 2 + 2 + 2 + 1
    assert spec.time_limit_s == 20 * 60
    assert spec.late == "zero" and spec.grace_s == 60


def test_every_input_of_a_sample_card_appears_in_its_formula():
    # A prompt that says `p` over a formula that says y-hat leaves the student guessing.
    import re

    from atlas_quiz.cards import load_decks

    for card in load_decks([DECK])[0].cards:
        if card.kind != "expr" or not card.latex:
            continue
        symbols = set(re.findall(r"[a-z]", re.sub(r"\\[A-Za-z]+", " ", card.latex).lower()))
        missing = [n for n in card.inputs if len(n) == 1 and n.lower() not in symbols]
        assert not missing, f"{card.id}: {missing} not in {card.latex}"


def test_sample_prompts_say_what_their_formulas_do():
    from atlas_quiz.cards import load_decks

    cards = {c.id: c for c in load_decks([DECK])[0].cards}
    assert r"\frac{QK^\top}{\sqrt{d}}" in cards["quiz.attention_scores"].latex
    assert "divided by sqrt(d)" in cards["quiz.attention_scores"].prompt


def test_a_student_always_gets_the_same_questions_and_seeds(tmp_path):
    spec = load_spec(write_spec(tmp_path, GOOD))
    first = [(q.slot, q.card.id, q.seed) for q in spec.questions_for("alice")]
    again = [(q.slot, q.card.id, q.seed) for q in load_spec(write_spec(tmp_path, GOOD)).questions_for("alice")]
    assert first == again


def test_students_get_different_draws_inputs_and_parameters(tmp_path):
    spec = load_spec(write_spec(tmp_path, GOOD))
    students = [f"s{i:02d}" for i in range(30)]
    norm_pairs = {tuple(q.card.id for q in spec.questions_for(s) if q.item == "norm") for s in students}
    assert len(norm_pairs) > 1  # 3 cards, 2 drawn: several different pairs across 30 students
    seeds = {q.seed for s in students for q in spec.questions_for(s)}
    assert len(seeds) == 30 * 4  # every question of every student has its own seed
    conv = [q for s in students for q in spec.questions_for(s) if q.card.id == "quiz.conv_shape"]
    assert len({draw_params(q.card, q.seed)["C"] for q in conv}) > 1
    assert len({q.shown.code for q in conv}) > 1


def test_no_card_is_drawn_twice_for_one_student(tmp_path):
    spec = load_spec(write_spec(tmp_path, """
        [[item]]
        name = "a"
        tags = ["norm"]
        count = 1

        [[item]]
        name = "b"
        tags = ["norm"]
        count = 2
    """))
    for i in range(40):
        ids = [q.card.id for q in spec.questions_for(f"s{i}")]
        assert len(ids) == len(set(ids)) == 3


def test_a_fixed_card_is_never_drawn_by_a_pool(tmp_path):
    spec = load_spec(write_spec(tmp_path, """
        [[item]]
        name = "norms"
        tags = ["norm"]
        count = 2

        [[item]]
        card = "quiz.rmsnorm"
    """))
    for i in range(40):
        ids = [q.card.id for q in spec.questions_for(f"s{i}")]
        assert ids[2] == "quiz.rmsnorm" and "quiz.rmsnorm" not in ids[:2]


def test_the_hash_ignores_formatting_points_and_partial_credit(tmp_path):
    base = load_spec(write_spec(tmp_path, GOOD)).hash
    reformatted = "# a comment\n" + GOOD.replace("points = 2", "points   =   2  # two")
    assert load_spec(write_spec(tmp_path, reformatted, "b.toml")).hash == base
    regraded = GOOD.replace("points = 2", "points = 3").replace("partial = 0.5", "partial = 0.25")
    assert load_spec(write_spec(tmp_path, regraded, "c.toml")).hash == base


def test_the_hash_changes_with_what_students_are_asked(tmp_path):
    base = load_spec(write_spec(tmp_path, GOOD)).hash
    changed = [GOOD.replace('tags = ["norm"]', 'tags = ["norm", "loss"]'),
               GOOD.replace("count = 2", "count = 1"),
               GOOD.replace('card = "quiz.relu"', 'card = "quiz.sigmoid"')]
    for i, body in enumerate(changed):
        assert load_spec(write_spec(tmp_path, body, f"v{i}.toml")).hash != base
    other_seed = write_spec(tmp_path, GOOD, "seed.toml")
    other_seed.write_text(other_seed.read_text().replace('seed = "s1"', 'seed = "s2"'))
    assert load_spec(other_seed).hash != base


def test_seeds_are_pinned_across_machines_and_versions():
    # A golden value: students' draws must not move when Python or the machine changes.
    assert derive_seed("sample-2026", "alice", "relu") == 5995076010816312470
    spec = load_spec(sample_dir() / "quiz.toml")
    assert [q.card.id for q in spec.questions_for("alice")][1:3] == ["quiz.l2_normalize", "quiz.layernorm"]


def problems_of(tmp_path, body: str) -> list:
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, body))
    return err.value.problems


def test_an_unknown_card_is_reported_with_its_line_field_and_a_suggestion(tmp_path):
    (p,) = problems_of(tmp_path, '\n[[item]]\ncard = "quiz.rmsnrom"\n')
    assert p.line == 8 and p.field == "item[1].card"
    assert "no card 'quiz.rmsnrom'" in p.message and "quiz.rmsnorm" in p.message
    assert str(p).startswith(f"{tmp_path / 'quiz.toml'}:8: field 'item[1].card':")


def test_every_problem_is_reported_at_once(tmp_path):
    problems = problems_of(tmp_path, """
        [[item]]
        card = "quiz.relu"
        count = 0
        points = -1
        colour = "red"

        [[item]]
        tags = ["norm"]
        count = 4

        [[item]]
        tags = ["no-such-tag"]
    """)
    fields = {p.field: p.message for p in problems}
    assert "whole number" in fields["item[1].count"]
    assert "positive number" in fields["item[1].points"]
    assert "unknown field 'colour'" in fields["item[1].colour"]
    assert "only 3" in fields["item[2].count"]
    assert "no graded card matches" in fields["item[3]"]


def test_quiz_table_mistakes_name_the_field(tmp_path):
    path = tmp_path / "q.toml"
    path.write_text('[quiz]\ntitle = ""\nminutes = "ten"\npartial = 2\n\n[[item]]\ncard = "x.y"\n')
    with pytest.raises(SpecError) as err:
        load_spec(path, decks=[DECK])
    fields = {p.field: p for p in err.value.problems}
    assert fields["quiz.minutes"].line == 3 and "time limit" in fields["quiz.minutes"].message
    assert fields["quiz.partial"].line == 4
    assert "quiz.title" in fields


@pytest.mark.parametrize("value", ['["quiz.relu"]', '"quiz.relu"', "[1, 2]"])
def test_items_that_are_not_item_tables_are_a_problem_on_their_line(tmp_path, value):
    path = tmp_path / "q.toml"
    path.write_text(f'# items go below\nitem = {value}\n[quiz]\ntitle = "T"\nminutes = 5\n'
                    f'decks = ["{DECK}"]\n')
    out = CliRunner().invoke(cli, ["quiz", "check", str(path)])
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit)  # no traceback
    assert "q.toml:2: field 'item'" in " ".join(out.output.split())
    with pytest.raises(SpecError) as err:
        load_spec(path)
    (p,) = err.value.problems
    assert p.line == 2 and p.field == "item" and "expected [[item]] tables" in p.message


@pytest.mark.parametrize("minutes, ok", [(0.5, False), (0, False), (1, True), (1.5, True),
                                         (1440, True), (1441, False)])
def test_the_time_limit_is_checked_as_its_message_says(tmp_path, minutes, ok):
    path = tmp_path / "q.toml"
    path.write_text(f'[quiz]\ntitle = "T"\nminutes = {minutes}\ndecks = ["{DECK}"]\n'
                    '[[item]]\ncard = "quiz.relu"\n')
    if ok:
        assert load_spec(path).minutes == minutes
        return
    with pytest.raises(SpecError) as err:
        load_spec(path)
    (p,) = err.value.problems
    assert p.field == "quiz.minutes" and "a number from 1 to 1440" in p.message


def test_overlapping_pools_that_could_run_dry_are_refused(tmp_path):
    (p,) = problems_of(tmp_path, """
        [[item]]
        name = "a"
        tags = ["norm"]
        count = 2

        [[item]]
        name = "b"
        cards = ["quiz.rmsnorm", "quiz.layernorm"]
    """)
    assert p.field == "item[2].count" and "earlier items may take 2" in p.message


def test_a_self_rated_card_cannot_be_a_quiz_item(tmp_path):
    deck = tmp_path / "d.toml"
    deck.write_text(textwrap.dedent("""
        [[card]]
        id = "r.one"
        kind = "recall"
        title = "R"
        title_zh = "R"
        source = "000"
        prompt = "recall"
        answer = "it"
    """))
    path = tmp_path / "q.toml"
    path.write_text('[quiz]\ntitle = "T"\nminutes = 5\ndecks = ["d.toml"]\n[[item]]\ncard = "r.one"\n')
    with pytest.raises(SpecError, match="rated by the learner"):
        load_spec(path)


def test_quiz_check_validates_and_shows_what_a_student_gets(tmp_path):
    path = write_spec(tmp_path, GOOD)
    out = CliRunner().invoke(cli, ["quiz", "check", str(path), "--student", "alice", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    spec = load_spec(path)
    assert data["hash"] == spec.hash
    got = [(q["slot"], q["card"], q["seed"]) for q in data["students"]["alice"]]
    assert got == [(q.slot, q.card.id, q.seed) for q in spec.questions_for("alice")]
    assert "reference" not in json.dumps(data["students"])


def test_quiz_check_exits_1_listing_the_problems(tmp_path):
    path = write_spec(tmp_path, '\n[[item]]\ncard = "nope.card"\n')
    out = CliRunner().invoke(cli, ["quiz", "check", str(path)])
    assert out.exit_code == 1
    assert "item[1].card" in out.output and "nope.card" in out.output


def test_quiz_init_writes_a_spec_that_checks(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["quiz", "init", str(tmp_path / "w")]).exit_code == 0
    out = runner.invoke(cli, ["quiz", "check", str(tmp_path / "w" / "quiz.toml")])
    assert out.exit_code == 0, out.output
    again = runner.invoke(cli, ["quiz", "init", str(tmp_path / "w")])
    assert again.exit_code == 2 and "not overwriting" in again.output
