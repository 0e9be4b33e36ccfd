"""Shared by the UI tests: a small deck in a temp database, a fixed clock, a fake grader, and a
served app (textual-serve) to connect to.

The fake grader has the real client's interface (``status``, ``info``,
``error``, ``start``, ``wait_ready``, ``grade``, ``close``) and grades by comparing the answer with
the card's reference and accepted answers (an answer Python cannot parse is a
``parse`` error, one containing ``1 / 0`` raises), so pure UI behaviour is
tested without the grader's timing. Integration tests use the real service.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from atlas_quiz.cards import Card, instantiate, load_decks
from atlas_quiz.grading.client import GraderClosed, GraderUnavailable
from atlas_quiz.grading.result import GradeResult
from atlas_quiz.store import build_decks, open_db
from atlas_quiz.ui.app import ReviewApp
from atlas_quiz.ui.session import ReviewSession
from atlas_quiz.ui.widgets.answer_editor import AnswerEditor
from atlas_quiz.ui.widgets.result_panel import ResultPanel

DECK = Path(__file__).parent / "data" / "ui_deck.toml"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ORDER = ["uitest.relu", "uitest.broadcast", "uitest.cumsum", "uitest.adam"]


def build_ui_db(path: Path):
    """A migrated database holding only the UI test deck."""
    db = open_db(path)
    build_decks(db, load_decks([DECK]), origin="test", now=NOW)
    return db


class Clock:
    """A clock the test moves by hand: monotonic seconds by default (answer durations become
    exact), or, started from a datetime and moved by timedeltas, an exam's wall clock."""

    def __init__(self, start: float | datetime = 1000.0) -> None:
        self.t = start

    def __call__(self) -> float | datetime:
        return self.t

    def advance(self, step: float | timedelta) -> None:
        self.t += step


class FakeGrader:
    """Grades by string comparison; ``gate`` holds answers back (a grader still starting);
    ``broken`` makes every grade fail as an unavailable grader does; ``close`` ends a wait
    with :class:`GraderClosed`, as the real client does."""

    def __init__(self, *, ready: bool = True, broken: str = "") -> None:
        self.status = "stopped"
        self.info = {"device": "fake", "torch": "none"}
        self.error = broken
        self.gate = threading.Event()
        if ready:
            self.gate.set()
        self.broken = broken
        self.graded: list[tuple[str, str, int]] = []
        self.closed = False

    def start(self) -> None:
        if self.status == "stopped":
            self.status = "starting"
        if self.gate.is_set():
            self.status = "failed" if self.broken else "ready"

    def release(self) -> None:
        self.gate.set()
        self.status = "failed" if self.broken else "ready"

    def wait_ready(self, timeout: float | None = None) -> dict:
        self.gate.wait(timeout)
        if self.closed:
            raise GraderClosed("the grading service was closed")
        if self.broken:
            raise GraderUnavailable(self.broken)
        return self.info

    def grade(self, card: Card, answer: str, *, seed: int) -> GradeResult:
        if self.status == "failed":  # as the real client: a failed grader is started again
            self.status = "starting"
        self.wait_ready()
        view = instantiate(card, seed)
        right = {view.reference, view.answer, *view.accept} - {""}
        self.graded.append((card.id, answer, seed))
        try:  # as the real grader: an answer it cannot read is a parse error, not a verdict
            compile(answer, "<answer>", "eval")
        except SyntaxError as exc:
            return GradeResult(card.id, "error", f"line {exc.lineno}: SyntaxError: {exc.msg}", 1.0,
                               stage="parse")
        if "1 / 0" in answer:  # an answer that runs and raises
            return GradeResult(card.id, "error", "ZeroDivisionError: division by zero", 1.0,
                               stage="run")
        if answer.strip() in right:
            return GradeResult(card.id, "correct", "correct", 1.0, stage="ok", shape_ok=True)
        return GradeResult(card.id, "wrong", f"expected {sorted(right)[0]}, got {answer.strip()}",
                           1.0, stage="values")

    def close(self) -> None:
        self.closed = True
        self.status = "stopped"
        self.gate.set()  # an answer still waiting is let go


def make_app(db, grader=None, clock: Clock | None = None, seed: int = 7, now=NOW) -> ReviewApp:
    """The review app over ``db`` with a fixed now, a hand clock and a seeded session."""
    session = ReviewSession(db, now=lambda: now, clock=clock or Clock(), seed=seed)
    return ReviewApp(session, grader or FakeGrader())


def reviews(db) -> list[dict]:
    """The review log, oldest first."""
    return list(db["reviews"].rows_where(order_by="id"))


def run_async(test):
    """Run an ``async def`` Pilot test in its own event loop (no asyncio plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return wrapper


def free_port() -> int:
    """A local TCP port nobody listens on now, for a server the test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(args: list[str], log: Path, *, cwd: Path | None = None) -> Iterator[int]:
    """Run ``python -m atlas_quiz ARGS --port PORT`` (a textual-serve server) until it accepts
    connections; yield the port; stop the server's whole process group (its apps too) after.

    Its output goes to ``log``, which a server that dies before listening raises with.
    """
    port = free_port()
    with open(log, "wb") as out:
        command = [sys.executable, "-m", "atlas_quiz", *args, "--port", str(port)]
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 60  # a cold start imports textual and aiohttp
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log.read_text()) from None
                    time.sleep(0.2)
            yield port
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


async def until(pilot, predicate, timeout: float = 10.0) -> None:
    """Let the app run until ``predicate()`` holds (graded answers come back from a thread)."""
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app never reached the expected state")


async def answer(pilot, app, text: str) -> None:
    """Type ``text`` as the answer, submit it and wait for the grade."""
    editor = app.screen.query_one(AnswerEditor)
    editor.load_text(text)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: app.screen.phase != "grading")


def panel_text(app) -> str:
    """The result panel as the learner reads it (empty while hidden)."""
    panel = app.screen.query_one(ResultPanel)
    return "\n".join(str(line.text) for line in panel.render_lines(panel.region.reset_offset)) \
        if panel.region.width else ""
