"""Fitting FSRS parameters to the learner's log: refused on too few reviews, works on enough."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from fsrs import Card as FsrsCard
from fsrs import Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS
from test_scheduling import make_cards

from atlas_quiz.cli import cli
from atlas_quiz.scheduling import (
    MIN_REVIEWS,
    Rating,
    SchedulerSettings,
    load_settings,
    optimize,
    record_review,
    retention_estimate,
    save_settings,
)
from atlas_quiz.scheduling.optimize import count_usable, review_logs
from atlas_quiz.store import open_db

START = datetime(2025, 1, 6, 8, 0, tzinfo=timezone.utc)
# A learner who forgets faster than FSRS's defaults assume: first stabilities a third as long,
# and slower growth after each recall (w[8]).
TRUE_PARAMETERS = tuple(p / 3 if i < 4 else p * 0.7 if i == 8 else p
                        for i, p in enumerate(DEFAULT_PARAMETERS))


def simulate(db, cards: int, reviews_per_card: int, seed: int = 0) -> None:
    """Review ``cards`` cards as the scheduler asks (a little late), recalling as the true model says."""
    rng = random.Random(seed)
    truth = Scheduler(parameters=TRUE_PARAMETERS, enable_fuzzing=False)
    settings = SchedulerSettings(fuzz=False)
    for n, card_id in enumerate(make_cards(db, cards)):
        memory = FsrsCard(card_id=n, due=START)
        when = START + timedelta(minutes=n)
        for _ in range(reviews_per_card):
            p = truth.get_card_retrievability(memory, when) if memory.last_review else 0.8
            rating = Rating.Good if rng.random() < p else Rating.Again
            memory, _ = truth.review_card(memory, rating, review_datetime=when)
            due = record_review(db, card_id, rating=rating, now=when, settings=settings,
                                duration_ms=rng.randint(2000, 30000)).due
            when = due + timedelta(hours=rng.randint(0, 48))


def test_usable_reviews_are_those_on_a_later_day_than_the_previous(db):
    (card,) = make_cards(db, 1)
    for offset in (timedelta(0), timedelta(minutes=10), timedelta(days=1, minutes=10),
                   timedelta(days=1, hours=1), timedelta(days=5)):
        record_review(db, card, rating=Rating.Good, now=START + offset)
    assert count_usable(review_logs(db)) == 2


def test_optimize_refuses_on_too_few_reviews_and_keeps_the_parameters(db):
    simulate(db, cards=5, reviews_per_card=4)
    report = optimize(db, now=START)
    assert not report.enough and report.new_parameters is None
    assert (report.reviews, report.needed) == (20, MIN_REVIEWS)
    assert report.usable == count_usable(review_logs(db)) < MIN_REVIEWS
    assert load_settings(db).parameters is None


def test_cli_says_how_many_reviews_there_are_and_how_many_are_needed(db, tmp_path):
    simulate(db, cards=3, reviews_per_card=3)
    result = CliRunner().invoke(cli, ["optimize", "--db", str(tmp_path / "atlas.db")])
    assert result.exit_code == 1
    usable = count_usable(review_logs(db))
    assert f"{usable} usable of the {MIN_REVIEWS} needed" in result.output
    assert "9 in the log" in result.output


def test_retention_estimate_prefers_the_parameters_that_made_the_log(db):
    simulate(db, cards=60, reviews_per_card=10)
    logs = review_logs(db)
    true_fit = retention_estimate(logs, TRUE_PARAMETERS)
    default_fit = retention_estimate(logs, DEFAULT_PARAMETERS)
    assert true_fit.reviews == default_fit.reviews == count_usable(logs)
    assert true_fit.log_loss < default_fit.log_loss


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A log of enough reviews, fitted once through the CLI (torch runs here: a few seconds)."""
    path = tmp_path_factory.mktemp("opt") / "atlas.db"
    db = open_db(path)
    simulate(db, cards=45, reviews_per_card=14, seed=2)
    result = CliRunner().invoke(cli, ["optimize", "--db", str(path), "--json"])
    return db, result


def test_optimize_fits_saves_and_improves_the_fit(fitted):
    db, result = fitted
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["enough"] and report["saved"] and report["usable"] >= MIN_REVIEWS
    new = tuple(report["new_parameters"])
    assert len(new) == 21 and new != tuple(DEFAULT_PARAMETERS)
    assert report["new_estimate"]["log_loss"] < report["old_estimate"]["log_loss"]
    assert load_settings(db).parameters == new
    stored = db.conn.execute("SELECT value FROM meta WHERE key = 'scheduler.optimized'").fetchone()
    assert json.loads(stored[0])["new_parameters"] == list(new)


def fsrs_interval(parameters, ratings) -> timedelta:
    """What fsrs itself schedules after ``ratings``, each given when the card falls due."""
    scheduler, card = Scheduler(parameters=parameters, enable_fuzzing=False), FsrsCard(1, due=START)
    when = START
    for rating in ratings:
        card, _ = scheduler.review_card(card, rating, review_datetime=when)
        when, last = card.due, when
    return card.due - last


def test_fitted_parameters_schedule_the_next_reviews(fitted):
    db, _ = fitted
    save_settings(db, load_settings(db).with_changes(fuzz=False))  # exact days; params kept
    (card,) = make_cards(db, 1, deck="fresh")
    ratings = [Rating.Good, Rating.Good, Rating.Good]
    when = START
    for rating in ratings:
        outcome = record_review(db, card, rating=rating, now=when)  # settings read from the db
        when = outcome.due
    assert outcome.interval == fsrs_interval(load_settings(db).parameters, ratings)
    assert outcome.interval != fsrs_interval(DEFAULT_PARAMETERS, ratings)
