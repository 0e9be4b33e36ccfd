"""What the main screens look like (pytest-textual-snapshot): card, graded card, recall, stats, summary.

Time, seeds and the grader are fixed, so a change in a snapshot is a change in
the UI (or in the LaTeX renderer). Update with ``pytest --snapshot-update``
after looking at the new SVGs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from ui_helpers import NOW, Clock, build_ui_db, make_app

from atlas_quiz.scheduling import record_review
from atlas_quiz.ui.widgets.answer_editor import AnswerEditor

SIZE = (110, 42)


@pytest.fixture
def ui_db(tmp_path):
    return build_ui_db(tmp_path / "snap.db")


async def _steady(pilot) -> None:
    """A cursor that does not blink: a slow machine must not catch it half-way."""
    pilot.app.screen.query_one(AnswerEditor).cursor_blink = False
    await pilot.pause()


async def _graded(pilot, text: str) -> None:
    app = pilot.app
    await _steady(pilot)
    app.screen.query_one(AnswerEditor).load_text(text)
    await pilot.press("ctrl+s")
    for _ in range(500):
        if app.screen.phase != "grading":
            break
        await pilot.pause(0.02)
    await pilot.pause()


def test_a_new_expr_card_shows_formula_prompt_and_scope(snap_compare, ui_db):
    assert snap_compare(make_app(ui_db), terminal_size=SIZE, run_before=_steady)


def test_a_wrong_answer_shows_verdict_feedback_reference_and_explanation(snap_compare, ui_db):
    async def answer_wrong(pilot):
        await _graded(pilot, "x.abs()")

    assert snap_compare(make_app(ui_db), terminal_size=SIZE, run_before=answer_wrong)


def test_a_parametric_shape_card_shows_its_drawn_code(snap_compare, ui_db):
    async def skip_one(pilot):
        await _steady(pilot)
        await pilot.press("escape", "n")

    assert snap_compare(make_app(ui_db), terminal_size=SIZE, run_before=skip_one)


def test_the_summary_counts_the_session(snap_compare, ui_db):
    clock = Clock()

    async def two_answers_then_quit(pilot):
        clock.advance(40)
        await _graded(pilot, "torch.relu(x)")
        await pilot.press("space")
        clock.advance(25)
        await _graded(pilot, "(3, 3)")
        await pilot.press("q")

    assert snap_compare(make_app(ui_db, clock=clock), terminal_size=SIZE,
                        run_before=two_answers_then_quit)


def test_the_stats_screen_draws_heatmap_forecast_retention_and_mastery(snap_compare, ui_db):
    # Five weeks of history: a review every other day, some lapses.
    for day in range(35, 0, -2):
        when = NOW - timedelta(days=day)
        for i, card in enumerate(("uitest.relu", "uitest.cumsum", "uitest.broadcast")[: 1 + day % 3]):
            record_review(ui_db, card, rating=1 if (day + i) % 5 == 0 else 3, now=when,
                          verdict="correct")

    async def open_stats(pilot):
        await pilot.press("escape", "t")
        await pilot.pause()

    assert snap_compare(make_app(ui_db), terminal_size=SIZE, run_before=open_stats)
