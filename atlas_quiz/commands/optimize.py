"""``atlas-quiz optimize``: fit FSRS parameters to your own review log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from .common import console, db_option, echo_json, json_option, open_store

__all__ = ["optimize"]


@click.command()
@click.option("--dry-run", is_flag=True, help="Fit and report, but keep the current parameters.")
@db_option
@json_option
def optimize(dry_run: bool, db_path: Path | None, as_json: bool) -> None:
    """Fit the scheduler's FSRS parameters to your own reviews, and use them from now on.

    Needs a few hundred reviews made on a later day than the card's previous
    review (the ones FSRS learns from); with fewer it says how many there are
    and exits with status 1. Runs torch, in this process only: the review app
    never loads it.

    \b
    Example:
        atlas-quiz optimize
        atlas-quiz optimize --dry-run --json --db /tmp/x.db
    """
    from ..scheduling import optimize as fit

    db = open_store(db_path, create=False)
    report = fit(db, now=datetime.now().astimezone(), save=not dry_run)
    if as_json:
        echo_json(report.to_dict())
    else:
        _print_report(report)
    if not report.enough:
        raise SystemExit(1)


def _print_report(report) -> None:
    """The counts, then the old and new parameters and how well each predicts the log."""
    from rich.table import Table

    out = console()
    if not report.enough:
        out.print(f"Too few reviews to fit: {report.usable} usable of the {report.needed} needed "
                  f"({report.reviews} in the log; a review is usable when it comes on a later day "
                  "than the card's previous one). Keep reviewing and try again.")
        return
    old, new = report.old_estimate, report.new_estimate
    out.print(f"Fitted FSRS parameters to {report.usable} usable reviews "
              f"({report.reviews} in the log).")
    table = Table("w", "old", "new")
    for i, (a, b) in enumerate(zip(report.old_parameters, report.new_parameters, strict=True)):
        table.add_row(str(i), f"{a:.4f}", f"{b:.4f}")
    out.print(table)
    out.print(f"Actual retention {old.actual:.1%}; predicted with the old parameters "
              f"{old.predicted:.1%} (log loss {old.log_loss:.4f}), with the new "
              f"{new.predicted:.1%} (log loss {new.log_loss:.4f}).")
    out.print("Saved: the scheduler uses them from the next review on." if report.saved
              else "Dry run: nothing saved.")
