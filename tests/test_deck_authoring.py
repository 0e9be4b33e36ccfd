"""Mistakes a deck author makes: each is refused when the deck loads, naming the card and field."""

from __future__ import annotations

import json

import pytest

from atlas_quiz.cards import DeckError, load_decks

HEAD = '[deck]\nname = "Mine"\nname_zh = "我的"\n'

SHAPE = """
[[card]]
id = "mine.gn"
kind = "shape"
title = "GroupNorm keeps the shape"
title_zh = "GroupNorm 不改变形状"
source = "week 4"
prompt = "What is the shape of y?"
params = { B = [1, 8], G = [2, 4] }
code = '''
x = torch.randn({B}, {G} * 4, 5)
y = nn.GroupNorm({G}, {G} * 4)(x)
y
'''
accept = ["({B}, {G*4}, 5)"]
"""


def problems(tmp_path, text: str, name: str = "mine.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DeckError) as info:
        load_decks([path])
    return info.value.problems


def test_the_sample_shape_card_loads(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + SHAPE, encoding="utf-8")
    (deck,) = load_decks([path])
    assert deck.cards[0].params == {"B": (1, 8), "G": (2, 4)}


def test_shape_code_ending_in_an_assignment_is_refused_at_load(tmp_path):
    (p,) = problems(tmp_path, HEAD + SHAPE.replace("(x)\ny\n'''", "(x)\n'''"))
    assert p.card == "mine.gn" and p.field == "code" and p.line
    assert "line 2 of the code" in p.message and "must end in the expression" in p.message


def test_placeholder_that_names_no_parameter_is_refused(tmp_path):
    (p,) = problems(tmp_path, HEAD + SHAPE.replace("{G} * 4, 5)", "{G} * 4, {Q})"))
    assert p.field == "code" and "{Q}" in p.message and "B, G" in p.message


def test_placeholder_on_a_card_without_params_says_how_to_add_them(tmp_path):
    text = HEAD + SHAPE.replace("params = { B = [1, 8], G = [2, 4] }\n", "")
    found = problems(tmp_path, text)
    assert {p.field for p in found} == {"code", "accept[0]"}
    assert all("params = {" in p.message for p in found)


def test_a_hint_in_both_languages_draws_the_reviews_numbers(tmp_path):
    from atlas_quiz.cards import instantiate

    hints = 'hint = "GroupNorm({G}, C) keeps all {G*4} channels"\nhint_zh = "共 {G*4} 个通道"\n'
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + SHAPE.replace("accept = ", hints + "accept = "), encoding="utf-8")
    card = instantiate(load_decks([path])[0].cards[0], seed=3)
    channels = int(card.accept[0].split(", ")[1])
    assert card.hint.endswith(f"keeps all {channels} channels") and card.hint_zh == f"共 {channels} 个通道"


def test_a_hint_placeholder_that_names_no_parameter_is_refused(tmp_path):
    (p,) = problems(tmp_path, HEAD + SHAPE.replace("accept = ", 'hint_zh = "{Q} 维"\naccept = '))
    assert p.card == "mine.gn" and p.field == "hint_zh" and "{Q}" in p.message


def test_param_range_low_above_high_names_the_parameter(tmp_path):
    (p,) = problems(tmp_path, HEAD + SHAPE.replace("G = [2, 4]", "G = [4, 2]"))
    assert p.field == "params.G" and "write [2, 4]" in p.message


def test_field_typo_suggests_the_field(tmp_path):
    found = problems(tmp_path, HEAD + SHAPE.replace("code = '''", "cod = '''"))
    typo = [p for p in found if p.field == "cod"]
    assert typo and "did you mean 'code'?" in typo[0].message


@pytest.mark.parametrize("text, expected", [("", "the file is empty"), (HEAD, "no cards"),
                                            ("\n# only a comment\n", "no cards")])
def test_a_file_without_cards_is_a_problem_not_an_empty_deck(tmp_path, text, expected):
    (p,) = problems(tmp_path, text)
    assert p.file.endswith("mine.toml") and expected in p.message


def run(*args):
    from click.testing import CliRunner

    from atlas_quiz.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_deck_check_refuses_an_id_a_builtin_card_has(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + SHAPE.replace('id = "mine.gn"', 'id = "norm.rmsnorm"'), encoding="utf-8")
    result = run("deck", "check", path, "--no-proofs")
    assert result.exit_code == 1
    assert "mine.toml" in result.output and "'norm.rmsnorm'" in result.output
    assert "000_07_normalization.toml" in result.output


def test_deck_build_of_a_clashing_deck_writes_nothing_even_in_a_fresh_database(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + SHAPE.replace('id = "mine.gn"', 'id = "norm.rmsnorm"'), encoding="utf-8")
    db = tmp_path / "fresh.db"
    assert run("deck", "build", path, "--db", db).exit_code == 1
    assert run("deck", "build", "--db", db).exit_code == 0  # the built-in decks still build


def test_checking_a_builtin_deck_file_alone_is_not_a_clash_with_itself():
    from atlas_quiz.paths import builtin_decks_dir

    result = run("deck", "check", builtin_decks_dir() / "000_07_normalization.toml", "--no-proofs")
    assert result.exit_code == 0, result.output


def test_deck_list_shows_whole_card_ids_in_a_narrow_terminal(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    path = tmp_path / "mine.toml"
    long_id = "mine.group_norm_keeps_the_shape_of_its_input"
    path.write_text(HEAD + SHAPE.replace("mine.gn", long_id), encoding="utf-8")
    db = tmp_path / "x.db"
    assert run("deck", "build", path, "--db", db).exit_code == 0
    assert long_id in run("deck", "list", "--cards", "--db", db).output


def test_a_quiz_spec_beside_its_deck_does_not_stop_the_folder_loading(tmp_path):
    (tmp_path / "deck.toml").write_text(HEAD + SHAPE, encoding="utf-8")
    spec = tmp_path / "quiz.toml"
    spec.write_text('[quiz]\ntitle = "T"\n[[item]]\ncard = "mine.gn"\n', encoding="utf-8")
    (deck,) = load_decks([tmp_path])
    assert deck.key == "deck"
    with pytest.raises(DeckError) as info:  # named on its own, it is a mistake worth a word
        load_decks([spec])
    (p,) = info.value.problems
    assert "a quiz spec, not a deck" in p.message


def test_deck_build_of_a_quiz_folder_builds_its_deck(tmp_path):
    (tmp_path / "deck.toml").write_text(HEAD + SHAPE, encoding="utf-8")
    (tmp_path / "quiz.toml").write_text('[quiz]\ntitle = "T"\n[[item]]\ncard = "mine.gn"\n', encoding="utf-8")
    result = run("deck", "build", tmp_path, "--db", tmp_path / "x.db", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 1


def test_deck_build_reports_on_one_line_whatever_the_database_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + SHAPE, encoding="utf-8")
    db = tmp_path / ("a_rather_long_folder_name_" * 3) / "x.db"
    db.parent.mkdir()
    result = run("deck", "build", path, "--db", db)
    assert result.exit_code == 0 and "1 added, 0 updated" in result.output
