"""The store: migrations, WAL, and idempotent deck builds that keep history and retire cards."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import timedelta

import pytest

from atlas_quiz.cards import Card, Deck
from atlas_quiz.store import (
    MIGRATIONS,
    build_decks,
    card_stats,
    get_card,
    list_cards,
    list_decks,
    open_db,
    schema_version,
)


def card(card_id: str, prompt: str = "p", **kw) -> Card:
    fields = {"kind": "recall", "title": card_id, "title_zh": "卡", "source": "000 §1.1",
              "answer": "a", "deck": "d1", **kw}
    return Card(id=card_id, prompt=prompt, **fields)


def deck(*cards: Card, key: str = "d1") -> Deck:
    return Deck(key=key, name=key.upper(), cards=tuple(c.with_changes(deck=key) for c in cards))


def test_new_database_is_migrated_and_in_wal_mode(tmp_path):
    db = open_db(tmp_path / "sub" / "atlas.db")
    assert schema_version(db) == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"cards", "decks", "reviews", "card_state", "meta"} <= set(db.table_names())


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "atlas.db"
    open_db(path)
    db = open_db(path)
    assert schema_version(db) == len(MIGRATIONS)


def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "atlas.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this atlas-quiz"):
        open_db(path)


def test_build_is_idempotent(db, now):
    d = deck(card("a.one"), card("a.two"))
    first = build_decks(db, [d], origin="o", now=now)
    second = build_decks(db, [d], origin="o", now=now + timedelta(days=1))
    assert first.added == ["a.one", "a.two"] and not first.updated
    assert second.unchanged == ["a.one", "a.two"] and not (second.added or second.updated)
    assert [c.id for c in list_cards(db)] == ["a.one", "a.two"]


def test_edited_card_keeps_its_row_and_history_but_changes_hash(db, now):
    build_decks(db, [deck(card("a.one"))], origin="o", now=now)
    db["reviews"].insert({"card_id": "a.one", "reviewed_at": now.isoformat(), "rating": 3})
    old_hash = db["cards"].get("a.one")["hash"]
    report = build_decks(db, [deck(card("a.one", prompt="clearer"))], origin="o", now=now)
    row = db["cards"].get("a.one")
    assert report.updated == ["a.one"] and row["hash"] != old_hash
    assert row["added_at"] == now.isoformat(timespec="seconds")
    assert get_card(db, "a.one").prompt == "clearer"
    assert db["reviews"].count == 1


def test_removed_card_is_retired_not_deleted_and_comes_back(db, now):
    build_decks(db, [deck(card("a.one"), card("a.two"))], origin="o", now=now)
    report = build_decks(db, [deck(card("a.one"))], origin="o", now=now)
    assert report.retired == ["a.two"]
    assert [c.id for c in list_cards(db)] == ["a.one"]
    assert [c.id for c in list_cards(db, include_retired=True)] == ["a.one", "a.two"]
    back = build_decks(db, [deck(card("a.one"), card("a.two"))], origin="o", now=now)
    assert back.restored == ["a.two"] and len(list_cards(db)) == 2


def test_building_another_origin_retires_nothing_of_the_first(db, now):
    build_decks(db, [deck(card("a.one"))], origin="builtin", now=now)
    report = build_decks(db, [deck(card("b.one"), key="mine")], origin="/home/me/decks", now=now)
    assert not report.retired and len(list_cards(db)) == 2


def test_list_cards_filters_by_deck_name_and_tag(db, now):
    build_decks(db, [deck(card("a.one", tags=("x",))), deck(card("b.one"), key="other")],
                origin="o", now=now)
    assert [c.id for c in list_cards(db, decks=["OTHER"])] == ["b.one"]
    assert [c.id for c in list_cards(db, tags=["x"])] == ["a.one"]
    with pytest.raises(LookupError, match="no deck named 'nope'"):
        list_cards(db, decks=["nope"])
    assert [(d["key"], d["cards"]) for d in list_decks(db)] == [("d1", 1), ("other", 1)]


def test_stored_card_data_is_the_full_card(db, now):
    c = card("a.one", tags=("t",), explain="why")
    build_decks(db, [deck(c)], origin="o", now=now)
    assert Card.from_dict(json.loads(db["cards"].get("a.one")["data"])) == c.with_changes(deck="d1")


def test_stats_count_by_kind_seed_and_chapter():
    cards = [card("a.one"), card("a.two", source="002 §3"),
             card("a.three").with_changes(kind="shape", code="x", params={"B": (1, 2)})]
    stats = card_stats(cards, retired=4)
    assert stats["total"] == 3 and stats["retired"] == 4
    assert stats["by_kind"] == {"recall": 2, "shape": 1}
    assert stats["by_seed"] == {"000": 2, "002": 1}
    assert stats["by_chapter"] == {"000 §1": 2, "002 §3": 1}
    assert stats["parametric_shape"] == 1


def test_a_card_id_taken_by_another_source_is_refused_and_nothing_is_written(db, now):
    from atlas_quiz.store import IdCollision

    build_decks(db, [deck(card("a.one"))], origin="builtin", now=now)
    with pytest.raises(IdCollision, match="a.one"):
        build_decks(db, [deck(card("b.new"), card("a.one"), key="mine")], origin="/home/me", now=now)
    assert [c.id for c in list_cards(db)] == ["a.one"] and get_card(db, "a.one").deck == "d1"


def test_a_migration_that_fails_halfway_leaves_nothing_behind(tmp_path, monkeypatch):
    from atlas_quiz.store import migrations

    def broken(db):
        db["extra"].create({"id": int}, pk="id")
        raise RuntimeError("killed halfway")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="halfway"):
        open_db(tmp_path / "atlas.db")
    conn = sqlite3.connect(tmp_path / "atlas.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations.MIGRATIONS) - 1
    assert "extra" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}


# --- your own deck files: each file is its own origin ---------------------------------------------

def file_deck(folder, key: str, *cards: Card) -> Deck:
    """A deck as the loader makes it from ``folder/key.toml`` (only its path matters here)."""
    return dataclasses.replace(deck(*cards, key=key), path=str(folder / f"{key}.toml"))


def test_a_file_built_alone_then_with_others_or_by_its_folder_keeps_its_cards(db, now, tmp_path):
    a, b = file_deck(tmp_path, "a", card("a.one")), file_deck(tmp_path, "b", card("b.one"))
    build_decks(db, [a], scope=[tmp_path / "a.toml"], now=now)
    both = build_decks(db, [a, b], scope=[tmp_path / "a.toml", tmp_path / "b.toml"], now=now)
    folder = build_decks(db, [a, b], scope=[tmp_path], now=now)
    assert (both.unchanged, both.added, folder.unchanged) == (["a.one"], ["b.one"], ["a.one", "b.one"])
    alone = build_decks(db, [a], scope=[tmp_path / "a.toml"], now=now)  # b.toml was not given: kept
    assert not alone.retired and {c.id for c in list_cards(db)} == {"a.one", "b.one"}
    gone = build_decks(db, [a], scope=[tmp_path], now=now)  # the folder no longer has b.toml
    assert gone.retired == ["b.one"]


def test_a_card_moved_between_files_of_one_build_keeps_its_history(db, now, tmp_path):
    build_decks(db, [file_deck(tmp_path, "a", card("x.one"))], scope=[tmp_path], now=now)
    report = build_decks(db, [file_deck(tmp_path, "a"), file_deck(tmp_path, "b", card("x.one"))],
                         scope=[tmp_path], now=now)
    assert (report.added, report.updated, report.retired) == ([], ["x.one"], [])  # the same row
    assert get_card(db, "x.one").deck == "b" and db["cards"].get("x.one")["deck"] == "b"


def test_your_decks_come_after_the_built_in_ones_whichever_is_built_first(db, now, tmp_path):
    build_decks(db, [file_deck(tmp_path, "mine", card("m.one"), card("m.two"))], scope=[tmp_path], now=now)
    build_decks(db, [deck(card("a.one"), card("a.two"), key="000_01")], origin="builtin", now=now)
    assert [c.id for c in list_cards(db)] == ["a.one", "a.two", "m.one", "m.two"]


def test_a_deck_key_the_built_in_decks_use_is_refused(db, now, tmp_path):
    from atlas_quiz.store import IdCollision

    build_decks(db, [deck(card("a.one"), key="000_01")], origin="builtin", now=now)
    with pytest.raises(IdCollision, match="deck '000_01'"):
        build_decks(db, [file_deck(tmp_path, "000_01", card("m.one"))], scope=[tmp_path], now=now)
    assert [c.id for c in list_cards(db)] == ["a.one"]
