"""``deck check``'s proofs: every card's answers through a real engine, with a progress bar."""

from __future__ import annotations

import sys
import time

from ..cards import Card
from .common import console, echo_json

__all__ = ["run_proofs"]


def run_proofs(cards: list[Card], *, device: str, seeds: int = 1, as_json: bool) -> int:
    """Prove ``cards``; print failures; return the exit status (0 all proved, 1 otherwise)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..grading import Engine, RunnerUnavailable, prove_card

    start = time.perf_counter()
    failures: list[dict] = []
    answers = 0
    err = console(stderr=True)
    try:
        engine = Engine("own", device)
    except RunnerUnavailable as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        return 2
    with engine, Progress(TextColumn("[bold]proving"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[card]}"), TimeElapsedColumn(), console=err,
                          transient=True, disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task("cards", total=len(cards), card="")
        for card in cards:
            bar.update(task, card=card.id)
            proof = prove_card(engine, card, seeds)
            answers += proof.answers
            if not proof.ok:
                failures.append({"card": card.id, "deck": card.deck, "problems": proof.problems})
            bar.advance(task)
    elapsed = time.perf_counter() - start
    if as_json:
        echo_json({"cards": len(cards), "answers": answers, "failures": failures,
                   "device": engine.device, "elapsed_s": round(elapsed, 2)})
    else:
        out = console()
        for f in failures:
            out.print(f"[bold red]FAIL[/] {f['card']} ({f['deck']})", markup=True)
            for p in f["problems"]:
                out.print(f"    {p}", markup=False, soft_wrap=True)
        status = "[green]all proved[/]" if not failures else f"[red]{len(failures)} failed[/]"
        out.print(f"{len(cards)} cards, {answers} answers graded on {engine.device} in "
                  f"{elapsed:.1f} s: {status}", markup=True)
    return 1 if failures else 0
