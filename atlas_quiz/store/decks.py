"""Compiling decks into the database, and reading cards back."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from ..cards import Card, Deck
from .db import transaction

__all__ = ["BUILTIN_HASH_KEY", "BuildReport", "IdCollision", "build_decks", "card_stats", "get_card",
           "list_cards", "list_decks", "sync_builtin_decks"]


class IdCollision(ValueError):
    """Cards of these ids come from another source already in the database; nothing was written."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__("card ids already used by another source: " + "; ".join(ids))
        self.ids = ids


@dataclass
class BuildReport:
    """What a build changed, card ids by outcome."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, int]:
        """The counts, for ``--json`` output."""
        return {k: len(v) for k, v in asdict(self).items()}


def iso(now: datetime) -> str:
    """A moment as ISO 8601 text in UTC, to the second (how the database stores times)."""
    return now.astimezone(timezone.utc).isoformat(timespec="seconds")


def build_decks(db: sqlite_utils.Database, decks: list[Deck], *, origin: str | None = None,
                scope: list[Path] | tuple[Path, ...] = (), now: datetime | None = None) -> BuildReport:
    """Write ``decks`` into ``db`` in one transaction, idempotently.

    A card keeps its row (and so its history) across edits and moves between the
    decks this build covers; only its hash and data change. Cards that came from
    what this build covers but are gone now are retired, never deleted, so their
    reviews stay meaningful. What a build covers is its ``origin`` label (every
    deck of the built-in folder is ``builtin``), or, with ``origin=None``, the
    deck files and folders in ``scope``: then each deck file is its own origin,
    so building ``a.toml`` and later ``a.toml b.toml`` or their folder are the
    same cards. A card or deck key from anything else is an :class:`IdCollision`.
    """
    stamp = iso(now or datetime.now(timezone.utc))
    origin_of, covers = _coverage(origin, scope)
    existing = {row["id"]: row for row in db["cards"].rows}
    known = {r["key"]: r for r in db["decks"].rows}
    _refuse_collisions(decks, existing, known, origin_of, covers)
    report = BuildReport()
    seen: set[str] = set()
    with transaction(db):
        for d_pos, deck in enumerate(decks):
            position = _deck_position(deck, d_pos, origin, known)
            db["decks"].upsert({"key": deck.key, "name": deck.name, "name_zh": deck.name_zh,
                                "path": deck.path, "origin": origin_of(deck), "position": position}, pk="key")
            known[deck.key] = {"origin": origin_of(deck), "position": position}
            for c_pos, card in enumerate(deck.cards):
                seen.add(card.id)
                _write_card(db, _row(card, position * 10_000 + c_pos), existing.get(card.id), stamp, report)
        covered = {key for key, r in known.items() if covers(r["origin"])}
        for card_id, old in existing.items():
            if card_id not in seen and not old["retired_at"] and old["deck"] in covered:
                db["cards"].update(card_id, {"retired_at": stamp, "updated_at": stamp})
                report.retired.append(card_id)
    return report


_OWN_DECKS_FROM = 1_000  # deck positions: the built-in decks first, in file order; yours after them


def _coverage(origin: str | None, scope) -> tuple:
    """``(origin_of(deck), covers(origin))`` for a build with a label or with a scope of paths."""
    if origin is not None:
        return (lambda deck: origin), (lambda o: o == origin)
    roots = [str(Path(p).resolve()) for p in scope]
    return ((lambda deck: str(Path(deck.path).resolve())),
            (lambda o: any(o == r or o.startswith(r.rstrip("/") + "/") for r in roots)))


def _refuse_collisions(decks: list[Deck], existing: dict, known: dict, origin_of, covers) -> None:
    """Raise :class:`IdCollision` for a card id or deck key that comes from outside this build."""
    def foreign(deck_key: str, deck: Deck) -> str | None:
        old = known.get(deck_key)
        if old is None or old["origin"] == origin_of(deck) or covers(old["origin"]):
            return None
        return old["origin"]

    taken = [f"deck {d.key!r} (already from {src})" for d in decks if (src := foreign(d.key, d))]
    taken += [f"{c.id} (already in deck {existing[c.id]['deck']!r} from {src})"
              for d in decks for c in d.cards
              if c.id in existing and (src := foreign(existing[c.id]["deck"], d))]
    if taken:  # another source's card would lose its history to this one
        raise IdCollision(sorted(taken))


def _deck_position(deck: Deck, d_pos: int, origin: str | None, known: dict) -> int:
    """Built-in decks keep their file order; another deck keeps its place, or goes after all others."""
    if origin == "builtin":
        return d_pos
    if deck.key in known:
        return known[deck.key]["position"]
    return max([_OWN_DECKS_FROM - 1, *(r["position"] for r in known.values())]) + 1


def _write_card(db: sqlite_utils.Database, row: dict, old: dict | None, stamp: str,
                report: BuildReport) -> None:
    """Insert a new card, or update one whose content, place or retirement changed."""
    if old is None:
        db["cards"].insert({**row, "added_at": stamp, "updated_at": stamp, "retired_at": None}, pk="id")
        report.added.append(row["id"])
        return
    if old["retired_at"]:
        report.restored.append(row["id"])
    elif old["hash"] != row["hash"]:
        report.updated.append(row["id"])
    else:
        report.unchanged.append(row["id"])
    if old["hash"] != row["hash"] or old["retired_at"] or old["position"] != row["position"]:
        db["cards"].update(row["id"], {**row, "updated_at": stamp, "retired_at": None})


def _row(card: Card, position: int) -> dict:
    return {
        "id": card.id, "deck": card.deck, "kind": card.kind, "title": card.title,
        "title_zh": card.title_zh, "source": card.source, "chapter": card.chapter,
        "tags": json.dumps(list(card.tags)), "position": position, "hash": card.content_hash(),
        "data": json.dumps(card.to_dict(), ensure_ascii=False),
    }


def list_cards(db: sqlite_utils.Database, *, decks: list[str] | None = None,
               tags: list[str] | None = None, include_retired: bool = False) -> list[Card]:
    """Cards in deck order, optionally only some decks (key or name) or tags."""
    where = [] if include_retired else ["retired_at IS NULL"]
    args: list[str] = []
    if decks:
        keys = deck_keys(db, decks)
        where.append(f"deck IN ({', '.join('?' * len(keys))})")
        args.extend(keys)
    sql = " AND ".join(where) or None
    cards = [Card.from_dict(json.loads(r["data"]))
             for r in db["cards"].rows_where(sql, args, order_by="position")]
    if tags:
        wanted = set(tags)
        cards = [c for c in cards if wanted & set(c.tags)]
    return cards


def deck_keys(db: sqlite_utils.Database, names: list[str]) -> list[str]:
    """Deck keys matching names given as key, key prefix or display name (case-insensitive)."""
    rows = list(db["decks"].rows)
    keys: list[str] = []
    for name in names:
        low = name.lower()
        hits = [r["key"] for r in rows if r["key"].lower() == low or r["name"].lower() == low]
        hits = hits or [r["key"] for r in rows if r["key"].lower().startswith(low)]
        if not hits:
            known = ", ".join(r["key"] for r in rows) or "none (run `atlas-quiz deck build`)"
            raise LookupError(f"no deck named {name!r}; decks: {known}")
        keys.extend(hits)
    return keys


def get_card(db: sqlite_utils.Database, card_id: str) -> Card:
    """One card by id (retired cards included); ``KeyError`` names the id when absent."""
    rows = list(db["cards"].rows_where("id = ?", [card_id]))
    if not rows:
        raise KeyError(card_id)
    return Card.from_dict(json.loads(rows[0]["data"]))


def list_decks(db: sqlite_utils.Database) -> list[dict]:
    """Decks with their card counts (live cards only)."""
    counts = Counter(r["deck"] for r in db["cards"].rows_where("retired_at IS NULL", select="deck"))
    return [{**r, "cards": counts.get(r["key"], 0)}
            for r in db["decks"].rows_where(order_by="position")]


def card_stats(cards: list[Card], retired: int = 0) -> dict:
    """Counts by kind, by seed file, by chapter and by deck, plus what proves the cards."""
    kinds = Counter(c.kind for c in cards)
    return {
        "total": len(cards),
        "retired": retired,
        "by_kind": dict(sorted(kinds.items())),
        "by_seed": dict(sorted(Counter(c.seed_file or "-" for c in cards).items())),
        "by_chapter": dict(sorted(Counter(c.chapter or "-" for c in cards).items(), key=_chapter_key)),
        "by_deck": dict(Counter(c.deck for c in cards)),
        "parametric": sum(1 for c in cards if c.params),
        "parametric_shape": sum(1 for c in cards if c.params and c.kind == "shape"),
        "with_accept": sum(1 for c in cards if c.accept),
        "with_reject": sum(1 for c in cards if c.reject),
        "rejects_with_why": sum(1 for c in cards for r in c.reject if r.why),
    }


def _chapter_key(item: tuple[str, int]) -> tuple:
    seed, _, sec = item[0].partition(" §")
    return (seed, int(sec) if sec.isdigit() else 10_000, sec)


BUILTIN_HASH_KEY = "builtin_decks.hash"


def sync_builtin_decks(db: sqlite_utils.Database, folder: Path) -> bool:
    """Rebuild the decks of ``folder`` (origin ``builtin``) when their files changed; True if built.

    Hashing a few dozen small files costs well under a millisecond, so this can
    run before every review or export; ``build_decks`` keeps ids and history
    either way. Raises :class:`~atlas_quiz.cards.DeckError` for a broken deck.
    """
    from ..cards import deck_files, load_decks
    from .meta import get_meta, set_meta

    digest = hashlib.sha256()
    for path in deck_files([folder]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    if get_meta(db, BUILTIN_HASH_KEY) == digest.hexdigest():
        return False
    build_decks(db, load_decks([folder]), origin="builtin")
    set_meta(db, BUILTIN_HASH_KEY, digest.hexdigest())
    return True
