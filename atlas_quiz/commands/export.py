"""``atlas-quiz export``: decks to other tools (Anki)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .common import (
    console,
    db_option,
    echo_json,
    fail,
    json_option,
    open_store,
    sync_builtin_decks,
    unknown_tags,
)

__all__ = ["export"]

_LAST_EXPORT = "anki.last_export"


@click.group()
def export() -> None:
    """Export cards to other tools.

    \b
    Example:
        atlas-quiz export anki atlas.apkg
    """


def _computed_answer(card) -> str:
    """The answer of a shape/output card that carries no `accept`: run its code (imports torch)."""
    from ..grading.output_cards import expected_output
    from ..grading.shape_cards import ERROR, expected_shape

    if card.kind == "shape":
        shape, _ = expected_shape(card)
        return "error" if shape == ERROR else str(tuple(shape))
    if card.kind == "output":
        value, _ = expected_output(card)
        return "error" if value == ERROR else repr(value)
    return ""


def _check_writable(out: Path) -> None:
    """Fail at once, before any work, if ``out`` cannot be written."""
    import tempfile

    if out.is_dir():
        fail(f"{out} is a folder; give a file name such as {out / 'atlas.apkg'}", 2)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=".atlas-quiz-"):
            pass
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}", 2)


@export.command("anki")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--deck", "decks", multiple=True, help="Only this deck (key or name); repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only cards with this tag; repeatable.")
@db_option
@json_option
def anki(out: Path, decks: tuple[str, ...], tags: tuple[str, ...], db_path: Path | None,
         as_json: bool) -> None:
    """Write the cards to an Anki package (.apkg), one subdeck per chapter.

    Re-exporting after editing cards updates the notes in Anki instead of adding
    copies (note ids come from card ids). The built-in decks are brought up to
    date in the database first.

    \b
    Example:
        atlas-quiz export anki atlas.apkg
        atlas-quiz export anki attention.apkg --tag attention
    """
    from ..anki import export_anki
    from ..store import get_meta, list_cards, list_decks, set_meta

    if out.suffix.lower() != ".apkg":
        fail(f"{out} does not end in .apkg: Anki imports a package only by that name "
             f"(try {out.with_suffix('.apkg')})", 2)
    _check_writable(out)
    db = open_store(db_path)
    sync_builtin_decks(db)  # an export never ships stale built-in cards
    problem = unknown_tags(db, list(tags)) if tags else None
    if problem:
        fail(problem, 2)
    try:
        cards = list_cards(db, decks=list(decks) or None, tags=list(tags) or None)
    except LookupError as exc:
        fail(str(exc.args[0]), 2)
    if not cards:
        fail("no cards match; see `atlas-quiz deck list`", 2)
    names = {d["key"]: d["name"] for d in list_decks(db)}
    last = int(get_meta(db, _LAST_EXPORT, "0"))
    mod_time = max(int(time.time()), last + 1)  # Anki skips updates whose time is not newer
    start = time.perf_counter()
    report = export_anki(cards, names, out, mod_time=mod_time, answer_for=_computed_answer)
    set_meta(db, _LAST_EXPORT, str(mod_time))
    elapsed = time.perf_counter() - start
    if as_json:
        echo_json({"path": str(report.path), "notes": report.notes, "decks": report.decks,
                   "seconds": round(elapsed, 3)})
        return
    console().print(f"Wrote {report.notes} notes in {report.decks} subdecks to {report.path} "
                    f"({elapsed:.2f} s). Import it in Anki with File > Import.")
