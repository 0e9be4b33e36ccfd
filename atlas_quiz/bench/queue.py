"""``python -m atlas_quiz.bench queue``: the cost of the review queue, a review, and the stats.

A synthetic database of ``--cards`` cards (a quarter new, the rest spread over
learning, review and suspended) and a year of review log. Baseline, same run:
``store.list_cards`` over the same database, the naive queue (parse every card,
then filter in Python), which the review app must beat to show its first card
quickly.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..scheduling import ReviewQueue

__all__ = ["answer_and_undo", "main"]

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def _fill(db, n_cards: int, n_reviews: int) -> None:
    """Cards in one deck, and a review history that leaves them in every state."""
    from ..cards import Card, Deck
    from ..scheduling import Rating, SchedulerSettings, record_review, suspend
    from ..store import build_decks

    rng = random.Random(0)
    cards = tuple(Card(id=f"bench.c{i:04d}", kind="expr", title=f"card {i}", title_zh="卡",
                       source=f"000 §{i % 21 + 1}.1", prompt="Write it.", deck="bench",
                       inputs={"x": "randn(B, d)"}, reference="x.softmax(-1)",
                       tags=("bench", f"t{i % 7}")) for i in range(n_cards))
    build_decks(db, [Deck(key="bench", name="bench", cards=cards)], origin="bench")
    started = [c.id for c in cards[n_cards // 4:]]
    settings = SchedulerSettings()
    per_card = max(1, n_reviews // max(1, len(started)))
    for card_id in started:
        when = NOW - timedelta(days=rng.randint(30, 365))
        for _ in range(per_card):
            if when >= NOW:
                break
            rating = rng.choice([Rating.Again, Rating.Good, Rating.Good, Rating.Good, Rating.Easy])
            when = record_review(db, card_id, rating=rating, now=when, settings=settings,
                                 answer="x.softmax(-1)", verdict="correct").due
    for card_id in started[::10]:
        suspend(db, card_id)


def answer_and_undo(queue: ReviewQueue) -> None:
    """What the app does on a rating then ``u``: record through the queue, undo through it.

    Both go through the queue, so it refreshes each time and the next call
    answers the same card from the same state (undoing in the database alone
    would leave the queue stale, and time less than the app does).
    """
    from ..scheduling import Rating

    card = queue.next()
    queue.answer(card, rating=Rating.Good, now=NOW, answer="x", verdict="correct")
    queue.undo(NOW)


def _time(fn, repeat: int) -> tuple[float, float]:
    """(best, median) seconds of ``repeat`` calls."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return min(runs), statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    """Print the table, then one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m atlas_quiz.bench queue")
    parser.add_argument("--cards", type=int, default=400)
    parser.add_argument("--reviews", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)

    from ..scheduling import ReviewQueue, collect_stats
    from ..store import list_cards, open_db

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "atlas.db")
        _fill(db, args.cards, args.reviews)
        log = db.conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
        queue = ReviewQueue.build(db, now=NOW)

        def first_card():
            ReviewQueue.build(db, now=NOW).next()

        def naive():
            [c for c in list_cards(db) if c.kind]

        rows = [
            ("queue build + first card (ours)", *_time(first_card, args.repeat)),
            ("list_cards, every card parsed (baseline)", *_time(naive, args.repeat)),
            ("record a review + refresh, then undo", *_time(lambda: answer_and_undo(queue),
                                                            args.repeat)),
            ("collect_stats (year of log)", *_time(lambda: collect_stats(db, now=NOW), 5)),
        ]
        counts = queue.counts()
    print(f"{args.cards} cards, {log} reviews in the log; queue counts (new, learning, review) = "
          f"{counts}\n")
    print(f"{'what':44} {'best ms':>9} {'median ms':>10}")
    for name, best, med in rows:
        print(f"{name:44} {best * 1e3:9.2f} {med * 1e3:10.2f}")
    keys = ("build_first_card", "baseline_list_cards", "review_refresh_undo", "stats")
    print(json.dumps({"benchmark": "queue", "cards": args.cards, "reviews": log,
                      **{f"{k}_ms": round(r[2] * 1e3, 3) for k, r in zip(keys, rows, strict=True)},
                      "build_first_card_best_ms": round(rows[0][1] * 1e3, 3)}))
    return 0
