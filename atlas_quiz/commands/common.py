"""Options and output helpers shared by the commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..paths import DB_ENV

__all__ = ["console", "db_option", "echo_json", "fail", "json_option", "open_store"]


def db_option(fn):
    """``--db PATH`` (or ``$ATLAS_QUIZ_DB``): the database to use."""
    return click.option(
        "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), envvar=DB_ENV,
        help=f"Database file (default: ${DB_ENV}, else atlas.db in your user data folder).")(fn)


def json_option(fn):
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(fn)


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


def open_store(db_path: Path | None):
    """Open the database, turning a broken file into a clear error."""
    import sqlite3

    from ..store import open_db

    try:
        return open_db(db_path)
    except (sqlite3.DatabaseError, RuntimeError) as exc:
        fail(f"cannot open the database {db_path or '(default)'}: {exc}", 2)
