"""The review app and its grader: the status line follows the grader's real state, an answer
says truly what it waits for, and quitting while an answer is graded ends the app at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ui_helpers import FakeGrader, build_ui_db, make_app, panel_text, reviews, run_async, until

from atlas_quiz.ui.widgets.answer_editor import AnswerEditor
from atlas_quiz.ui.widgets.grader_status import GraderStatus

TESTS = Path(__file__).parent


@pytest.fixture
def ui_db(tmp_path):
    return build_ui_db(tmp_path / "ui.db")


def _status_line(app) -> tuple[str, str]:
    widget = app.screen.query_one(GraderStatus)
    return widget.status, widget.detail


@run_async
async def test_the_status_line_follows_a_grader_that_fails_and_is_started_again(ui_db):
    grader = FakeGrader()
    app = make_app(ui_db, grader=grader)
    async with app.run_test(size=(110, 45)) as pilot:
        await until(pilot, lambda: _status_line(app) == ("ready", "fake, torch none"))
        grader.status, grader.error = "failed", "the grading service died with SIGKILL"
        await until(pilot, lambda: _status_line(app) == ("failed", grader.error))
        grader.status = "starting"  # a grade started it again
        await until(pilot, lambda: _status_line(app)[0] == "starting")
        grader.status = "ready"
        await until(pilot, lambda: _status_line(app)[0] == "ready")


@run_async
async def test_an_answer_to_a_failed_grader_says_it_is_started_again_not_that_torch_loads(ui_db):
    grader = FakeGrader()
    app = make_app(ui_db, grader=grader)
    async with app.run_test(size=(110, 45)) as pilot:
        grader.gate.clear()  # the restart takes a while
        grader.status, grader.error = "failed", "the grading service died with SIGKILL"
        app.screen.query_one(AnswerEditor).load_text("torch.relu(x)")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "had stopped" in panel_text(app))
        assert "torch is still loading" not in panel_text(app)
        grader.release()
        await until(pilot, lambda: app.screen.phase == "graded")
        assert [r["verdict"] for r in reviews(ui_db)] == ["correct"]


QUIT_WHILE_GRADING = """
import asyncio, json, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from silent_service import requests_seen, silent_service
from ui_helpers import build_ui_db, make_app
from atlas_quiz.grading.client import GradingClient
from atlas_quiz.ui.widgets.answer_editor import AnswerEditor

async def main():
    folder = Path({folder!r})
    app = make_app(build_ui_db(folder / "ui.db"),
                   grader=GradingClient("cpu", python=silent_service(folder)))
    async with app.run_test(size=(110, 45)) as pilot:
        app.screen.query_one(AnswerEditor).load_text("torch.relu(x)")
        await pilot.press("ctrl+s")
        for _ in range(500):
            if requests_seen(folder):
                break
            await pilot.pause(0.02)
        phase = app.screen.phase
        app.exit()
    return {{"phase": phase, "requests": requests_seen(folder)}}

print(json.dumps(asyncio.run(main())))  # asyncio.run joins the grading thread before it returns
"""


def test_quitting_while_an_answer_is_graded_ends_the_app_without_waiting_for_the_grade(tmp_path):
    # The service takes the answer and never replies: a grade that takes long. Quitting must
    # not sit out the grade's own limit (more than a minute) before the process can end.
    script = QUIT_WHILE_GRADING.format(tests=str(TESTS), folder=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=45)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"phase": "grading",
                                                               "requests": ["grade"]}
    assert "Traceback" not in out.stderr
