"""README.md stays true: its example deck proves, its commands exist, its make targets are real."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from atlas_quiz.cards import load_decks
from atlas_quiz.cli import cli
from atlas_quiz.grading import prove_card

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_example_card_in_the_readme_loads_and_proves(tmp_path, engine):
    (toml,) = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
    path = tmp_path / "readme_deck.toml"
    path.write_text('[deck]\nname = "README"\n\n' + toml.replace('explain = "..."', 'explain = "x"'))
    (deck,) = load_decks([path])
    (card,) = deck.cards
    assert prove_card(engine, card).ok


def test_every_command_the_readme_shows_exists():
    shown = set(re.findall(r"^atlas-quiz ((?:[a-z]+)(?: [a-z]+)?)", README, flags=re.M))
    assert len(shown) > 10
    for words in shown:
        first, *rest = words.split()
        args = [first] if first not in cli.commands or not rest or rest[0] not in getattr(
            cli.commands[first], "commands", {}) else [first, rest[0]]
        out = CliRunner().invoke(cli, [*args, "--help"])
        assert out.exit_code == 0, f"README shows `atlas-quiz {words}`: {out.output}"


def test_every_benchmark_the_readme_shows_exists():
    from atlas_quiz.bench.__main__ import _available

    shown = set(re.findall(r"python -m atlas_quiz\.bench ([a-z_]+)\b", README))
    assert shown and shown <= set(_available())
