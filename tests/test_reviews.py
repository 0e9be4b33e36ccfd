"""The review log and card state: what is stored, undo, and atomicity (a kill loses nothing committed)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from test_scheduling import lapse, make_cards

from atlas_quiz.scheduling import (
    Rating,
    ReviewQueue,
    SchedulerSettings,
    bury,
    record_review,
    undo_last_review,
)
from atlas_quiz.store import open_db
from atlas_quiz.store.reviews import get_state

EXACT = SchedulerSettings(fuzz=False)


def rows(db, sql, args=()):
    return db.conn.execute(sql, args).fetchall()


def test_review_row_keeps_answer_verdict_feedback_duration_seed_and_card_hash(db, now):
    (card_id,) = make_cards(db, 1)
    out = record_review(db, card_id, rating=Rating.Again, now=now, answer="x.sum()",
                        verdict="wrong", feedback="expected shape (4, 8), got ()",
                        duration_ms=4200, seed=7, settings=EXACT)
    (row,) = rows(db, "SELECT id, card_id, reviewed_at, rating, answer, verdict, feedback, "
                      "duration_ms, seed, card_hash FROM reviews")
    card_hash = rows(db, "SELECT hash FROM cards WHERE id = ?", [card_id])[0][0]
    assert row == (out.review_id, card_id, "2026-11-23T09:00:00+00:00", 1, "x.sum()", "wrong",
                   "expected shape (4, 8), got ()", 4200, 7, card_hash)


def test_review_of_a_card_object_logs_the_hash_of_the_version_shown(db, now):
    (card_id,) = make_cards(db, 1)
    from atlas_quiz.store import get_card

    shown = get_card(db, card_id).with_changes(prompt="an edited prompt")
    record_review(db, shown, rating=Rating.Good, now=now, settings=EXACT)
    assert rows(db, "SELECT card_hash FROM reviews") == [(shown.content_hash(),)]


def test_state_after_in_the_log_is_the_stored_state(db, now):
    (card_id,) = make_cards(db, 1)
    record_review(db, card_id, rating=Rating.Good, now=now, settings=EXACT)
    (after,) = rows(db, "SELECT state_after FROM reviews")[0]
    assert json.loads(after) == get_state(db, card_id)


def test_undo_of_a_first_review_makes_the_card_new_again(db, now):
    (card_id,) = make_cards(db, 1)
    record_review(db, card_id, rating=Rating.Good, now=now, settings=EXACT)
    assert undo_last_review(db) == card_id
    assert rows(db, "SELECT * FROM card_state") == []
    assert rows(db, "SELECT * FROM reviews") == []
    assert ReviewQueue.build(db, now=now, settings=EXACT).counts() == (1, 0, 0)


def test_undo_restores_the_previous_state_exactly(db, now):
    a, b = make_cards(db, 2)
    record_review(db, a, rating=Rating.Easy, now=now, settings=EXACT)
    bury(db, a, now, EXACT)
    before = rows(db, "SELECT * FROM card_state WHERE card_id = ?", [a])
    record_review(db, a, rating=Rating.Again, now=now + timedelta(days=9), settings=EXACT)
    record_review(db, b, rating=Rating.Good, now=now + timedelta(days=9), settings=EXACT)
    assert undo_last_review(db) == b
    assert undo_last_review(db) == a
    assert rows(db, "SELECT * FROM card_state WHERE card_id = ?", [a]) == before
    assert rows(db, "SELECT count(*) FROM reviews") == [(1,)]


def test_undo_takes_back_a_leech(db, now):
    (card_id,) = make_cards(db, 1)
    lapse(db, card_id, now, 8)
    assert get_state(db, card_id)["suspended"] == 1
    undo_last_review(db)  # the relearning step after the eighth lapse
    assert get_state(db, card_id)["leech"] == 1
    undo_last_review(db)  # the eighth lapse itself
    state = get_state(db, card_id)
    assert (state["leech"], state["suspended"], state["lapses"]) == (0, 0, 7)


def test_undo_with_an_empty_log_does_nothing(db):
    assert undo_last_review(db) is None


def test_queue_undo_shows_the_card_again_first(db, now):
    a, b = make_cards(db, 2)
    queue = ReviewQueue.build(db, now=now, settings=EXACT)
    queue.answer(a, rating=Rating.Easy, now=now)
    assert queue.next().id == b
    assert queue.undo(now) == a
    assert queue.next().id == a and queue.counts() == (2, 0, 0)


def test_a_failed_state_write_leaves_no_review_behind(db, now):
    (card_id,) = make_cards(db, 1)
    db.conn.execute("CREATE TRIGGER fail BEFORE INSERT ON card_state "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        record_review(db, card_id, rating=Rating.Good, now=now, settings=EXACT)
    assert rows(db, "SELECT count(*) FROM reviews") == [(0,)]
    db.conn.execute("DROP TRIGGER fail")
    record_review(db, card_id, rating=Rating.Good, now=now, settings=EXACT)
    assert rows(db, "SELECT count(*) FROM reviews") == [(1,)]


_REVIEWER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta, timezone
    from atlas_quiz.scheduling import Rating, SchedulerSettings, record_review
    from atlas_quiz.store import open_db

    db = open_db(sys.argv[1])
    ids = [r[0] for r in db.conn.execute("SELECT id FROM cards ORDER BY position")]
    now = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    ratings = [Rating.Good, Rating.Again, Rating.Easy, Rating.Hard]
    for i in range(10**9):
        record_review(db, ids[i % len(ids)], rating=ratings[i % 4], now=now,
                      answer="a" * 200, settings=SchedulerSettings(fuzz=False))
        now += timedelta(minutes=7)
        print(i, flush=True)
""")


def assert_log_and_state_agree(db):
    """Every card's state is its last review's state_after, and each review chains to the last."""
    last: dict[str, str | None] = {}
    for card_id, before, after in rows(db, "SELECT card_id, state_before, state_after "
                                           "FROM reviews ORDER BY id"):
        assert (json.loads(before) if before else None) == (
            json.loads(last[card_id]) if last.get(card_id) else None)
        last[card_id] = after
    for card_id, after in last.items():
        assert get_state(db, card_id) == json.loads(after)
    states = {r[0] for r in rows(db, "SELECT card_id FROM card_state")}
    assert states == set(last)


@pytest.mark.parametrize("reviews_before_kill", [3, 40])
def test_killing_the_process_mid_session_leaves_log_and_state_in_agreement(
        tmp_path, reviews_before_kill):
    path = tmp_path / "atlas.db"
    db = open_db(path)
    make_cards(db, 5)
    db.conn.close()
    proc = subprocess.Popen([sys.executable, "-c", _REVIEWER, str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(reviews_before_kill):
            assert proc.stdout.readline(), "the reviewing process died on its own"
        proc.send_signal(signal.SIGKILL)  # no cleanup, no commit: like a closed terminal
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    db = open_db(path)
    count = rows(db, "SELECT count(*) FROM reviews")[0][0]
    assert count >= reviews_before_kill
    assert_log_and_state_agree(db)
