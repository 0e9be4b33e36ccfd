"""Writing an .apkg: one subdeck per deck file, stable note GUIDs, a modification time that grows."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import genanki

from ..cards import Card, instantiate
from .model import note_model
from .notes import card_fields, note_tags, shown_answer

__all__ = ["DECK_ROOT", "ExportReport", "deck_id", "export_anki", "note_guid"]

DECK_ROOT = "Atlas"


@dataclass
class ExportReport:
    """What was written."""

    path: Path
    notes: int
    decks: int
    mod_time: int


def note_guid(card_id: str) -> str:
    """The note's GUID, from the card id alone: edits update the note instead of adding a copy."""
    return genanki.guid_for("atlas-quiz", card_id)


def deck_id(deck_name: str) -> int:
    """A stable deck id for a subdeck name (Anki needs ids; genanki does not derive them)."""
    return int.from_bytes(hashlib.sha256(f"atlas-quiz::{deck_name}".encode()).digest()[:6], "big") + 1


def export_anki(cards: Sequence[Card], deck_names: dict[str, str], out: str | Path, *,
                mod_time: int, answer_for: Callable[[Card], str] | None = None) -> ExportReport:
    """Write ``cards`` to ``out``; ``deck_names`` maps a card's deck key to its subdeck name.

    ``mod_time`` (seconds) stamps every note: pass a value larger than the last export's, or Anki
    skips the updates. ``answer_for`` supplies the answer of a shape/output card without an
    ``accept`` (it needs the grader, which this module must not import).
    """
    model = note_model()
    decks: dict[str, genanki.Deck] = {}
    for card in cards:
        shown = instantiate(card, 0)  # Anki shows one fixed draw of a parametric card
        name = f"{DECK_ROOT}::{deck_names.get(card.deck, card.deck)}"
        deck = decks.get(name)
        if deck is None:
            deck = decks[name] = genanki.Deck(deck_id(name), name)
        computed = answer_for(shown) if answer_for and not shown_answer(shown) else ""
        deck.add_note(genanki.Note(model=model, fields=card_fields(shown, computed),
                                   tags=note_tags(card), guid=note_guid(card.id)))
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial")  # a crash never leaves half a package behind
    with warnings.catch_warnings():  # our fields are escaped HTML; genanki's tag heuristic is noisy
        warnings.filterwarnings("ignore", module="genanki")
        try:
            genanki.Package(list(decks.values())).write_to_file(str(partial), timestamp=mod_time)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return ExportReport(out, len(cards), len(decks), mod_time)
