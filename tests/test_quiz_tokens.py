"""`quiz tokens`: the lab keeps only hashes, so the instructor's token list must never lose a token."""

from __future__ import annotations

import csv
import os

import pytest
from click.testing import CliRunner

from atlas_quiz.cli import cli
from atlas_quiz.quiz import TokenStore, load_spec, sample_dir
from atlas_quiz.quiz.tokens import NotATokenList, issue_tokens, read_token_list


@pytest.fixture
def quiz(tmp_path):
    """A copy of the sample spec (decks by absolute path) and a roster of alice and bob."""
    spec_path = tmp_path / "quiz.toml"
    spec_path.write_text((sample_dir() / "quiz.toml").read_text().replace(
        'decks = ["deck.toml"]', f'decks = ["{sample_dir() / "deck.toml"}"]'))
    roster = tmp_path / "roster.csv"
    roster.write_text("student\nalice\nbob\n")
    return {"spec": spec_path, "roster": roster, "out": tmp_path / "tokens.csv",
            "hashes": tmp_path / "quiz-lab" / "tokens.json", "hash": load_spec(spec_path).hash}


def run_tokens(quiz, *extra: str):
    args = ["quiz", "tokens", str(quiz["spec"]), "--roster", str(quiz["roster"]), *extra]
    return CliRunner().invoke(cli, args)


def listed(path) -> dict[str, str]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "token"]
    return dict(rows[1:])


def opens_lab(quiz, tokens: dict[str, str]) -> bool:
    store = TokenStore.load(quiz["hashes"], quiz["hash"])
    return all(store.student_for(t) == s for s, t in tokens.items())


def test_running_quiz_tokens_twice_keeps_every_token_in_the_list(quiz):
    first = run_tokens(quiz, "--out", str(quiz["out"]))
    assert first.exit_code == 0, first.output
    tokens = listed(quiz["out"])
    assert list(tokens) == ["alice", "bob"] and opens_lab(quiz, tokens)
    again = run_tokens(quiz, "--out", str(quiz["out"]))
    assert again.exit_code == 0, again.output
    assert "0 new token(s), 2 kept" in again.output and "was not changed" in again.output
    assert listed(quiz["out"]) == tokens and opens_lab(quiz, tokens)


def test_students_added_to_the_roster_are_added_to_the_list(quiz):
    run_tokens(quiz, "--out", str(quiz["out"]))
    before = listed(quiz["out"])
    quiz["roster"].write_text("student\nalice\nbob\ncarol\n")
    res = run_tokens(quiz, "--out", str(quiz["out"]))
    assert res.exit_code == 0, res.output
    after = listed(quiz["out"])
    assert list(after) == ["alice", "bob", "carol"] and {s: after[s] for s in before} == before
    assert "1 new token(s) (carol), 2 kept" in res.output and "holds 3" in res.output
    assert opens_lab(quiz, after)
    assert oct(os.stat(quiz["out"]).st_mode & 0o777) == "0o600"


def test_reissue_replaces_every_row_and_the_old_tokens_stop_working(quiz):
    run_tokens(quiz, "--out", str(quiz["out"]))
    old = listed(quiz["out"])
    res = run_tokens(quiz, "--out", str(quiz["out"]), "--reissue")
    assert res.exit_code == 0, res.output
    new = listed(quiz["out"])
    assert list(new) == ["alice", "bob"] and all(new[s] != old[s] for s in old)
    assert opens_lab(quiz, new)
    store = TokenStore.load(quiz["hashes"], quiz["hash"])
    assert all(store.student_for(t) is None for t in old.values())


def test_a_list_of_another_labs_tokens_is_not_replaced(quiz, tmp_path):
    run_tokens(quiz, "--out", str(quiz["out"]))
    tokens = listed(quiz["out"])
    res = run_tokens(quiz, "--out", str(quiz["out"]), "--state", str(tmp_path / "other-lab"))
    assert res.exit_code == 2
    assert "does not know" in res.output and "--state" in res.output
    assert listed(quiz["out"]) == tokens and opens_lab(quiz, tokens)
    assert not (tmp_path / "other-lab" / "tokens.json").exists()  # nothing issued there


def test_a_file_that_is_not_a_token_list_is_never_overwritten(quiz):
    before = quiz["roster"].read_text()
    for extra in ((), ("--force",)):
        res = run_tokens(quiz, "--out", str(quiz["roster"]), *extra)
        assert res.exit_code == 2 and "is not a token list" in res.output
        assert quiz["roster"].read_text() == before
    assert not quiz["hashes"].exists()


def test_force_starts_over_for_a_changed_spec(quiz):
    run_tokens(quiz, "--out", str(quiz["out"]))
    old = listed(quiz["out"])
    quiz["spec"].write_text(quiz["spec"].read_text().replace("minutes = 20", "minutes = 25"))
    refused = run_tokens(quiz, "--out", str(quiz["out"]))
    assert refused.exit_code == 2 and "--force" in refused.output
    assert listed(quiz["out"]) == old
    res = run_tokens(quiz, "--out", str(quiz["out"]), "--force")
    assert res.exit_code == 0, res.output
    new = listed(quiz["out"])
    store = TokenStore.load(quiz["hashes"], load_spec(quiz["spec"]).hash)
    assert all(store.student_for(t) == s for s, t in new.items()) and new != old


def test_without_out_only_new_tokens_are_printed_and_kept_ones_are_named(quiz):
    first = run_tokens(quiz)
    assert first.exit_code == 0
    printed = [line for line in first.output.splitlines() if line.count(",") == 1]
    assert printed[0] == "student,token" and len(printed) == 3
    again = run_tokens(quiz)
    assert again.exit_code == 0
    assert "student,token" not in again.output  # no empty list that looks like a result
    assert "alice, bob hold a token that is not shown here" in again.output
    assert "--reissue" in again.output


def test_issue_tokens_writes_the_list_before_the_hashes(quiz, monkeypatch):
    # If the list cannot be written, no hash of a token nobody has may reach the lab.
    def refuse(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("atlas_quiz.quiz.tokens.write_token_list", refuse)
    with pytest.raises(OSError):
        issue_tokens(quiz["hashes"], quiz["hash"], ["alice"], out=quiz["out"])
    assert not quiz["hashes"].exists()


def test_reading_a_token_list_refuses_other_files(tmp_path):
    other = tmp_path / "grades.csv"
    other.write_text("student,points\nalice,3\n")
    with pytest.raises(NotATokenList):
        read_token_list(other)
    (tmp_path / "empty.csv").write_text("")
    assert read_token_list(tmp_path / "empty.csv") == {}
