"""Export to Anki with genanki: never imports torch or textual."""

from .export import DECK_ROOT, ExportReport, deck_id, export_anki, note_guid
from .model import FIELDS, MODEL_ID, note_model

__all__ = ["DECK_ROOT", "FIELDS", "MODEL_ID", "ExportReport", "deck_id", "export_anki", "note_guid",
           "note_model"]
