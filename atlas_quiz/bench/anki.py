"""``python -m atlas_quiz.bench anki``: export the whole built-in deck to .apkg.

Baseline, same run: genanki writing the same notes with plain escaped text
fields (no highlighting, no MathJax, no scope tables), which is the floor any
exporter on genanki pays.
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import tempfile
import time
from pathlib import Path

__all__ = ["main"]


def _baseline(cards, path: Path) -> None:
    import genanki

    from ..anki import note_model

    model = note_model()
    deck = genanki.Deck(1, "baseline")
    for c in cards:
        fields = [html.escape(getattr(c, f, "") or "") for f in (
            "id", "title", "title_zh", "latex", "prompt", "prompt_zh", "kind", "code", "reference",
            "answer", "explain", "explain_zh", "source", "kind", "hint")]
        deck.add_note(genanki.Note(model=model, fields=fields, guid=genanki.guid_for(c.id)))
    genanki.Package(deck).write_to_file(str(path), timestamp=1)


def main(argv: list[str] | None = None) -> int:
    """Time the export (best and median of ``--repeat`` runs) beside the baseline."""
    parser = argparse.ArgumentParser(prog="python -m atlas_quiz.bench anki")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from ..anki import export_anki
    from ..cards import load_decks
    from ..paths import builtin_decks_dir

    t0 = time.perf_counter()
    decks = load_decks([builtin_decks_dir()])
    load_s = time.perf_counter() - t0
    cards = [c for d in decks for c in d.cards]
    names = {d.key: d.name for d in decks}
    ours, base = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            t0 = time.perf_counter()
            export_anki(cards, names, Path(tmp) / "atlas.apkg", mod_time=1_700_000_000 + i)
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _baseline(cards, Path(tmp) / "baseline.apkg")
            base.append(time.perf_counter() - t0)
    n = len(cards)
    rows = [("load decks (TOML + validation)", load_s, None),
            ("export_anki (ours)", min(ours), statistics.median(ours)),
            ("genanki, plain fields (baseline)", min(base), statistics.median(base))]
    print(f"{n} notes, {len(decks)} decks, {args.repeat} runs\n")
    print(f"{'what':36} {'best s':>8} {'median s':>9} {'notes/s':>9}")
    for name, best, med in rows:
        rate = f"{n / best:9.0f}" if med is not None else ""
        print(f"{name:36} {best:8.3f} {(med if med is not None else best):9.3f} {rate}")
    print(json.dumps({"benchmark": "anki", "notes": n, "decks": len(decks), "load_s": round(load_s, 4),
                      "export_s": round(min(ours), 4), "export_median_s": round(statistics.median(ours), 4),
                      "notes_per_s": round(n / min(ours)), "baseline_s": round(min(base), 4)}))
    return 0
