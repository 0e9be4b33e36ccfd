"""The SQLite store: decks compiled into cards, reviews, scheduling state. Never imports torch."""

from .db import open_db, transaction
from .decks import (
    BUILTIN_HASH_KEY,
    BuildReport,
    IdCollision,
    build_decks,
    card_stats,
    get_card,
    list_cards,
    list_decks,
    sync_builtin_decks,
)
from .meta import get_meta, set_meta
from .migrations import MIGRATIONS, migrate, schema_version

__all__ = [
    "BUILTIN_HASH_KEY",
    "MIGRATIONS",
    "BuildReport",
    "IdCollision",
    "build_decks",
    "card_stats",
    "get_card",
    "get_meta",
    "list_cards",
    "list_decks",
    "migrate",
    "open_db",
    "schema_version",
    "set_meta",
    "sync_builtin_decks",
    "transaction",
]
