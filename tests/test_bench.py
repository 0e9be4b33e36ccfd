"""The benchmarks' plumbing: one JSON line that names the benchmark, the review they time is the
app's, a failed start-up run leaves nothing behind. Speed itself is never asserted here: each
benchmark measures it beside its baseline."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess

import pytest

from atlas_quiz.grading.result import GradeResult


@pytest.mark.parametrize("name, argv", [
    ("queue", ["--cards", "40", "--reviews", "200", "--repeat", "2"]),
    ("anki", ["--repeat", "1"]),
    ("render", ["--repeat", "1", "--no-gallery"]),
    pytest.param("startup", ["--repeat", "1", "--no-grader"], marks=pytest.mark.slow),
])
def test_a_benchmark_ends_with_one_json_line_that_names_it_under_benchmark(name, argv, capsys):
    module = importlib.import_module(f"atlas_quiz.bench.{name}")
    assert module.main(argv) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["benchmark"] == name


def test_the_timed_review_and_undo_leave_the_queue_as_a_fresh_build_would(tmp_path):
    from atlas_quiz.bench.queue import NOW, _fill, answer_and_undo
    from atlas_quiz.scheduling import ReviewQueue
    from atlas_quiz.store import open_db

    db = open_db(tmp_path / "queue.db")
    _fill(db, 20, 100)
    queue = ReviewQueue.build(db, now=NOW)
    before = (queue.next_id(), queue.counts())
    logged = db["reviews"].count
    for _ in range(3):
        answer_and_undo(queue)
        fresh = ReviewQueue.build(db, now=NOW)
        assert (queue.next_id(), queue.counts()) == (fresh.next_id(), fresh.counts()) == before
    assert db["reviews"].count == logged


def _terminals_open() -> int:
    """How many pseudo-terminal masters this process holds."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the descriptor listdir itself used, closed by now
            count += os.readlink(f"/proc/self/fd/{fd}") == "/dev/ptmx"
    return count


def test_a_start_up_run_that_times_out_leaves_no_app_running_and_no_terminal_open(tmp_path):
    from atlas_quiz.bench.startup import time_first_card

    mark = tmp_path / "first-card-mark"
    before = _terminals_open()
    with pytest.raises(RuntimeError, match="did not exit"):
        time_first_card(tmp_path / "review.db", mark, timeout=0.05)  # far too short to draw
    assert subprocess.run(["pgrep", "-f", str(mark)]).returncode == 1  # no such process left
    assert _terminals_open() == before


def test_latencies_time_each_grade_after_untimed_warmups_and_stop_at_a_wrong_grade():
    from atlas_quiz.bench.grading import _latencies

    seeds: list[int] = []

    def grade(seed: int) -> GradeResult:
        seeds.append(seed)
        return GradeResult("bench.card", "correct", "correct", 0.0)

    ms = _latencies(grade, n=3, warmup=2, pause=0.001)
    assert seeds == [0, 1, 0, 1, 2]
    assert len(ms) == 3 and min(ms) >= 0
    with pytest.raises(SystemExit, match="graded wrong"):
        _latencies(lambda seed: GradeResult("bench.card", "wrong", "expected 1, got 2", 0.0), 1, 0)
