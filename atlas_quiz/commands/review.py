"""``atlas-quiz review`` (today's cards in the terminal) and ``atlas-quiz serve`` (the same in a browser)."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click

from .common import db_option, fail, open_store, sync_builtin_decks, unknown_tags

__all__ = ["review", "serve"]



def _keep_light() -> None:
    """Import sqlite-utils without pandas and numpy, which it loads when installed (~0.2 s).

    It only uses them to map their scalar types to column types; the review
    app never stores such values. Both stay importable for anything else.
    """
    blocked = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail fast
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        for name in blocked:
            del sys.modules[name]


def _first_card_marker(path: Path | None, app_ref: list):
    """For the startup benchmark: write the wall time the first card was drawn, then exit."""
    if path is None:
        return None

    def mark() -> None:
        """Stamp the time and leave: the benchmark measures start-up only."""
        path.write_text(repr(time.time()))
        app_ref[0].exit()

    return mark


@click.command()
@click.option("--deck", "decks", multiple=True, help="Only cards of this deck (key or name); repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only cards with this tag; repeatable.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where answers are graded.")
@click.option("--seed", type=int, default=None, help="Seed of the per-review draws (for a reproducible session).")
@click.option("--first-card-mark", type=click.Path(dir_okay=False, path_type=Path), hidden=True,
              help="Benchmark: write the time the first card is on screen to this file, then exit.")
@db_option
def review(decks: tuple[str, ...], tags: tuple[str, ...], device: str, seed: int | None,
           first_card_mark: Path | None, db_path: Path | None) -> None:
    """Review today's due cards in the terminal; answers are graded as you go.

    The grader (and torch) starts in the background: the first card is on
    screen at once, and an answer given before the grader is ready waits for it.
    Every review is saved the moment it is rated.

    \b
    Example:
        atlas-quiz review
        atlas-quiz review --deck 000_15 --tag attention
        atlas-quiz review --db /tmp/try.db
    """
    _keep_light()
    from ..grading.client import GradingClient

    db = open_store(db_path)
    sync_builtin_decks(db)
    problem = unknown_tags(db, list(tags)) if tags else None
    if problem:
        fail(problem, 2)
    client = GradingClient(device)
    client.start()  # torch starts loading now, in the service, while the UI builds
    try:
        from ..ui.app import ReviewApp
        from ..ui.session import ReviewSession

        try:
            session = ReviewSession(db, decks=list(decks) or None, tags=list(tags) or None, seed=seed)
        except LookupError as exc:
            fail(str(exc.args[0]), 2)
        app_ref: list = []
        app = ReviewApp(session, client, on_first_card=_first_card_marker(first_card_mark, app_ref))
        app_ref.append(app)
        app.run()
    finally:
        client.close()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (localhost only unless you say otherwise).")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--deck", "decks", multiple=True, help="Only cards of this deck; repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only cards with this tag; repeatable.")
@db_option
def serve(host: str, port: int, decks: tuple[str, ...], tags: tuple[str, ...],
          db_path: Path | None) -> None:
    """Serve the review app to a browser (textual-serve): one review session per open page.

    There is no login: anyone who can reach the address can review with your
    database. Keep the default host unless you know the network.

    \b
    Example:
        atlas-quiz serve                    # then open http://127.0.0.1:8000
        atlas-quiz serve --port 8080 --db /tmp/try.db
    """
    if tags:  # fail here, not once per opened page
        db = open_store(db_path)
        sync_builtin_decks(db)
        problem = unknown_tags(db, list(tags))
        if problem:
            fail(problem, 2)
    from textual_serve.server import Server

    args = [sys.executable, "-m", "atlas_quiz", "review"]
    for d in decks:
        args += ["--deck", d]
    for t in tags:
        args += ["--tag", t]
    if db_path:
        args += ["--db", str(Path(db_path).resolve())]
    click.echo(f"Serving atlas-quiz review on http://{host}:{port} (ctrl+c stops)")
    Server(shlex.join(args), host=host, port=port, title="atlas-quiz").serve()
