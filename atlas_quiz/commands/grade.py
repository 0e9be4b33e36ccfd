"""``atlas-quiz grade``: grade one answer, or a JSON-lines batch, from the command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .common import db_option, echo_json, fail, open_store

__all__ = ["grade"]


class _Cards:
    """Finds cards by id: in the given deck files, else the database, else the built-in decks.

    The database is opened once and the deck files are read once, however many lines a batch has.
    """

    def __init__(self, deck_paths: tuple[Path, ...], db_path: Path | None) -> None:
        self.deck_paths = deck_paths
        self.db_path = db_path
        self._db = None
        self._decks: dict | None = None

    def __getitem__(self, card_id: str):
        from ..paths import default_db_path

        if not self.deck_paths and self._db is None and Path(self.db_path or default_db_path()).exists():
            self._db = open_store(self.db_path)
        if self._db is not None:
            from ..store import get_card

            try:
                return get_card(self._db, card_id)
            except KeyError:
                pass
        if self._decks is None:
            self._decks = self._load()
        return self._decks[card_id]

    def _load(self) -> dict:
        from ..cards import DeckError, load_decks
        from ..paths import builtin_decks_dir

        try:
            decks = load_decks(self.deck_paths or [builtin_decks_dir()])
        except DeckError as exc:
            fail(str(exc), 2)
        return {c.id: c for d in decks for c in d.cards}

    def where(self) -> str:
        """Where the ids were looked for, for an error message."""
        return ", ".join(map(str, self.deck_paths)) if self.deck_paths else \
            "the database or the built-in decks"


def _human(result, as_json: bool) -> None:
    if as_json:
        echo_json(result.to_dict())
        return
    from .common import console

    colour = {"correct": "green", "wrong": "red", "error": "red", "timeout": "yellow"}[result.verdict]
    out = console()
    out.print(f"[bold {colour}]{result.verdict}[/] ({result.elapsed_ms:.1f} ms)", markup=True)
    out.print(result.feedback, markup=False, soft_wrap=True)
    if result.output:
        out.print("[dim]your output:[/]", markup=True)
        out.print(result.output, markup=False)


def _show_question(card, seed: int) -> None:
    """The card as a review with this seed shows it: the question only, never the answer."""
    from rich.syntax import Syntax

    from ..cards import instantiate
    from ..render import render_latex
    from .common import console

    shown = instantiate(card, seed)
    out = console()
    out.print(f"[bold]{shown.title}[/]  {shown.title_zh}   [dim]{shown.kind} · {shown.source}[/]",
              markup=True, highlight=False)
    if shown.latex:
        out.print(render_latex(shown.latex, width=out.width), markup=False, highlight=False)
    out.print(shown.prompt, markup=False, highlight=False)
    if shown.prompt_zh:
        out.print(shown.prompt_zh, markup=False, highlight=False, style="italic")
    for name, desc in shown.scope():
        out.print(f"  [bold cyan]{name}[/]  {desc}", markup=True, highlight=False)
    if shown.kind in ("expr", "kernel") and shown.dim_symbols():
        out.print(f"  [bold cyan]{', '.join(shown.dim_symbols())}[/]  ints (the sizes of each trial)",
                  markup=True, highlight=False)
    code = shown.code or (f"@triton.jit\n{shown.signature.strip()}\n\n{shown.launcher.strip()}"
                          if shown.kind == "kernel" else "")
    if code:
        out.print(Syntax(code, "python", background_color="default"))
    out.print(f"[dim]Answer with: atlas-quiz grade {card.id} ANSWER"
              + (f" --seed {seed}" if seed else "") + "[/]", markup=True, highlight=False)


@click.command(context_settings={"ignore_unknown_options": True})  # answers may start with "-"
@click.argument("card_id", required=False)
@click.argument("answer", required=False)
@click.option("--batch", type=click.File("r"), help="Grade a JSON-lines file ('-' for stdin) of "
              '{"card": ..., "answer": ..., "id": ...}; write one result a line, in order.')
@click.option("--mode", type=click.Choice(["own", "strict"]), default="own", show_default=True,
              help="own: a warm worker for your own answers; strict: a sandbox for other people's.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the trials and parameters.")
@click.option("--deck", "deck_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Look the card up in these deck files instead of the database.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True, help="Seconds per answer.")
@click.option("--jobs", type=int, default=0, show_default="all cores",
              help="Strict mode: how many answers of a batch run at once, each in its own sandbox child.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@db_option
def grade(card_id: str | None, answer: str | None, batch, mode: str, device: str, seed: int,
          deck_paths: tuple[Path, ...], timeout: float, jobs: int, as_json: bool,
          db_path: Path | None) -> None:
    """Grade ANSWER to card CARD_ID (ANSWER '-' reads stdin); without ANSWER, show the question
    (with the numbers --seed draws).

    Exit status: 0 correct, 1 not correct, 2 usage or internal error.

    \b
    Example:
        atlas-quiz grade shape.conv2d_strided --seed 3    # the question, as seed 3 draws it
        atlas-quiz grade act.relu "x.clamp(min=0)"
        atlas-quiz grade norm.rmsnorm - --json < answer.py
        atlas-quiz grade --batch answers.jsonl --mode strict --jobs 4 > results.jsonl
    """
    from ..grading import CardError, Engine, RunnerUnavailable

    cards = _Cards(deck_paths, db_path)
    if batch is None and card_id is None:
        fail("give CARD_ID and ANSWER, or --batch FILE (see --help)", 2)
    if batch is None and answer is None:
        try:
            _show_question(cards[card_id], seed)
        except KeyError:
            fail(f"no card with id {card_id!r} in {cards.where()} (list ids with "
                 f"`atlas-quiz deck list --cards`, or grep the deck file)", 2)
        return
    try:
        engine = Engine(mode, device, timeout=timeout, jobs=jobs or os.cpu_count() or 1)
    except (RunnerUnavailable, ValueError) as exc:
        fail(str(exc), 2)
    with engine:
        try:
            if batch is not None:
                sys.exit(_grade_batch(engine, batch, cards, seed))
            if answer == "-":
                answer = sys.stdin.read()
            try:
                card = cards[card_id]
            except KeyError:
                fail(f"no card with id {card_id!r} in {cards.where()} (list ids with "
                     f"`atlas-quiz deck list --cards`, or grep the deck file)", 2)
            engine.start()  # the time of a grade excludes the worker's start-up
            result = engine.grade(card, answer, seed=seed)
        except RunnerUnavailable as exc:
            fail(str(exc), 2)
        except CardError as exc:
            fail(f"the card itself is broken (`atlas-quiz deck check` shows why): {exc}", 2)
    _human(result, as_json)
    sys.exit(0 if result.correct else 1)


def _parse_line(number: int, line: str, cards: _Cards, seed: int):
    """``(id, (card, answer, seed))`` for a good line, or ``(id, result dict)`` for a bad one."""
    item_id = None
    try:
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(item, dict) or not isinstance(item.get("card"), str) \
                or not isinstance(item.get("answer"), str):
            raise ValueError('expected {"card": "<id>", "answer": "<text>"}')
        item_id = item.get("id")
        return item_id, (cards[item["card"]], item["answer"], int(item.get("seed", seed)))
    except KeyError as exc:
        return item_id, {"card": str(exc.args[0]), "verdict": "error", "correct": False,
                         "feedback": f"input line {number}: no card with id {exc.args[0]!r}",
                         "elapsed_ms": 0.0}
    except (ValueError, TypeError) as exc:
        return item_id, {"card": None, "verdict": "error", "correct": False,
                         "feedback": f"input line {number}: {exc}", "elapsed_ms": 0.0}


def _graded(engine, items: list) -> list[dict]:
    """Results of ``items`` in order; a broken card gives its items an error, not a crash."""
    from ..grading import CardError

    try:
        return [r.to_dict() for r in engine.grade_many(items)]
    except CardError:
        out = []
        for card, answer, seed in items:
            try:
                out.append(engine.grade(card, answer, seed=seed).to_dict())
            except CardError as exc:
                out.append({"card": card.id, "verdict": "error", "correct": False,
                            "feedback": f"the card itself is broken: {exc}", "elapsed_ms": 0.0})
        return out


def _grade_batch(engine, lines, cards: _Cards, seed: int) -> int:
    """Grade each non-blank line; a bad line gets an error result in its place. Return the exit status.

    Lines are graded a chunk at a time with ``grade_many`` (in parallel in strict
    mode), and the results are written in input order as each chunk finishes.
    """
    all_correct = True
    pending: list = []
    chunk = 16 * max(1, getattr(engine, "jobs", 1))

    def flush() -> None:
        nonlocal all_correct
        results = iter(_graded(engine, [p for _, _, p in pending if isinstance(p, tuple)]))
        for number, item_id, parsed in pending:
            out = next(results) if isinstance(parsed, tuple) else parsed
            out = {**({"id": item_id} if item_id is not None else {}), "line": number, **out}
            all_correct &= bool(out["correct"])
            click.echo(json.dumps(out, ensure_ascii=False), nl=True)
        sys.stdout.flush()
        pending.clear()

    for number, line in enumerate(lines, start=1):
        if line.strip():  # blank lines are skipped; every result names its input line
            pending.append((number, *_parse_line(number, line, cards, seed)))
        if len(pending) >= chunk:
            flush()
    flush()
    return 0 if all_correct else 1
