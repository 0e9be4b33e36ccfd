"""The command line: every command documented with an example, deck and grade behaviour, exit codes."""

from __future__ import annotations

import json
import re
import textwrap

import click
import pytest
from click.testing import CliRunner

from atlas_quiz.cli import cli

DECK = textwrap.dedent("""
    [deck]
    name = "Test"
    name_zh = "测试"

    [[card]]
    id = "t.relu"
    kind = "expr"
    title = "ReLU"
    title_zh = "ReLU"
    source = "000 §4.1"
    tags = ["activation"]
    prompt = "relu of x"
    inputs = { x = "randn(B, n)" }
    reference = "torch.relu(x)"
    accept = ["x.clamp(min=0)"]
    reject = [{ answer = "x.abs()", why = "abs keeps negatives as positives" }]

    [[card]]
    id = "t.shape"
    kind = "shape"
    title = "Shape"
    title_zh = "形状"
    source = "000 §5"
    prompt = "shape?"
    code = "torch.randn(2, 3).T"
    accept = ["(3, 2)"]
    reject = ["(2, 3)"]
""")


@pytest.fixture
def deck_file(tmp_path):
    path = tmp_path / "test_deck.toml"
    path.write_text(DECK, encoding="utf-8")
    return path


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def all_commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, (*prefix, name))


def test_every_command_has_an_example_in_its_help():
    missing = [" ".join(path) for path, cmd in all_commands(cli)
               if "Example:" not in (cmd.help or "")]
    assert not missing, f"commands without an Example in --help: {missing}"
    assert "Example:" in run("--help").output


def test_deck_build_then_stats_prints_counts(tmp_path, deck_file):
    db = tmp_path / "x.db"
    out = run("deck", "build", deck_file, "--db", db, "--json")
    assert out.exit_code == 0 and json.loads(out.output)["added"] == 2
    stats = json.loads(run("deck", "stats", "--json", "--db", db).output)
    assert stats["total"] == 2 and stats["by_kind"] == {"expr": 1, "shape": 1}
    again = json.loads(run("deck", "build", deck_file, "--db", db, "--json").output)
    assert again["unchanged"] == 2 and again["added"] == 0


def test_invalid_deck_lists_every_problem_and_writes_nothing(tmp_path):
    bad = DECK.replace('"randn(B, n)"', '"randn(B, n"').replace('kind = "shape"', 'kind = "shapes"')
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    db = tmp_path / "x.db"
    out = CliRunner().invoke(cli, ["deck", "build", str(path), "--db", str(db)])
    assert out.exit_code == 1
    assert "2 problem(s)" in out.output and "nothing was written" in out.output
    assert "'t.relu'" in out.output and "'inputs.x'" in out.output and "shapes" in out.output
    assert not db.exists()


def test_deck_list_shows_decks_and_cards(tmp_path, deck_file):
    db = tmp_path / "x.db"
    run("deck", "build", deck_file, "--db", db)
    decks = json.loads(run("deck", "list", "--json", "--db", db).output)
    assert decks == [{"key": "test_deck", "name": "Test", "name_zh": "测试", "cards": 2}]
    cards = json.loads(run("deck", "list", "--cards", "--json", "--db", db).output)
    assert [c["id"] for c in cards] == ["t.relu", "t.shape"]


def test_a_tag_no_card_has_is_an_error_naming_close_ones_when_listing_and_exporting(tmp_path, deck_file):
    db = tmp_path / "x.db"
    run("deck", "build", deck_file, "--db", db)
    for args in (("deck", "list", "--cards"), ("export", "anki", tmp_path / "a.apkg")):
        out = CliRunner().invoke(cli, [*map(str, args), "--tag", "activatoin", "--db", str(db)])
        assert out.exit_code == 2 and "no card has the tag 'activatoin'; did you mean: activation" in out.output
    assert not (tmp_path / "a.apkg").exists()


def test_an_export_not_named_apkg_and_a_negative_timeout_are_refused(tmp_path, deck_file):
    out = CliRunner().invoke(cli, ["export", "anki", str(tmp_path / "cards.txt"), "--db", str(tmp_path / "x.db")])
    assert out.exit_code == 2 and "cards.apkg" in out.output and not (tmp_path / "x.db").exists()
    out = CliRunner().invoke(cli, ["grade", "t.relu", "x", "--deck", str(deck_file), "--timeout", "-1"])
    assert out.exit_code == 2 and "--timeout" in out.output


def test_deck_check_proves_cards_and_fails_on_a_wrong_accept(tmp_path, deck_file):
    ok = run("deck", "check", deck_file, "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["failures"] == []
    broken = tmp_path / "broken.toml"
    broken.write_text(DECK.replace('accept = ["x.clamp(min=0)"]', 'accept = ["x.clamp(max=0)"]'))
    out = CliRunner().invoke(cli, ["deck", "check", str(broken), "--json"])
    report = json.loads(out.output)
    assert out.exit_code == 1 and [f["card"] for f in report["failures"]] == ["t.relu"]
    assert "should be correct" in report["failures"][0]["problems"][0]


def test_grade_exit_codes_and_json(deck_file):
    good = run("grade", "t.relu", "x.clamp(min=0)", "--deck", deck_file, "--json", "--device", "cpu")
    assert good.exit_code == 0
    data = json.loads(good.output)
    assert list(data)[:5] == ["card", "verdict", "correct", "feedback", "elapsed_ms"]
    assert data["verdict"] == "correct" and data["correct"] is True
    bad = run("grade", "t.relu", "x.abs()", "--deck", deck_file, "--json", "--device", "cpu")
    assert bad.exit_code == 1 and "abs keeps negatives" in json.loads(bad.output)["feedback"]
    unknown = CliRunner().invoke(cli, ["grade", "t.nope", "x", "--deck", str(deck_file)])
    assert unknown.exit_code == 2 and "no card with id 't.nope'" in unknown.output


def test_grade_without_an_answer_shows_the_question_with_the_seeds_numbers_and_not_the_answer(tmp_path):
    deck = tmp_path / "p.toml"
    deck.write_text(DECK.replace('code = "torch.randn(2, 3).T"', 'code = "torch.randn(2, {N}).T"\nparams = { N = [3, 60] }')
                    .replace('accept = ["(3, 2)"]', 'accept = ["({N}, 2)"]').replace('reject = ["(2, 3)"]', ""),
                    encoding="utf-8")
    shown = {seed: run("grade", "t.shape", "--deck", deck, "--seed", seed) for seed in range(6)}
    assert all(out.exit_code == 0 and "shape?" in out.output for out in shown.values())
    drawn = {seed: re.search(r"torch.randn\(2, (\d+)\)", out.output).group(1) for seed, out in shown.items()}
    assert len(set(drawn.values())) > 1  # the numbers follow the seed...
    batch = "".join(json.dumps({"card": "t.shape", "answer": f"({n}, 2)", "seed": seed}) + "\n"
                    for seed, n in drawn.items())  # ...and are the ones grading with that seed expects
    graded = run("grade", "--batch", "-", "--deck", deck, input=batch)
    assert graded.exit_code == 0 and all(json.loads(line)["correct"] for line in graded.output.splitlines())
    relu = run("grade", "t.relu", "--deck", deck)
    assert "x  (B, n) float32" in relu.output and "torch.relu" not in relu.output


def test_grade_reads_the_answer_from_stdin(deck_file):
    out = run("grade", "t.relu", "-", "--deck", deck_file, "--json", "--device", "cpu",
              input="y = x.clone()\ny[y < 0] = 0\nreturn y\n")
    assert out.exit_code == 0 and json.loads(out.output)["verdict"] == "correct"


def test_grade_batch_keeps_order_ids_and_reports_bad_lines(tmp_path, deck_file):
    lines = [
        {"id": "s1", "card": "t.relu", "answer": "x.clamp(min=0)"},
        {"id": "s2", "card": "t.shape", "answer": "(2, 3)"},
        "not json",
        {"id": "s4", "card": "t.missing", "answer": "x"},
        {"card": "t.shape", "answer": "torch.Size([3, 2])"},
    ]
    batch = tmp_path / "answers.jsonl"
    batch.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))
    out = run("grade", "--batch", batch, "--deck", deck_file, "--device", "cpu")
    results = [json.loads(line) for line in out.output.splitlines()]
    assert out.exit_code == 1
    assert [r.get("id") for r in results] == ["s1", "s2", None, "s4", None]
    assert [r["line"] for r in results] == [1, 2, 3, 4, 5]
    assert [r["verdict"] for r in results] == ["correct", "wrong", "error", "error", "correct"]
    assert results[2]["feedback"].startswith("input line 3: not valid JSON")
    assert "t.missing" in results[3]["feedback"]


def test_an_answer_starting_with_a_minus_is_an_answer_not_an_option(deck_file):
    out = run("grade", "t.relu", "-(-x).clamp(max=0)", "--deck", deck_file, "--json", "--device", "cpu")
    assert out.exit_code == 0 and json.loads(out.output)["verdict"] == "correct"


def test_reading_commands_never_create_a_database(tmp_path):
    db = tmp_path / "nodir" / "a.db"
    for args in (["deck", "list"], ["deck", "stats"]):
        out = CliRunner().invoke(cli, [*args, "--db", str(db)])
        assert out.exit_code == 2 and "no database at" in out.output
    assert not db.parent.exists()
    out = CliRunner().invoke(cli, ["deck", "build", "--db", str(tmp_path)])
    assert out.exit_code == 2 and "is a folder" in out.output


def test_export_to_an_unwritable_place_fails_before_any_work(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("x")
    out = CliRunner().invoke(cli, ["export", "anki", str(blocked / "atlas.apkg"),
                                   "--db", str(tmp_path / "x.db")])
    assert out.exit_code == 2 and "cannot write" in out.output and not (tmp_path / "x.db").exists()


def test_a_broken_card_is_a_clean_error_alone_and_in_a_batch(tmp_path):
    deck = tmp_path / "broken.toml"
    deck.write_text(DECK.replace('reference = "torch.relu(x)"', 'reference = "x.no_such_method()"'))
    out = CliRunner().invoke(cli, ["grade", "t.relu", "x", "--deck", str(deck), "--device", "cpu"])
    assert out.exit_code == 2 and "the card itself is broken" in out.output
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"card": "t.relu", "answer": "x"}\n{"card": "t.shape", "answer": "(3, 2)"}\n')
    out = run("grade", "--batch", batch, "--deck", deck, "--device", "cpu")
    results = [json.loads(line) for line in out.output.splitlines()]
    assert [r["verdict"] for r in results] == ["error", "correct"]
    assert "broken" in results[0]["feedback"]


def test_grade_against_a_file_that_is_not_a_database_is_a_clean_error(tmp_path):
    bogus = tmp_path / "not.db"
    bogus.write_text("hello, not sqlite" * 100)
    out = CliRunner().invoke(cli, ["grade", "t.relu", "x", "--db", str(bogus)])
    assert out.exit_code == 2 and "cannot open the database" in out.output
