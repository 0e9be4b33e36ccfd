"""A quiz over an instructor's own deck together with the built-in decks."""

from __future__ import annotations

import pytest

from atlas_quiz.quiz import SpecError, load_spec, sample_dir


def spec_over(tmp_path, decks: str):
    path = tmp_path / "quiz.toml"
    path.write_text(f'[quiz]\ntitle = "T"\nminutes = 30\nseed = "s1"\ndecks = {decks}\n'
                    '[[item]]\ncard = "quiz.relu"\n[[item]]\ncard = "norm.rmsnorm"\n', encoding="utf-8")
    return path


def test_builtin_in_the_decks_list_adds_the_builtin_decks(tmp_path):
    deck = sample_dir() / "deck.toml"
    spec = load_spec(spec_over(tmp_path, f'["{deck}", "builtin"]'))
    assert [item.pool for item in spec.items] == [("quiz.relu",), ("norm.rmsnorm",)]


def test_without_builtin_a_builtin_card_is_unknown(tmp_path):
    deck = sample_dir() / "deck.toml"
    with pytest.raises(SpecError) as err:
        load_spec(spec_over(tmp_path, f'["{deck}"]'))
    (problem,) = [p for p in err.value.problems if "norm.rmsnorm" in p.message]
    assert "add \"builtin\"" in problem.message


def test_quiz_check_shows_whole_item_names_and_card_ids_in_a_narrow_terminal(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from atlas_quiz.cli import cli

    monkeypatch.setenv("COLUMNS", "60")
    path = tmp_path / "quiz.toml"
    path.write_text(f'[quiz]\ntitle = "T"\nminutes = 30\nseed = "s1"\ndecks = ["{sample_dir() / "deck.toml"}"]\n'
                    '[[item]]\nname = "scores_by_hand_no_softmax"\ncard = "quiz.attention_scores"\n',
                    encoding="utf-8")
    out = CliRunner().invoke(cli, ["quiz", "check", str(path)])
    assert out.exit_code == 0, out.output
    assert "scores_by_hand_no_softmax" in out.output and "quiz.attention_scores" in out.output
