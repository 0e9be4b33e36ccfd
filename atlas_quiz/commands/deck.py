"""``atlas-quiz deck``: build, list, count and prove decks."""

from __future__ import annotations

from pathlib import Path

import click

from .common import console, db_option, echo_json, fail, json_option, open_store, unknown_tags

__all__ = ["deck"]


@click.group()
def deck() -> None:
    """Build decks into the database, list them, count them, prove them.

    \b
    Example:
        atlas-quiz deck build
        atlas-quiz deck stats --json
        atlas-quiz deck check decks/my_deck.toml
    """


def _load(paths: tuple[Path, ...], writing: bool = True):
    """Load decks from paths (default: the built-in decks); exit 1 listing every problem.

    Your own decks are loaded after the built-in ones, so an id a built-in card
    already has is a duplicate at its line here, before the database refuses it
    (or, in a fresh database, before the built-in decks are refused later).
    """
    from ..cards import DeckError, deck_files, load_decks
    from ..paths import builtin_decks_dir

    sources = list(paths) or [builtin_decks_dir()]
    own = {f.resolve() for f in deck_files(sources)}
    builtin = [f for f in deck_files([builtin_decks_dir()]) if f.resolve() not in own]
    try:
        decks = load_decks([*builtin, *sources])
        return [d for d in decks if Path(d.path).resolve() in own], sources
    except DeckError as exc:
        err = console(stderr=True)
        tail = "; nothing was written" if writing else ""
        err.print(f"[bold red]{len(exc.problems)} problem(s)[/] in the decks{tail}:", markup=True)
        for p in exc.problems:
            err.print(f"  {p}", markup=False, soft_wrap=True)
        raise SystemExit(1) from None


def _origin(sources: list[Path]) -> str | None:
    """``builtin`` for the built-in folder; None for your own files (each file is its own origin)."""
    from ..paths import builtin_decks_dir

    resolved = [Path(s).resolve() for s in sources]
    return "builtin" if resolved == [builtin_decks_dir().resolve()] else None


@deck.command("build")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@db_option
@json_option
def build(paths: tuple[Path, ...], db_path: Path | None, as_json: bool) -> None:
    """Compile deck files (default: the built-in decks) into the database.

    Idempotent: an edited card keeps its id and review history; a card removed
    from its deck file is retired, not deleted. If any card is invalid, nothing
    is written and every problem is listed.

    \b
    Example:
        atlas-quiz deck build
        atlas-quiz deck build my_decks/ --db /tmp/x.db
    """
    from ..store import IdCollision, build_decks

    decks, sources = _load(paths)
    db = open_store(db_path)
    try:
        report = build_decks(db, decks, origin=_origin(sources), scope=sources)
    except IdCollision as exc:
        fail(f"{exc}; rename them (ids are never reused), nothing was written", 1)
    if as_json:
        echo_json({**report.to_dict(), "decks": len(decks), "db": str(db_path or _default_db())})
        return
    c = console()
    counts = report.to_dict()
    c.print(f"Built {len(decks)} deck(s) into {db_path or _default_db()}: "
            + ", ".join(f"{v} {k}" for k, v in counts.items()), soft_wrap=True)  # one line to grep


def _default_db() -> Path:
    from ..paths import default_db_path

    return default_db_path()


@deck.command("list")
@click.option("--deck", "decks", multiple=True, help="Only cards of this deck (key or name); repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only cards with this tag; repeatable.")
@click.option("--cards", "show_cards", is_flag=True, help="List cards rather than decks.")
@db_option
@json_option
def list_(decks: tuple[str, ...], tags: tuple[str, ...], show_cards: bool, db_path: Path | None,
          as_json: bool) -> None:
    """List the decks in the database, or their cards with --cards.

    \b
    Example:
        atlas-quiz deck list
        atlas-quiz deck list --cards --tag attention
    """
    from rich.table import Table

    from ..store import list_cards, list_decks

    db = open_store(db_path, create=False)
    if not show_cards and not decks and not tags:
        rows = list_decks(db)
        if as_json:
            echo_json([{k: r[k] for k in ("key", "name", "name_zh", "cards")} for r in rows])
            return
        table = Table("deck", "name", "名称", "cards")
        for r in rows:
            table.add_row(r["key"], r["name"], r["name_zh"], str(r["cards"]))
        console().print(table if rows else "No decks yet: run `atlas-quiz deck build`.")
        return
    problem = unknown_tags(db, list(tags)) if tags else None
    if problem:
        fail(problem, 2)
    try:
        cards = list_cards(db, decks=list(decks) or None, tags=list(tags) or None)
    except LookupError as exc:
        fail(str(exc.args[0]), 2)
    if as_json:
        echo_json([{"id": c.id, "kind": c.kind, "title": c.title, "title_zh": c.title_zh,
                    "deck": c.deck, "source": c.source, "tags": list(c.tags)} for c in cards])
        return
    table = Table()
    table.add_column("id", no_wrap=True)  # never cut: it is what `grade` and quiz specs take
    for name in ("kind", "title", "标题", "source"):
        table.add_column(name)
    for c in cards:
        table.add_row(c.id, c.kind, c.title, c.title_zh, c.source)
    console().print(table)


@deck.command("stats")
@db_option
@json_option
def stats(db_path: Path | None, as_json: bool) -> None:
    """Count the cards in the database: by kind, by source seed and chapter, by deck.

    \b
    Example:
        atlas-quiz deck stats
        atlas-quiz deck stats --json --db /tmp/x.db
    """
    from rich.table import Table

    from ..store import card_stats, list_cards

    db = open_store(db_path, create=False)
    cards = list_cards(db)
    retired = db["cards"].count_where("retired_at IS NOT NULL")
    data = card_stats(cards, retired)
    if as_json:
        echo_json(data)
        return
    c = console()
    c.print(f"[bold]{data['total']}[/] cards ({retired} retired), "
            f"{data['parametric']} parametric", markup=True)
    for title, key in (("kind", "by_kind"), ("seed", "by_seed"), ("chapter", "by_chapter")):
        table = Table(title, "cards")
        for k, v in data[key].items():
            table.add_row(k, str(v))
        c.print(table)


@deck.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="Where references and answers run.")
@click.option("--only", "only", multiple=True, help="Only cards whose id starts with this; repeatable.")
@click.option("--no-proofs", is_flag=True, help="Validate the files only; run no answers.")
@click.option("--seeds", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Prove every card on this many draws of its trials (parametric cards: at least 3).")
@json_option
def check(paths: tuple[Path, ...], device: str, only: tuple[str, ...], no_proofs: bool, seeds: int,
          as_json: bool) -> None:
    """Validate deck files and prove every card.

    A proof runs the reference, grades every `accept` answer (each must be
    correct) and every `reject` answer (each must not be). Exit status 1 if any
    card fails, listing each failure.

    \b
    Example:
        atlas-quiz deck check
        atlas-quiz deck check decks/my_deck.toml --only norm.
        atlas-quiz deck check --device cuda --json
        atlas-quiz deck check decks/my_deck.toml --seeds 20   # hunt rejects that pass by luck
    """
    decks, _ = _load(paths, writing=False)
    cards = [c for d in decks for c in d.cards if not only or c.id.startswith(only)]
    if no_proofs:
        if as_json:
            echo_json({"cards": len(cards), "failures": []})
        else:
            console().print(f"{len(cards)} cards valid (proofs not run).")
        return
    from .prove import run_proofs

    raise SystemExit(run_proofs(cards, device=device, seeds=seeds, as_json=as_json))
