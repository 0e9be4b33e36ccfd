"""Pilot tests of a whole review session: grading, ratings, undo, bury, suspend, quit and resume."""

from __future__ import annotations

import pytest
from ui_helpers import (
    NOW,
    Clock,
    FakeGrader,
    answer,
    build_ui_db,
    make_app,
    panel_text,
    reviews,
    run_async,
    until,
)

from atlas_quiz.cards import instantiate
from atlas_quiz.ui.screens.review import ReviewScreen
from atlas_quiz.ui.screens.summary import SummaryScreen
from atlas_quiz.ui.widgets.answer_editor import AnswerEditor


@pytest.fixture
def ui_db(tmp_path):
    return build_ui_db(tmp_path / "ui.db")


@run_async
async def test_correct_answer_is_recorded_at_once_with_the_suggested_rating(ui_db):
    clock = Clock()
    app = make_app(ui_db, clock=clock)
    async with app.run_test(size=(110, 45)) as pilot:
        assert app.session.current.card.id == "uitest.relu"
        clock.advance(30)  # slower than the Easy threshold for expr cards
        await answer(pilot, app, "x.clamp(min=0)")
        assert app.screen.phase == "graded"
        [row] = reviews(ui_db)
        assert (row["card_id"], row["verdict"], row["rating"]) == ("uitest.relu", "correct", 3)
        assert row["answer"] == "x.clamp(min=0)"
        assert row["duration_ms"] == 30_000
        assert row["seed"] == app.session.current.seed
        assert "correct" in panel_text(app) and "torch.relu(x)" in panel_text(app)


@run_async
async def test_wrong_answer_is_rated_again_and_shows_the_first_difference(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await answer(pilot, app, "x.abs()")
        [row] = reviews(ui_db)
        assert (row["verdict"], row["rating"]) == ("wrong", 1)
        text = panel_text(app)
        assert "wrong" in text and "expected" in text and "Reference" in text


@run_async
async def test_the_grader_gets_the_stored_card_and_the_seed_the_screen_used(ui_db):
    grader = FakeGrader()
    app = make_app(ui_db, grader=grader)
    async with app.run_test(size=(110, 45)) as pilot:
        await answer(pilot, app, "x.clamp(min=0)")
        await pilot.press("space")
        shown = app.session.current
        assert shown.card.id == "uitest.broadcast"
        assert "{B}" in shown.card.code and "{B}" not in shown.view.code
        assert shown.view == instantiate(shown.card, shown.seed)
        await answer(pilot, app, shown.view.accept[0])
        assert grader.graded[-1] == ("uitest.broadcast", shown.view.accept[0], shown.seed)
        assert reviews(ui_db)[-1]["verdict"] == "correct"


@run_async
async def test_a_rating_key_replaces_the_recorded_rating_without_a_second_review(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await answer(pilot, app, "x.abs()")
        await pilot.press("3")
        [row] = reviews(ui_db)
        assert (row["verdict"], row["rating"], row["answer"]) == ("wrong", 3, "x.abs()")
        assert app.session.current.card.id == "uitest.broadcast"


@run_async
async def test_a_hint_is_shown_in_view_and_makes_a_correct_answer_hard_at_best(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(60, 20)) as pilot:  # too small for card and hint at once
        hint, body = app.screen.query_one("#card-hint"), app.screen.query_one("#review-body")
        await pilot.press("ctrl+t")
        assert app.session.current.hinted
        await pilot.pause()
        await pilot.pause()
        assert body.scroll_y > 0 and body.region.contains_region(hint.region)  # scrolled to it
        shown = "".join(str(line.text) for line in hint.render_lines(hint.region.reset_offset))
        assert "clamp the negatives away" in shown and "把负数截掉" in shown
        await answer(pilot, app, "torch.relu(x)")
        assert reviews(ui_db)[-1]["rating"] == 2
        await pilot.press("4")  # an override cannot buy the rating back
        assert reviews(ui_db)[-1]["rating"] == 2


@run_async
async def test_nothing_can_be_typed_into_a_graded_answer(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await answer(pilot, app, "x.abs()")
        editor = app.screen.query_one(AnswerEditor)
        assert editor.read_only
        editor.focus()
        await pilot.press("z", "z", "backspace")
        assert editor.text == "x.abs()"


@run_async
async def test_undo_brings_the_card_back_with_its_answer_and_the_new_answer_is_hard_at_best(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await answer(pilot, app, "x.abs()")
        await pilot.press("space")
        assert app.session.current.card.id == "uitest.broadcast"
        await pilot.press("escape", "u")
        assert reviews(ui_db) == []
        assert app.session.current.card.id == "uitest.relu"
        editor = app.screen.query_one(AnswerEditor)
        assert editor.text == "x.abs()" and not editor.read_only
        await answer(pilot, app, "torch.relu(x)")  # fast, but the reference was on screen
        assert [(r["verdict"], r["rating"]) for r in reviews(ui_db)] == [("correct", 2)]
        assert "answered again after an undo: Hard at best" in panel_text(app)
        await pilot.press("4")
        assert reviews(ui_db)[-1]["rating"] == 2
        assert any("Kept at Hard" in str(n.message) for n in app._notifications)


@run_async
async def test_skip_moves_the_card_back_without_recording(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.press("escape", "n")
        assert app.session.current.card.id == "uitest.broadcast"
        assert reviews(ui_db) == []
        assert app.session.queue.next_id() == "uitest.broadcast"


@run_async
async def test_bury_hides_the_card_until_tomorrow_and_suspend_until_unsuspended(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        await pilot.press("escape", "b")
        assert app.session.current.card.id == "uitest.broadcast"
        await pilot.press("escape", "s")
        assert app.session.current.card.id == "uitest.cumsum"
        state = {r["card_id"]: r for r in ui_db["card_state"].rows}
        assert state["uitest.relu"]["buried_until"] > NOW.isoformat()
        assert state["uitest.broadcast"]["suspended"] == 1
        assert reviews(ui_db) == []


@run_async
async def test_a_recall_card_is_revealed_then_self_rated(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(110, 45)) as pilot:
        for _ in range(3):
            await pilot.press("escape", "n")
        assert app.session.current.card.id == "uitest.adam"
        assert app.screen.phase == "recall"
        assert not app.screen.query_one(AnswerEditor).display
        await pilot.press("space")
        assert app.screen.phase == "revealed"
        assert "biased towards zero" in panel_text(app)
        await pilot.press("3")
        [row] = reviews(ui_db)
        assert (row["card_id"], row["rating"], row["verdict"]) == ("uitest.adam", 3, "")


@run_async
async def test_an_answer_given_before_the_grader_is_ready_waits_and_says_so(ui_db):
    grader = FakeGrader(ready=False)
    app = make_app(ui_db, grader=grader)
    async with app.run_test(size=(110, 45)) as pilot:
        app.screen.query_one(AnswerEditor).load_text("torch.relu(x)")
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert app.screen.phase == "grading"
        assert "Waiting for the grader" in panel_text(app)
        assert reviews(ui_db) == []
        grader.release()
        await until(pilot, lambda: app.screen.phase == "graded")
        assert [r["verdict"] for r in reviews(ui_db)] == ["correct"]


@run_async
async def test_an_unavailable_grader_falls_back_to_self_rating(ui_db):
    app = make_app(ui_db, grader=FakeGrader(broken="no torch here"))
    async with app.run_test(size=(110, 45)) as pilot:
        await answer(pilot, app, "torch.relu(x)")
        assert app.screen.phase == "revealed"
        assert "no torch here" in panel_text(app)
        await pilot.press("2")
        [row] = reviews(ui_db)
        assert (row["rating"], row["verdict"], row["answer"]) == (2, "", "torch.relu(x)")


@run_async
async def test_quitting_shows_the_summary_and_a_new_session_resumes_where_it_left(ui_db):
    clock = Clock()
    app = make_app(ui_db, clock=clock)
    async with app.run_test(size=(110, 45)) as pilot:
        clock.advance(5)
        await answer(pilot, app, "torch.relu(x)")  # Easy (typed at once): due in days
        await pilot.press("space")
        clock.advance(5)
        await answer(pilot, app, "(1, 1, 1)")      # wrong: Again, back in a minute
        await pilot.press("space")
        await pilot.press("escape", "q")
        assert isinstance(app.screen, SummaryScreen)
        summary = app.screen.summary
        assert (summary.reviewed, summary.correct, summary.graded) == (2, 1, 2)
        assert summary.seconds == 10
        assert summary.next_due == NOW  # the output and recall cards are still due
    assert [(r["card_id"], r["verdict"]) for r in reviews(ui_db)] == [
        ("uitest.relu", "correct"), ("uitest.broadcast", "wrong")]
    again = make_app(ui_db)
    async with again.run_test(size=(110, 45)):
        assert isinstance(again.screen, ReviewScreen)
        assert again.session.current.card.id == "uitest.cumsum"
        new, learning, review = again.session.queue.counts()
        assert (new, learning, review) == (2, 1, 0)


@run_async
async def test_the_grader_is_closed_with_the_app(ui_db):
    grader = FakeGrader()
    app = make_app(ui_db, grader=grader)
    async with app.run_test(size=(110, 45)):
        assert grader.status == "ready"
    assert grader.closed

