"""Scoring a class: why partial credit was or was not given, the late policy, the item analysis.

Graded with the `own` engine (no sandbox needed); every expected number comes
from how the submissions were written, not from the grader.
"""

from __future__ import annotations

import csv
import json
import shutil
import textwrap
from datetime import timedelta

import pytest
from click.testing import CliRunner

from atlas_quiz.cli import cli
from atlas_quiz.quiz import (
    ItemGrade,
    StudentGrade,
    SubmissionFile,
    grade_class,
    item_analysis,
    load_spec,
    read_submission,
    sample_dir,
)
from atlas_quiz.quiz.grader import late_answers

DECK = str(sample_dir() / "deck.toml")

SPEC = f"""
[quiz]
title = "Norms"
minutes = 20
seed = "gradebook"
decks = ["{DECK}"]
partial = 0.5
{{late}}

[[item]]
card = "quiz.l2_normalize"
points = 2

[[item]]
card = "quiz.relu"
"""

RIGHT = "x / x.norm(dim=-1, keepdim=True)"
# (l2 answer, minutes after the start it is saved; relu answer, minutes after the start)
CLASS = {
    "values": (f"{RIGHT} * 2", 1, "torch.relu(x)", 1),              # right shape on every trial
    "laterShape": ("x * 2 if B > 1 else x.sum(-1)", 1, "torch.relu(x)", 1),  # wrong on size 1 only
    "late": (RIGHT, 1, "torch.relu(x)", 180),                       # relu saved 2 h 40 min late
    "grace": (RIGHT, 1, "torch.relu(x)", 20.5),                     # within the minute's grace
}


def write_spec(folder, late: str = ""):
    path = folder / "quiz.toml"
    path.write_text(SPEC.format(late=late))
    return load_spec(path)


def read_rows(path) -> dict[str, list[str]]:
    with open(path, newline="") as f:
        return {r[0]: r for r in list(csv.reader(f))[1:]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class above, written once and graded with the default late policy."""
    from datetime import datetime, timezone

    now = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    root = tmp_path_factory.mktemp("gradebook")
    spec = write_spec(root)
    subs = root / "subs"
    for student, (l2, l2_at, relu, relu_at) in CLASS.items():
        f = SubmissionFile.open(spec, student, subs, now=now)
        f.set_answer("l2_normalize", l2, now=now + timedelta(minutes=l2_at))
        f.set_answer("relu", relu, now=now + timedelta(minutes=relu_at))
        f.submit("submitted", now=now + timedelta(minutes=max(l2_at, relu_at)))
    report = grade_class(spec, subs, root / "results", mode="own", device="cpu")
    return {"root": root, "spec": spec, "subs": subs, "report": report, "now": now}


def test_partial_credit_goes_to_an_answer_with_the_right_shape_on_every_trial(graded):
    rows = read_rows(graded["root"] / "results" / "gradebook.csv")
    assert rows["values"][2] == "1"  # half of 2 points
    feedback = (graded["root"] / "results" / "feedback" / "values.txt").read_text()
    assert "partial credit (50%): right shape, wrong values" in feedback


def test_feedback_says_which_trial_had_the_wrong_shape_when_no_partial_credit_is_given(graded):
    rows = read_rows(graded["root"] / "results" / "gradebook.csv")
    assert rows["laterShape"][2] == "0"
    feedback = (graded["root"] / "results" / "feedback" / "laterShape.txt").read_text()
    # numbered and titled as the exam showed it, with the gradebook's column
    assert "## Question 1: L2-normalize rows (l2_normalize, quiz.l2_normalize): 0 / 2" in feedback
    assert "max abs error" in feedback and "trial 1 of 4" in feedback  # the first difference
    assert ("no partial credit (it needs the right shape on every trial): wrong shape on trial 2 "
            "of 4 (size 1: B=1, d=1): expected shape (1, 1), got (1,)") in feedback


def test_an_answer_saved_after_the_limit_and_grace_scores_zero_and_is_marked_late(graded):
    results = graded["root"] / "results"
    rows = read_rows(results / "gradebook.csv")
    assert rows["late"][1:] == ["graded (late)", "2", "0", "2", "3"]
    assert rows["grace"][1:] == ["graded", "2", "1", "3", "3"]
    feedback = (results / "feedback" / "late.txt").read_text()
    assert "saved 2 h 40 min after the time limit: late answers score 0" in feedback
    assert "score 0 (late = \"zero\")" in feedback
    problems = [(p[1], p[2]) for p in graded["report"].problems]
    assert problems == [("late", "answers saved after the time limit (+1 min grace), scored 0: relu")]


def test_late_accept_counts_late_answers_in_full_without_grading_again(graded, tmp_path):
    spec = write_spec(tmp_path, 'late = "accept"')
    assert spec.hash == graded["spec"].hash  # grading policy, not the exam: submissions stay valid
    shutil.copytree(graded["root"] / "results", tmp_path / "results")
    report = grade_class(spec, graded["subs"], tmp_path / "results", mode="own", device="cpu")
    assert report.graded_now == 0
    rows = read_rows(tmp_path / "results" / "gradebook.csv")
    assert rows["late"][1:] == ["graded (late)", "2", "1", "3", "3"]
    assert "(late answers count in this quiz)" in (tmp_path / "results" / "feedback" / "late.txt").read_text()


def test_an_answer_without_a_save_time_is_as_late_as_the_file(graded, tmp_path):
    spec, now = graded["spec"], graded["now"]
    f = SubmissionFile.open(spec, "edited", tmp_path, now=now)
    f.submission.answers["relu"].text = "torch.relu(x)"  # as a hand edit leaves it: no saved_at
    f.save(now=now + timedelta(minutes=5))
    assert late_answers(spec, read_submission(f.path, spec)) == {}
    f.save(now=now + timedelta(minutes=30))
    assert late_answers(spec, read_submission(f.path, spec)) == {"relu": timedelta(minutes=10)}


def test_quiz_check_shows_the_late_policy(tmp_path):
    write_spec(tmp_path, 'late = "accept"\ngrace_minutes = 2')
    out = CliRunner().invoke(cli, ["quiz", "check", str(tmp_path / "quiz.toml")])
    assert out.exit_code == 0, out.output
    assert ('answers saved more than 2 min after the 20 min limit count in full, marked late '
            '(late = "accept")') in out.output


def test_an_unknown_late_policy_is_a_spec_problem(tmp_path):
    (tmp_path / "quiz.toml").write_text(SPEC.format(late='late = "maybe"\ngrace_minutes = -1'))
    out = CliRunner().invoke(cli, ["quiz", "check", str(tmp_path / "quiz.toml")])
    assert out.exit_code == 1
    text = " ".join(out.output.split())
    assert "quiz.late" in text and '"zero" (late answers score 0) or "accept"' in text
    assert "quiz.grace_minutes" in text and "got -1" in text


def test_a_rejected_file_never_replaces_a_graded_students_feedback(tmp_path, now):
    spec, subs, results = write_spec(tmp_path), tmp_path / "subs", tmp_path / "results"
    f = SubmissionFile.open(spec, "student0000", subs, now=now)
    f.submit("submitted", now=now)
    f.path.rename(subs / "student0000-final.json")  # the file that counts
    (subs / "student0000.json").write_text("{broken")  # a stray copy, named like the student
    grade_class(spec, subs, results, mode="own", device="cpu")
    feedback = (results / "feedback" / "student0000.txt").read_text()
    assert "Total: 0 / 3" in feedback and "not graded" not in feedback
    stray = (results / "feedback" / "rejected" / "student0000.json.txt").read_text()
    assert "Your submission student0000.json was not graded: bad JSON" in stray
    with open(results / "gradebook.csv", newline="") as fh:
        rows = [r[:2] for r in list(csv.reader(fh))[1:]]
    assert rows[0] == ["student0000", "graded"]
    assert rows[1][0] == "student0000" and rows[1][1].startswith("rejected (student0000.json): bad JSON")
    problems = (results / "problems.csv").read_text().splitlines()
    assert problems[1].startswith("student0000.json,student0000,bad JSON")


def _grades_by_card(spec, students: list[str], earned: dict[str, float]) -> list[StudentGrade]:
    """Grades where each card earns the same share of its points for every student asked it."""
    grades = []
    for student in students:
        sg = StudentGrade(student, "graded")
        for q in spec.questions_for(student):
            pts = q.points * earned.get(q.card.id, 1.0)
            sg.items[q.slot] = ItemGrade(q.slot, q.card.id, q.points, "correct", points=pts)
        grades.append(sg)
    return grades


def test_item_analysis_reports_each_card_of_a_pool_on_its_own():
    spec = load_spec(sample_dir() / "quiz.toml")
    students = [f"s{i:02d}" for i in range(30)]
    grades = _grades_by_card(spec, students, {"quiz.layernorm": 0.0, "quiz.rmsnorm": 0.5})
    rows = item_analysis(spec, grades)
    cards = {(r["item"], r["card"]): r for r in rows if r["scope"] == "card"}
    asked = {c: sum(1 for s in students for q in spec.questions_for(s) if q.card.id == c)
             for c in ("quiz.l2_normalize", "quiz.layernorm", "quiz.rmsnorm")}
    for card, share in (("quiz.l2_normalize", 1.0), ("quiz.layernorm", 0.0), ("quiz.rmsnorm", 0.5)):
        row = cards[("norm", card)]
        assert row["students"] == asked[card] and row["difficulty"] == pytest.approx(share)
        assert row["slot"] == "norm.1 norm.2"  # each card sat in either slot for someone
    # the gradebook's columns mix cards: they get rows of their own, labelled as such
    mixed = [r for r in rows if r["scope"] == "slot (mixed cards)"]
    assert {r["slot"] for r in mixed} == {"norm.1", "norm.2", "loss", "matmul"}
    assert all(" " in r["card"] for r in mixed) and all(r["students"] == 30 for r in mixed)
    assert cards[("relu", "quiz.relu")]["students"] == 30


def test_items_csv_labels_card_and_slot_rows(tmp_path):
    from atlas_quiz.quiz.gradebook import write_items

    spec = load_spec(sample_dir() / "quiz.toml")
    write_items(tmp_path / "items.csv", spec, _grades_by_card(spec, ["a", "b", "c"], {}))
    with open(tmp_path / "items.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["scope", "item", "slot", "card", "points", "students", "mean", "difficulty",
                       "discrimination", "blank"]
    assert {r[0] for r in rows[1:]} == {"card", "slot (mixed cards)"}
    assert ["card", "relu", "relu", "quiz.relu", "1", "3", "1.000", "1.000", "0.000", "0"] in rows


def test_quiz_check_shows_points_per_question_and_per_item(tmp_path):
    path = tmp_path / "quiz.toml"
    path.write_text(textwrap.dedent(f"""
        [quiz]
        title = "T"
        minutes = 10
        decks = ["{DECK}"]

        [[item]]
        name = "norm"
        tags = ["norm"]
        count = 2
        points = 2
    """))
    out = CliRunner().invoke(cli, ["quiz", "check", str(path), "--student", "alice"])
    assert out.exit_code == 0, out.output
    assert "points each" in out.output and "item total" in out.output
    norm_row = next(line for line in out.output.splitlines() if "│ norm " in line)
    assert [c.strip() for c in norm_row.split("│")[1:-1]] == ["norm", "2", "3 cards", "2", "4", "0%"]
    assert "2 questions, 4 points" in out.output
    data = CliRunner().invoke(cli, ["quiz", "check", str(path), "--json"]).output
    item = json.loads(data)["items"][0]
    assert item["points"] == 2 and item["points_total"] == 4


def test_grading_a_folder_without_submissions_fails_naming_the_folder_and_pattern(tmp_path):
    write_spec(tmp_path)
    lab = tmp_path / "quiz-lab"
    (lab / "submissions").mkdir(parents=True)
    (lab / "submissions" / ".alice.json").write_text("{}")  # an atomic write in progress
    for folder, hint in ((lab / "submissions", False), (lab, True)):
        out = CliRunner().invoke(cli, ["quiz", "grade", str(tmp_path / "quiz.toml"), str(folder),
                                       "--out", str(tmp_path / "results"), "--device", "cpu"])
        assert out.exit_code == 1
        text = " ".join(out.output.split())
        assert f"no submissions in {folder}" in text and "<student>.json (*.json)" in text
        assert (f"did you mean {lab / 'submissions'}?" in text) == hint
    assert not (tmp_path / "results").exists()
