"""The review session without a terminal: the summary, hints, typos and the rating it suggests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.console import Console
from ui_helpers import NOW, Clock, build_ui_db

from atlas_quiz.grading.result import GradeResult
from atlas_quiz.scheduling import Rating
from atlas_quiz.ui.screens.summary import summary_table
from atlas_quiz.ui.session import ReviewSession


@pytest.fixture
def ui_db(tmp_path):
    return build_ui_db(tmp_path / "session.db")


def _session(db, clock: Clock | None = None) -> ReviewSession:
    return ReviewSession(db, now=lambda: NOW, clock=clock or Clock(), seed=3)


def _correct(card_id: str) -> GradeResult:
    return GradeResult(card_id, "correct", "correct", 1.0, stage="ok", shape_ok=True)


def _answer_correctly(session: ReviewSession, clock: Clock, seconds: float) -> Rating:
    shown = session.show_next()
    clock.advance(seconds)
    session.submit()
    rating = session.suggested_rating(_correct(shown.card.id))
    session.record(rating, answer=shown.view.reference, verdict="correct")
    return Rating(rating)


def test_the_next_card_is_due_now_while_cards_are_still_queued(ui_db):
    clock = Clock()
    session = _session(ui_db, clock)
    assert _answer_correctly(session, clock, 4) == Rating.Easy  # due in days
    summary = session.summary()
    assert summary.left == (3, 0, 0)
    assert summary.next_due == NOW


def test_with_the_queue_empty_the_next_card_is_the_earliest_scheduled(ui_db):
    clock = Clock()
    session = _session(ui_db, clock)
    session.show_next()
    dues = []
    while session.show_next() is not None:
        session.submit()
        dues.append(session.record(int(Rating.Easy)).due)
    summary = session.summary()
    assert summary.left == (0, 0, 0)
    assert summary.next_due == min(dues) > NOW


def test_a_card_answered_again_then_easy_counts_by_its_easy_review_not_its_old_step(ui_db):
    now = [NOW]
    session = ReviewSession(ui_db, tags=["activation"], now=lambda: now[0], clock=Clock(), seed=3)
    session.show_next()
    session.submit()
    again = session.record(int(Rating.Again))
    assert again.due < NOW + timedelta(minutes=5)  # its first learning step
    now[0] = NOW + timedelta(minutes=5)
    assert session.show_next().card.id == "uitest.relu"
    session.submit()
    easy = session.record(int(Rating.Easy))
    summary = session.summary()
    assert summary.left == (0, 0, 0)
    assert summary.next_due == easy.due > now[0]  # not "now", for a step long past
    table = Console(width=100, record=True)
    table.print(summary_table(summary, now[0]))
    assert "review 0 (tag activation only)" in table.export_text()  # other cards may be due


def test_an_unfiltered_summary_names_no_filter(ui_db):
    table = Console(width=100, record=True)
    table.print(summary_table(_session(ui_db).summary(), NOW))
    assert "only" not in table.export_text()


def test_a_card_without_a_hint_is_never_marked_as_hinted(ui_db):
    session = _session(ui_db)
    session.show_next()
    session.skip()
    shown = session.show_next()
    assert shown.card.id == "uitest.broadcast" and not shown.view.hint
    assert not session.has_hint()
    assert session.hint() == ""
    assert not shown.hinted
    session.submit()
    assert session.record(int(Rating.Good)).rating == Rating.Good  # no cap


def test_a_card_with_a_hint_is_capped_at_hard_once_it_was_shown(ui_db):
    session = _session(ui_db)
    session.show_next()
    assert session.has_hint()
    assert session.hint() == "clamp the negatives away"
    session.submit()
    assert session.record(int(Rating.Easy)).rating == Rating.Hard


def test_an_undone_card_comes_back_with_the_numbers_it_had_and_is_hard_at_best(ui_db):
    session = _session(ui_db)
    session.show_next()
    session.skip()
    first = session.show_next()
    assert first.card.id == "uitest.broadcast" and first.card.params  # numbers drawn per review
    session.submit()
    session.record(int(Rating.Again), answer="(1, 2, 3)", verdict="wrong")
    again = session.undo()
    assert again.card.id == first.card.id and (again.seed, again.view) == (first.seed, first.view)
    assert again.answer == "(1, 2, 3)" and again.retried
    session.submit()
    assert session.record(int(Rating.Easy)).rating == Rating.Hard


def test_resuming_after_a_typo_keeps_the_clock_running_from_when_the_card_was_shown(ui_db):
    clock = Clock()
    session = _session(ui_db, clock)
    session.show_next()
    clock.advance(10)
    assert session.submit() == 10
    session.resume()  # the grader could not read it
    clock.advance(6)
    assert session.submit() == 16


@pytest.mark.parametrize(("seconds", "rating"), [(6, Rating.Easy), (15, Rating.Good)])
def test_easy_is_for_an_answer_typed_straight_away_and_good_is_the_rule(ui_db, seconds, rating):
    # "torch.relu(x)": Easy within a few seconds of thought plus typing it at a brisk pace;
    # 15 s was Easy under the old flat 20 s for every expr card.
    clock = Clock()
    assert _answer_correctly(_session(ui_db, clock), clock, seconds) == rating
