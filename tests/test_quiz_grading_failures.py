"""Grading a class when the engine fails: one answer, the whole engine, or the instructor's Ctrl-C.

The engine is replaced by a fake with the real one's interface that fails
where the test says, so each failure happens at a known answer.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from datetime import timedelta

import pytest

from atlas_quiz.grading.result import GradeResult
from atlas_quiz.grading.worker import RunnerUnavailable
from atlas_quiz.quiz import SubmissionFile, grade_class, load_spec, sample_dir
from atlas_quiz.quiz.grader import CACHE

SPEC = f"""
[quiz]
title = "Two questions"
minutes = 20
seed = "failures"
decks = ["{sample_dir() / 'deck.toml'}"]

[[item]]
card = "quiz.relu"

[[item]]
card = "quiz.l2_normalize"
"""

STUDENTS = [f"s{i:02d}" for i in range(20)]
ANSWERS = 2  # per student, none blank


class FakeEngines:
    """Stands in for ``atlas_quiz.grading.engine.Engine``: grades every answer correct, except
    that ``fail(call_number, answer)`` may return an exception to raise instead.

    Answers after a failure take ``slow_s`` each, as real ones do: without that, the
    worker threads would finish the class before the grader could react to the failure.
    """

    def __init__(self, fail=lambda n, answer: None, start_error: BaseException | None = None,
                 slow_s: float = 0.0):
        self.fail, self.start_error, self.slow_s = fail, start_error, slow_s
        self.starts = 0
        self.calls: list[str] = []
        self.failed = False
        self.lock = threading.Lock()

    def __call__(self, mode: str, device: str, *, timeout: float, jobs: int):
        return _FakeEngine(self)


class _FakeEngine:
    def __init__(self, owner: FakeEngines) -> None:
        self.owner = owner

    def start(self) -> dict:
        with self.owner.lock:
            self.owner.starts += 1
        if self.owner.start_error is not None:
            raise self.owner.start_error
        return {}

    def grade(self, card, answer: str, *, seed: int) -> GradeResult:
        with self.owner.lock:
            self.owner.calls.append(answer)
            error = self.owner.fail(len(self.owner.calls), answer)
            slow, self.owner.failed = self.owner.failed, self.owner.failed or error is not None
        if error is not None:
            raise error
        if slow:
            time.sleep(self.owner.slow_s)
        return GradeResult(card.id, "correct", "correct", 1.0, stage="ok", shape_ok=True)

    def close(self) -> None:
        pass


@pytest.fixture
def quiz(tmp_path, now):
    """20 students who each answered both questions; s03's first answer is ``BOOM``."""
    path = tmp_path / "quiz.toml"
    path.write_text(SPEC)
    spec = load_spec(path)
    subs = tmp_path / "subs"
    for student in STUDENTS:
        f = SubmissionFile.open(spec, student, subs, now=now)
        for q in spec.questions_for(student):
            text = "BOOM" if (student, q.slot) == ("s03", "relu") else f"{student} {q.slot}"
            f.set_answer(q.slot, text, now=now + timedelta(minutes=1))
        f.submit("submitted", now=now + timedelta(minutes=2))
    return spec, subs, tmp_path / "results"


def use(monkeypatch, engines: FakeEngines) -> FakeEngines:
    monkeypatch.setattr("atlas_quiz.grading.engine.Engine", engines)
    return engines


def cached(results) -> int:
    path = results / CACHE
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_one_answer_the_engine_fails_on_is_reported_and_the_class_is_graded(quiz, monkeypatch):
    spec, subs, results = quiz
    engines = use(monkeypatch, FakeEngines(
        lambda n, answer: RuntimeError("reply cut short") if answer == "BOOM" else None))
    report = grade_class(spec, subs, results, mode="strict", jobs=2)
    assert len(engines.calls) == len(STUDENTS) * ANSWERS and report.graded_now == len(engines.calls)
    assert [(p[0], p[1]) for p in report.problems] == [("s03.json", "s03")]
    assert "relu: the grader failed on this answer" in report.problems[0][2]
    assert "RuntimeError: reply cut short" in report.problems[0][2]
    feedback = (results / "feedback" / "s03.txt").read_text()
    assert "the grader failed on this answer (not your fault" in feedback
    with open(results / "gradebook.csv", newline="") as f:
        status = {r[0]: r[1] for r in csv.reader(f)}
    assert status["s03"] == "graded (some answers not graded)" and status["s04"] == "graded"
    assert cached(results) == len(STUDENTS) * ANSWERS - 1  # the failure is not a verdict to keep
    again = use(monkeypatch, FakeEngines())
    assert grade_class(spec, subs, results, mode="strict", jobs=2).graded_now == 1
    assert again.calls == ["BOOM"]


def test_an_unusable_engine_stops_the_run_at_once_and_keeps_what_finished(quiz, monkeypatch):
    spec, subs, results = quiz
    dies = RunnerUnavailable("the sandbox zygote died")
    engines = use(monkeypatch, FakeEngines(lambda n, answer: dies if n == 3 else None, slow_s=0.2))
    with pytest.raises(RunnerUnavailable, match="zygote died"):
        grade_class(spec, subs, results, mode="strict", jobs=1)
    # the first student, the second's failing answer, at most one more student in flight
    assert len(engines.calls) <= 3 + ANSWERS
    kept = cached(results)
    assert kept >= ANSWERS and kept % ANSWERS == 0  # whole students only
    healthy = use(monkeypatch, FakeEngines())
    report = grade_class(spec, subs, results, mode="strict", jobs=1)
    assert report.from_cache == kept and len(healthy.calls) == len(STUDENTS) * ANSWERS - kept


def test_a_sandbox_that_cannot_start_is_tried_once_not_once_per_student(quiz, monkeypatch):
    spec, subs, results = quiz
    engines = use(monkeypatch, FakeEngines(start_error=RunnerUnavailable("bwrap is missing")))
    with pytest.raises(RunnerUnavailable, match="bwrap is missing"):
        grade_class(spec, subs, results, mode="strict", jobs=2)
    assert engines.starts == 1 and engines.calls == []
    assert not (results / "gradebook.csv").exists()


def test_ctrl_c_while_grading_stops_at_once_and_keeps_the_finished_students(quiz, monkeypatch):
    spec, subs, results = quiz
    ctrl_c = KeyboardInterrupt()
    engines = use(monkeypatch, FakeEngines(lambda n, a: ctrl_c if n == 3 else None, slow_s=0.2))
    with pytest.raises(KeyboardInterrupt):
        grade_class(spec, subs, results, mode="strict", jobs=1)
    assert len(engines.calls) <= 3 + ANSWERS
    lines = (results / CACHE).read_text().splitlines()
    assert len(lines) >= ANSWERS and all(json.loads(line)["result"]["verdict"] == "correct"
                                         for line in lines)
