"""End to end: a synthetic class of 40 submissions graded in the strict sandbox.

Every student is built from a behaviour (correct, wrong in a known way, blank,
malicious, malformed), and the expected gradebook is computed from how each
student was built: the grader is never asked what it thinks.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from atlas_quiz.cards import draw_params
from atlas_quiz.cli import cli
from atlas_quiz.quiz import (
    MAX_ANSWER_CHARS,
    SubmissionFile,
    fmt_points,
    grade_class,
    load_spec,
    sample_dir,
)

pytestmark = [
    pytest.mark.sandbox, pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="strict mode needs bubblewrap (bwrap)"),
]

SPEC = f"""
[quiz]
title = "Week 3"
minutes = 30
seed = "e2e-2026"
decks = ["{sample_dir() / 'deck.toml'}"]
partial = 0.5

[[item]]
card = "quiz.relu"
points = 1

[[item]]
name = "act"
cards = ["quiz.sigmoid", "quiz.swiglu"]
points = 2

[[item]]
name = "norm"
tags = ["norm"]
count = 2
points = 2
partial = 0.25

[[item]]
name = "loss"
tags = ["loss"]
points = 3

[[item]]
card = "quiz.conv_shape"
points = 1
"""

TIMEOUT = 2.0


def answer(q, how: str) -> str:
    """The text a student of behaviour ``how`` writes for question ``q``."""
    card = q.card
    if how == "blank":
        return ""
    if card.kind == "shape":
        channels = draw_params(card, q.seed)["C"]  # the student's own parameter
        right = {"correct": f"({8}, {channels}, 16, 16)", "alt": f"torch.Size([8, {channels}, 16, 16])"}
        return right.get(how, "(8, 3, 16, 16)")
    return {
        "correct": card.reference,
        "alt": card.accept[0],
        "values": f"({card.reference}) + 1",             # right shape, wrong values
        "shape": f"({card.reference}).unsqueeze(0)",     # wrong shape
        "error": "undefined_name + 1",
    }[how]


def points(q, how: str) -> float:
    """What that answer must earn: full, the item's partial share, or nothing."""
    if how in ("correct", "alt"):
        return q.points
    if how == "values" and q.card.kind == "expr":
        return q.points * q.partial
    return 0.0


ATTACKS = {  # (answer to the relu question, points it must earn out of 1)
    "loop": ("while True:\n    pass\nreturn x", 0.0),
    "sleep": ("import time\ntime.sleep(60)\nreturn x", 0.0),
    "forkbomb": ("import os\nwhile True:\n    os.fork()\nreturn x", 0.0),
    "passwd": ('return open("/etc/passwd").read()', 0.0),
    "peek": ('return open("{subs}/s00.json").read()', 0.0),  # another student's answers
    "scribble": ('open("{results}/gradebook.csv", "w").write("hacked")\nreturn x', 0.0),
    "exit": ("import os\nos._exit(0)\nreturn x", 0.0),
    "patch": ("torch.testing.assert_close = lambda *a, **k: None\n"
              "torch.Tensor.__sub__ = lambda a, b: a * 0\n"
              "torch.allclose = lambda *a, **k: True\nreturn x.sum()", 0.0),
    "kill": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nreturn x", 0.0),
    "net": ('import socket\nsocket.create_connection(("127.0.0.1", 22))\nreturn x', 0.0),
    "shell": ('import subprocess\nsubprocess.run(["sh", "-c", "id"])\nreturn x', 0.0),
    "memory": ("return torch.ones(2**34)", 0.0),
    "spam": ('print("spam" * 10**6)\nreturn torch.relu(x)', 1.0),  # noisy but right
}


def build_class(spec, subs: Path, results: Path, now):
    """Write every submission; return the expected gradebook rows and the rejected files' reasons."""
    plans: dict[str, dict[str, str]] = {}
    kinds = ["correct"] * 6 + ["alt"] * 2 + ["values"] * 4 + ["shape"] * 4 + ["error"] * 2 + \
        ["blank"] * 3
    students = [f"s{i:02d}" for i in range(len(kinds))]
    for student, how in zip(students, kinds):
        plans[student] = {q.slot: how for q in spec.questions_for(student)}
    mixed = ["correct", "values", "shape", "blank", "alt", "error"]
    for i in range(3):
        student = f"m{i}"
        plans[student] = {q.slot: mixed[(i + k) % len(mixed)]
                          for k, q in enumerate(spec.questions_for(student))}
    for name in ATTACKS:
        plans[f"x-{name}"] = {q.slot: "correct" for q in spec.questions_for(f"x-{name}")}
    expected: dict[str, list[str]] = {}
    for student, plan in plans.items():
        f = SubmissionFile.open(spec, student, subs, now=now)
        earned = []
        for q in spec.questions_for(student):
            text, pts = answer(q, plan[q.slot]), points(q, plan[q.slot])
            if student.startswith("x-") and q.slot == "relu":
                text, pts = ATTACKS[student[2:]]
                text = text.format(subs=subs, results=results)
            f.set_answer(q.slot, text, now=now + timedelta(minutes=1))
            earned.append(pts)
        if student != "m2":  # m2's exam app died: saved, never handed in
            f.submit("submitted", now=now + timedelta(minutes=20))
        else:
            f.save(now=now + timedelta(minutes=2))
        status = "graded" if student != "m2" else "graded (not handed in)"
        expected[student] = [status, *map(fmt_points, earned), fmt_points(sum(earned)),
                             fmt_points(spec.max_points)]
    reasons = malformed(spec, subs, now)
    del expected["s01"]  # a second file claims s01: both are rejected, the instructor decides
    return expected, reasons


def malformed(spec, subs: Path, now) -> dict[str, str]:
    """Broken and tampered files; return file stem -> the reason the gradebook must give."""
    def valid(student: str) -> dict:
        f = SubmissionFile.open(spec, student, subs, now=now)
        f.submit("submitted", now=now)
        path = subs / f"{student}.json"
        data = json.loads(path.read_text())
        path.unlink()
        return data

    cases = {
        "badjson": ('{"format": "atlas-quiz-submission/1", ', "bad JSON"),
        "notobject": ("[1, 2, 3]", "not an atlas-quiz submission"),
        "otherquiz": ({**valid("z1"), "spec_hash": "f" * 64}, "wrong spec hash"),
        "bigfile": ("{" + " " * (2 << 20) + "}", "oversized file"),
    }
    extra = valid("z2")
    extra["answers"]["bonus"] = {"card": "quiz.relu", "text": "x"}
    cases["unknownitem"] = (extra, "unknown item 'bonus'")
    long = valid("z3")
    long["answers"]["relu"]["text"] = "x" * (MAX_ANSWER_CHARS + 1)
    cases["longanswer"] = (long, "oversized answer")
    swapped = valid("z4")
    swapped["answers"]["relu"]["card"] = "quiz.layernorm"
    cases["swapped"] = (swapped, "this student was drawn 'quiz.relu'")
    cases["traversal"] = ({**valid("z5"), "student": "../../etc/evil"}, "student id")
    reasons = {}
    for stem, (content, reason) in cases.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (subs / f"{stem}.json").write_text(text)
        reasons[stem] = reason
    twin = (subs / "s01.json").read_text()
    (subs / "s01-copy.json").write_text(twin)  # two files claim s01
    return reasons


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, written and graded once (strict, 2 jobs); later tests read the results."""
    from datetime import datetime, timezone

    root = tmp_path_factory.mktemp("class")
    spec_path = root / "quiz.toml"
    spec_path.write_text(SPEC)
    spec = load_spec(spec_path)
    subs, results = root / "submissions", root / "results"
    subs.mkdir()
    expected, reasons = build_class(spec, subs, results, datetime(2026, 11, 23, 9, tzinfo=timezone.utc))
    progress: list[tuple[int, int]] = []
    report = grade_class(spec, subs, results, mode="strict", device="cpu", jobs=2, timeout=TIMEOUT,
                         on_progress=lambda d, t: progress.append((d, t)))
    return {"spec": spec, "spec_path": spec_path, "subs": subs, "results": results,
            "expected": expected, "reasons": reasons, "report": report, "progress": progress}


def test_the_class_has_at_least_30_students_of_every_kind(graded):
    assert len(graded["expected"]) >= 30
    assert len(graded["reasons"]) >= 8


def test_the_gradebook_is_exactly_what_the_students_earned(graded):
    spec, rows = graded["spec"], read_csv(graded["results"] / "gradebook.csv")
    assert rows[0] == ["student", "status", *spec.slots(), "total", "max"]
    got = {r[0]: r[1:] for r in rows[1:] if r[1].startswith("graded")}
    assert got == graded["expected"]


def test_malicious_answers_earn_nothing_and_leave_everyone_else_alone(graded):
    rows = {r[0]: r for r in read_csv(graded["results"] / "gradebook.csv")[1:]}
    for name, (_, pts) in ATTACKS.items():
        assert rows[f"x-{name}"][2] == fmt_points(pts), name
        assert rows[f"x-{name}"][1] == "graded"
    assert "hacked" not in (graded["results"] / "gradebook.csv").read_text()


def test_malformed_and_tampered_submissions_are_reported_and_grading_goes_on(graded):
    rows = read_csv(graded["results"] / "gradebook.csv")[1:]
    rejected = {r[0]: r for r in rows if r[1].startswith("rejected")}
    for stem, reason in graded["reasons"].items():
        assert reason in rejected[stem][1], stem
        assert rejected[stem][2:-1] == [""] * (len(rejected[stem]) - 3)  # no points at all
    dup = [r for r in rows if r[0] == "s01"]
    assert len(dup) == 2 and all("several submissions for s01" in r[1] for r in dup)
    problems = read_csv(graded["results"] / "problems.csv")
    assert {p[0] for p in problems[1:]} >= {f"{s}.json" for s in graded["reasons"]}


def test_feedback_names_the_first_difference_without_a_grade_for_rejected_work(graded):
    fb = graded["results"] / "feedback"
    shape = (fb / "s12.txt").read_text()
    assert "expected shape" in shape and "Total: 0 /" in shape
    values = (fb / "s08.txt").read_text()
    assert "partial credit" in values and "max abs error" in values
    assert "ran longer than 2 s" in (fb / "x-loop.txt").read_text()
    assert "badjson.json was not graded" in (fb / "rejected" / "badjson.json.txt").read_text()


def test_item_analysis_is_per_card_and_matches_the_expected_points(graded):
    spec, expected = graded["spec"], graded["expected"]
    slots = spec.slots()
    earned: dict[tuple[str, str], list[float]] = {}  # (item, card) -> points of each student asked it
    held: dict[str, set[str]] = {}
    for student, row in expected.items():
        for q in spec.questions_for(student):
            earned.setdefault((q.item, q.card.id), []).append(float(row[1 + slots.index(q.slot)]))
            held.setdefault(q.slot, set()).add(q.card.id)
    rows = read_csv(graded["results"] / "items.csv")
    assert rows[0][:6] == ["scope", "item", "slot", "card", "points", "students"]
    cards = {(r[1], r[3]): r for r in rows[1:] if r[0] == "card"}
    assert set(cards) == {(i.name, c) for i in spec.items for c in i.pool}
    for key, pts in earned.items():
        assert cards[key][5] == str(len(pts))
        assert float(cards[key][6]) == pytest.approx(sum(pts) / len(pts), abs=5e-4)
    # a column that held several cards is reported too, and says so
    mixed = {r[2] for r in rows[1:] if r[0] == "slot (mixed cards)"}
    assert mixed == {slot for slot, cards_held in held.items() if len(cards_held) > 1}
    # the top students answer everything, the bottom ones nothing: relu discriminates fully
    totals = sorted(expected.values(), key=lambda v: -float(v[-2]))
    k = round(0.27 * len(totals))
    top = sum(float(v[1]) for v in totals[:k]) / k
    bottom = sum(float(v[1]) for v in totals[-k:]) / k
    assert float(cards[("relu", "quiz.relu")][8]) == pytest.approx(top - bottom, abs=5e-4)


def test_progress_is_reported_up_to_every_answer_graded(graded):
    progress, report = graded["progress"], graded["report"]
    assert progress[0][0] == 0 and progress[-1] == (report.graded_now, report.graded_now)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert report.from_cache == 0 and report.graded_now > 100


def test_a_second_run_grades_nothing_and_writes_the_same_gradebook(graded):
    before = (graded["results"] / "gradebook.csv").read_text()
    again = grade_class(graded["spec"], graded["subs"], graded["results"], mode="strict",
                        device="cpu", jobs=2, timeout=TIMEOUT)
    assert again.graded_now == 0 and again.from_cache == graded["report"].graded_now
    assert (graded["results"] / "gradebook.csv").read_text() == before


def test_overrides_and_new_points_apply_without_running_answers_again(graded, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(graded["results"], results)
    (results / "overrides.csv").write_text(
        "student,item,points,reason\ns12,relu,1,accepted on appeal\nnobody,relu,1,\ns00,nope,1,\n")
    spec_path = tmp_path / "quiz.toml"
    spec_path.write_text(graded["spec_path"].read_text().replace("points = 3", "points = 6"))
    spec = load_spec(spec_path)
    assert spec.hash == graded["spec"].hash  # points are policy, not the exam
    report = grade_class(spec, graded["subs"], results, mode="strict", device="cpu", jobs=2,
                         timeout=TIMEOUT)
    assert report.graded_now == 0
    rows = {r[0]: r for r in read_csv(results / "gradebook.csv")[1:]}
    loss = spec.slots().index("loss") + 2
    assert rows["s00"][loss] == "6" and rows["s12"][2] == "1"
    assert "accepted on appeal" in (results / "feedback" / "s12.txt").read_text()
    problems = (results / "problems.csv").read_text()
    assert "no submission from student 'nobody'" in problems and "no item 'nope'" in problems


def test_a_changed_answer_is_the_only_one_graded_again(graded, tmp_path):
    subs, results = tmp_path / "subs", tmp_path / "results"
    shutil.copytree(graded["subs"], subs)
    shutil.copytree(graded["results"], results)
    data = json.loads((subs / "s12.json").read_text())
    data["answers"]["relu"]["text"] = "x.clamp(min=0)"
    (subs / "s12.json").write_text(json.dumps(data))
    report = grade_class(graded["spec"], subs, results, mode="strict", device="cpu", jobs=2,
                         timeout=TIMEOUT)
    assert report.graded_now == 1
    rows = {r[0]: r for r in read_csv(results / "gradebook.csv")[1:]}
    assert rows["s12"][2] == "1"


def test_quiz_grade_command_refuses_when_the_sandbox_is_missing(graded, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    out = CliRunner().invoke(cli, ["quiz", "grade", str(graded["spec_path"]), str(graded["subs"]),
                                   "--out", str(tmp_path / "r"), "--device", "cpu", "--regrade"])
    assert out.exit_code == 2
    assert "strict" in out.output and not (tmp_path / "r" / "gradebook.csv").exists()


def test_quiz_grade_command_writes_the_gradebook(graded, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(graded["results"], results)
    out = CliRunner().invoke(cli, ["quiz", "grade", str(graded["spec_path"]), str(graded["subs"]),
                                   "--out", str(results), "--jobs", "2", "--device", "cpu",
                                   "--timeout", str(TIMEOUT), "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output.strip().splitlines()[-1])
    assert summary["answers_graded"] == 0 and summary["rejected"] == len(graded["reasons"]) + 2
    assert summary["graded"] == len(graded["expected"])
