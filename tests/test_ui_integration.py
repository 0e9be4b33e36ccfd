"""The review app with the real grading service, in real processes: torch stays out of the UI,
killing the app loses at most the answer in flight, built-in decks are synced when they change."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from ui_helpers import DECK, build_ui_db

from atlas_quiz.cli import cli
from atlas_quiz.commands.review import sync_builtin_decks, unknown_tags

TESTS = Path(__file__).parent

PILOT_SCRIPT = """
import asyncio, json, sys
sys.path.insert(0, {tests!r})
from ui_helpers import build_ui_db, make_app, reviews
from atlas_quiz.grading.client import GradingClient
from atlas_quiz.ui.widgets.answer_editor import AnswerEditor

async def answer(pilot, app, text):
    app.screen.query_one(AnswerEditor).load_text(text)
    await pilot.press("ctrl+s")
    for _ in range(3000):
        if app.screen.phase != "grading":
            return
        await pilot.pause(0.05)

async def main():
    db = build_ui_db({db!r})
    app = make_app(db, grader=GradingClient("cpu"))
    async with app.run_test(size=(110, 45)) as pilot:
        await answer(pilot, app, "x.abs()")
        await pilot.press("space")
        await answer(pilot, app, "torch.randn(1)")  # not a shape: back to the editor
        unread = (app.screen.phase, len(reviews(db)))
        await answer(pilot, app, "(1, 1, 1)")
        await pilot.press("space")
        await answer(pilot, app, "tensor([0, 1, 3, 6])")
        status = app.grader.status
    print(json.dumps({{"reviews": [(r["card_id"], r["verdict"], r["feedback"]) for r in reviews(db)],
                       "unread": unread, "status": status, "torch": "torch" in sys.modules}}))

asyncio.run(main())
"""


def test_the_ui_modules_and_the_review_command_import_no_torch():
    modules = ["atlas_quiz.cli", "atlas_quiz.commands.review", "atlas_quiz.ui.app",
               "atlas_quiz.ui.session", "atlas_quiz.ui.screens.stats", "atlas_quiz.grading.client"]
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "print(sorted(m for m in ('torch', 'numpy', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "torch" not in out.stdout


def test_the_app_grades_through_the_real_service_without_importing_torch(tmp_path):
    script = PILOT_SCRIPT.format(tests=str(TESTS), db=str(tmp_path / "ui.db"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["torch"] is False
    assert data["status"] == "ready"
    (relu, relu_verdict, relu_feedback), shape, cumsum = data["reviews"]
    assert (relu, relu_verdict) == ("uitest.relu", "wrong")
    assert "abs flips negatives" in relu_feedback  # the engine named the known mistake
    assert data["unread"] == ["answer", 1]  # a typo costs no review
    assert shape[:2] == ["uitest.broadcast", "wrong"]
    assert cumsum[:2] == ["uitest.cumsum", "correct"]


def _pane(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-t", session, "-p"], capture_output=True,
                          text=True).stdout


def _wait_for(session: str, text: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = _pane(session)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{_pane(session)}")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ", 1)[1][0] == "Z":
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (installed by .ci/run)")
def test_killing_the_app_mid_session_loses_at_most_the_answer_in_flight(tmp_path):
    db_path = tmp_path / "kill.db"
    build_ui_db(db_path).close()
    session = f"atlas-kill-{os.getpid()}"
    cmd = (f"exec {sys.executable} -m atlas_quiz review --db {db_path} --deck ui_deck "
           f"--device cpu --seed 1")
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "110", "-y", "45", cmd],
                   check=True, env=env)
    try:
        pid = int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                                 capture_output=True, text=True).stdout.split()[0])
        _wait_for(session, "grader ready")
        for answer, verdict in (("torch.relu(x)", "correct"), ("(1, 1, 1)", "wrong")):
            subprocess.run(["tmux", "send-keys", "-t", session, "-l", answer], check=True)
            subprocess.run(["tmux", "send-keys", "-t", session, "C-s"], check=True)
            _wait_for(session, f"{verdict}  (")
            subprocess.run(["tmux", "send-keys", "-t", session, "Space"], check=True)
            _wait_for(session, "Write what it prints" if verdict == "wrong" else "shape of the result")
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", "tensor([0, 1, 3, 6])"], check=True)
        _wait_for(session, "tensor([0, 1, 3, 6])")
        helpers = _children(pid)
        os.kill(pid, signal.SIGKILL)
        assert _gone(pid)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    from atlas_quiz.store import open_db

    db = open_db(db_path)
    rows = [(r["card_id"], r["verdict"]) for r in db["reviews"].rows_where(order_by="id")]
    assert rows == [("uitest.relu", "correct"), ("uitest.broadcast", "wrong")]
    states = {r["card_id"]: r["state"] for r in db["card_state"].rows}
    # Correct: Easy (review) or, on a slow machine, Good (learning); wrong: Again (learning).
    assert states["uitest.relu"] in ("review", "learning") and states["uitest.broadcast"] == "learning"
    assert set(states) == {"uitest.relu", "uitest.broadcast"}  # the card being typed stays new
    assert helpers, "the grading service was not running"
    assert all(_gone(p) for p in helpers), "the grading service outlived the app"


def test_builtin_decks_are_rebuilt_only_when_their_files_change(tmp_path, db):
    folder = tmp_path / "decks"
    folder.mkdir()
    shutil.copy(DECK, folder / "ui_deck.toml")
    assert sync_builtin_decks(db, folder) is True
    assert db["cards"].count == 4
    assert sync_builtin_decks(db, folder) is False
    text = (folder / "ui_deck.toml").read_text().replace('title = "ReLU"', 'title = "Rectifier"')
    (folder / "ui_deck.toml").write_text(text)
    assert sync_builtin_decks(db, folder) is True
    assert db["cards"].get("uitest.relu")["title"] == "Rectifier"


@pytest.mark.parametrize("command", ["review", "serve"])
def test_an_unknown_tag_fails_like_an_unknown_deck_naming_the_tags_there_are(tmp_path, command):
    db_path = tmp_path / "tags.db"
    build_ui_db(db_path).close()
    result = CliRunner().invoke(cli, [command, "--db", str(db_path), "--tag", "activatoin"])
    assert result.exit_code == 2
    assert "no card has the tag 'activatoin'; did you mean: activation" in result.output


def test_known_tags_and_the_leech_tag_pass_the_check(tmp_path):
    db = build_ui_db(tmp_path / "tags.db")
    assert unknown_tags(db, ["activation", "leech"]) is None
    problem = unknown_tags(db, ["zzz"])
    assert problem.startswith("no card has the tag 'zzz'; most used: ")
    assert all(t in problem for t in ("activation", "optimizer", "reduction", "shape"))
