"""Options and output helpers shared by the commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..paths import DB_ENV

__all__ = ["console", "db_option", "echo_json", "fail", "json_option", "open_store", "sync_builtin_decks",
           "unknown_tags"]


def db_option(fn):
    """``--db PATH`` (or ``$ATLAS_QUIZ_DB``): the database to use."""
    return click.option(
        "--db", "db_path", type=click.Path(path_type=Path), envvar=DB_ENV,
        help=f"Database file (default: ${DB_ENV}, else atlas.db in your user data folder).")(fn)


def json_option(fn):
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(fn)


def console(stderr: bool = False):
    """A rich console (imported lazily: rich costs start-up time)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def echo_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=None, sort_keys=False))


def fail(message: str, code: int = 1) -> None:
    """Print an error on stderr and exit with ``code``."""
    console(stderr=True).print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    sys.exit(code)


def open_store(db_path: Path | None, *, create: bool = True):
    """Open the database, turning a missing or broken file into a clear error.

    Commands that only read (``deck list``, ``deck stats``) pass ``create=False``:
    they must not leave an empty database behind a typo.
    """
    import sqlite3

    from ..paths import default_db_path
    from ..store import open_db

    path = Path(db_path) if db_path else default_db_path()
    source = "--db or $" + DB_ENV if db_path else "the default location"
    if path.is_dir():
        fail(f"the database path {path} (from {source}) is a folder; give a file such as "
             f"{path / 'atlas.db'}", 2)
    if not create and not path.exists():
        fail(f"no database at {path} (from {source}); build one with `atlas-quiz deck build`", 2)
    try:
        return open_db(path)
    except (sqlite3.DatabaseError, RuntimeError, OSError) as exc:
        fail(f"cannot open the database {path} (from {source}): {exc}", 2)


def sync_builtin_decks(db, decks_dir: Path | None = None) -> bool:
    """Bring the built-in decks in ``db`` up to date; a broken deck file is reported and skipped
    (the review goes on with the cards already in the database). Return whether it built."""
    from ..cards import DeckError
    from ..paths import builtin_decks_dir
    from ..store import sync_builtin_decks as sync

    try:
        return sync(db, decks_dir or builtin_decks_dir())
    except DeckError as exc:
        click.echo(f"warning: the built-in decks were not updated:\n{exc}", err=True)
        return False


def unknown_tags(db, tags: list[str]) -> str | None:
    """Why ``tags`` select nothing, naming the tags that exist (briefly), or None if all exist.

    A tag no card has would open an empty session without a word; ``--deck``
    already fails the same way. Tags are matched exactly, as the queue matches them.
    """
    from ..store.reviews import LEECH_TAG

    counts = dict(db.conn.execute(
        "SELECT j.value, COUNT(*) FROM cards c, json_each(c.tags) j WHERE c.retired_at IS NULL "
        "GROUP BY j.value"))
    missing = [t for t in tags if t not in counts and t != LEECH_TAG]
    if not missing:
        return None
    import difflib

    near = sorted({m for t in missing for m in difflib.get_close_matches(t, counts, n=3)})
    common = sorted(counts, key=lambda t: (-counts[t], t))[:12]
    shown = near or common
    hint = "did you mean" if near else "most used"
    more = len(counts) - len(shown)
    return (f"no card has the tag {', '.join(map(repr, missing))}; {hint}: {', '.join(shown)}"
            + (f" (and {more} more: atlas-quiz deck list --cards)" if more > 0 else ""))
