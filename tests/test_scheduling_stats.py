"""Stats data on a synthetic log: reviews per day, due forecast, true retention, states, mastery."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from test_scheduling import make_cards

from atlas_quiz.scheduling import (
    ChapterMastery,
    DayCount,
    Rating,
    Retention,
    SchedulerSettings,
    cards_by_state,
    collect_stats,
    due_forecast,
    mastery_by_chapter,
    record_review,
    reviews_per_day,
    suspend,
    true_retention,
)

EXACT = SchedulerSettings(fuzz=False)
DAY = timedelta(days=1)


def review(db, card_id, rating, when):
    """Record one review with exact intervals; return when the card falls due."""
    return record_review(db, card_id, rating=rating, now=when, settings=EXACT).due


def test_reviews_per_day_counts_each_learner_day_and_fills_gaps(db, now):
    ids = make_cards(db, 5)
    review(db, ids[0], Rating.Good, now)                                    # today
    review(db, ids[1], Rating.Good, now - DAY)                              # yesterday
    review(db, ids[2], Rating.Good, datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc))
    review(db, ids[3], Rating.Good, now - 400 * DAY)                        # out of the window
    days = reviews_per_day(db, now=now, settings=EXACT)
    assert len(days) == 365
    assert days[0].day == date(2025, 11, 24) and days[-1] == DayCount(date(2026, 11, 23), 1)
    # 3 am is before the 4 am rollover: it still belongs to the 22nd.
    assert days[-2] == DayCount(date(2026, 11, 22), 2)
    assert sum(d.count for d in days) == 3


def test_reviews_per_day_follows_the_learners_timezone(db):
    (card,) = make_cards(db, 1)
    review(db, card, Rating.Good, datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc))
    new_york = datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
    days = reviews_per_day(db, now=new_york, days=2, settings=EXACT)
    # 07:00 UTC is 2 am in New York: before the rollover, so the learner's 22nd.
    assert days == [DayCount(date(2026, 11, 22), 1), DayCount(date(2026, 11, 23), 0)]


def test_due_forecast_folds_overdue_into_today_and_skips_suspended_and_new(db, now):
    overdue, later, learning, suspended, _new = make_cards(db, 5)
    review(db, overdue, Rating.Easy, now - 10 * DAY)      # due two days ago
    review(db, later, Rating.Easy, now)                   # due in 8 days
    review(db, learning, Rating.Again, now)               # due in a minute
    review(db, suspended, Rating.Easy, now - DAY)
    suspend(db, suspended)
    forecast = due_forecast(db, now=now, settings=EXACT)
    assert len(forecast) == 30 and forecast[0].day == date(2026, 11, 23)
    assert {i: d.count for i, d in enumerate(forecast) if d.count} == {0: 2, 8: 1}


def test_true_retention_counts_only_review_state_answers_in_the_window(db, now):
    a, b = make_cards(db, 2)
    due = review(db, a, Rating.Easy, now - 20 * DAY)      # learning answer: not counted
    due = review(db, a, Rating.Good, due)                 # review state, passed, 12 days ago
    review(db, a, Rating.Again, now - DAY)                # review state, failed, yesterday
    due = review(db, b, Rating.Easy, now - 100 * DAY)
    review(db, b, Rating.Good, due)                       # passed, 92 days ago
    assert true_retention(db, now=now, days=30, settings=EXACT) == Retention(1, 2)
    assert true_retention(db, now=now, days=365, settings=EXACT) == Retention(2, 3)
    assert true_retention(db, now=now, days=1, settings=EXACT).rate is None
    assert Retention(2, 3).rate == 2 / 3


def test_cards_by_state_puts_suspended_cards_apart(db, now):
    new, learning, rev, relearning, suspended = make_cards(db, 5)
    review(db, learning, Rating.Good, now)
    review(db, rev, Rating.Easy, now)
    review(db, relearning, Rating.Again, review(db, relearning, Rating.Easy, now - 9 * DAY))
    review(db, suspended, Rating.Easy, now)
    suspend(db, suspended)
    assert cards_by_state(db) == {"new": 1, "learning": 1, "review": 1, "relearning": 1,
                                  "suspended": 1}


def test_mastery_is_the_share_of_a_chapters_cards_stable_for_three_weeks(db, now):
    ids = make_cards(db, 3, chapter_of=lambda i: "000 §1.2" if i < 2 else "000 §2")
    for card_id, goods in ((ids[0], 4), (ids[1], 3)):
        when = now - 200 * DAY
        for _ in range(goods):  # reference schedule: stability ~2, ~11, ~46 days after 2, 3, 4
            when = review(db, card_id, Rating.Good, when)
    assert mastery_by_chapter(db) == [ChapterMastery("000 §1", 2, 1), ChapterMastery("000 §2", 1, 0)]
    assert mastery_by_chapter(db)[0].share == 0.5


def test_collect_stats_gathers_every_panel(db, now):
    (card,) = make_cards(db, 1)
    review(db, card, Rating.Good, now)
    stats = collect_stats(db, now=now, settings=EXACT)
    assert stats.reviews_per_day[-1].count == 1
    assert set(stats.retention) == {"1d", "7d", "30d", "365d"}
    assert stats.cards_by_state["learning"] == 1
    assert stats.mastery == [ChapterMastery("000 §1", 1, 0)]
