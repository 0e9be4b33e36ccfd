"""Load TOML decks into :class:`Card` objects, reporting every mistake with file, line, card and field."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from .field_checks import content_problems, type_problem
from .model import KINDS, Card, Deck, Reject
from .schema import COMMON_REQUIRED, FIELD_TYPES, ID_PATTERN, KIND_REQUIRED, allowed_fields

__all__ = ["DeckError", "Problem", "deck_files", "load_deck", "load_decks"]


@dataclass(frozen=True)
class Problem:
    """One mistake in a deck file, located as precisely as the file allows."""

    file: str
    message: str
    line: int | None = None
    card: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [where]
        if self.card:
            parts.append(f"card {self.card!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ": ".join(parts) + f": {self.message}"


@dataclass
class DeckError(Exception):
    """The decks did not load; ``problems`` lists every mistake found."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the decks:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


_CARD_HEADER = re.compile(r"^\s*\[\[\s*card\s*\]\]\s*(#.*)?$")


class _Lines:
    """Finds the line of a card and of a field inside it in the raw TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.card_starts = [i + 1 for i, s in enumerate(self.lines) if _CARD_HEADER.match(s)]

    def card(self, index: int) -> int | None:
        return self.card_starts[index] if index < len(self.card_starts) else None

    def field(self, index: int, name: str) -> int | None:
        start = self.card(index)
        if start is None:
            return None
        end = self.card_starts[index + 1] if index + 1 < len(self.card_starts) else len(self.lines) + 1
        top = name.split(".")[0]
        pat = re.compile(rf"^\s*{re.escape(top)}\s*=")
        for i in range(start, end - 1):
            if pat.match(self.lines[i]):
                return i + 1
        return start


def deck_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into the sorted list of ``.toml`` deck files."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.glob("*.toml")))
        else:
            out.append(p)
    return out


def load_decks(paths: Iterable[str | Path]) -> list[Deck]:
    """Load and validate every deck under ``paths``; raise :class:`DeckError` listing all problems."""
    problems: list[Problem] = []
    decks: list[Deck] = []
    first_seen: dict[str, str] = {}
    paths = list(paths)
    named = {Path(p) for p in paths if not Path(p).is_dir()}
    for path in deck_files(paths):
        deck, found, ids = _load_one(path, in_folder=path not in named)
        problems.extend(found)
        for card_id, line in ids:  # every card with an id, valid or not, claims it
            where = first_seen.get(card_id)
            if where:
                problems.append(Problem(str(path), f"duplicate id: already used in {where}",
                                        line, card_id, "id"))
            else:
                first_seen[card_id] = f"{path}:{line}"
        if deck is not None:
            decks.append(deck)
    if problems:
        problems.sort(key=lambda p: (p.file, p.line or 0))
        raise DeckError(problems)
    return decks


def load_deck(path: str | Path) -> Deck:
    """Load one deck file (ids are checked for duplicates within it only)."""
    return load_decks([path])[0]


def _load_one(path: Path, in_folder: bool = False) -> tuple[Deck | None, list[Problem],
                                                           list[tuple[str, int | None]]]:
    """One file: its deck, its problems, and (id, line) of every card that has an id.

    A quiz spec found in a folder of decks is passed over: ``quiz init`` puts the
    spec beside its deck, and the folder should still build.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(file, f"cannot read: {exc.strerror}")], []
    except UnicodeDecodeError:
        return None, [Problem(file, "not UTF-8 text")], []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        return None, [Problem(file, f"TOML syntax error: {exc}", int(m.group(1)) if m else None)], []
    if "quiz" in data and "card" not in data:
        if in_folder:
            return None, [], []
        return None, [Problem(file, "a quiz spec, not a deck: check it with `atlas-quiz quiz check`")], []
    problems: list[Problem] = []
    unknown_top = set(data) - {"deck", "card"}
    if unknown_top:
        problems.append(Problem(file, f"unknown top-level keys {sorted(unknown_top)}; "
                                      "expected a [deck] table and [[card]] entries"))
    meta = data.get("deck", {})
    if not isinstance(meta, dict):
        problems.append(Problem(file, "[deck] must be a table with name and name_zh"))
        meta = {}
    raw_cards = data.get("card", [])
    if not isinstance(raw_cards, list):
        problems.append(Problem(file, "cards must be written as [[card]] entries"))
        raw_cards = []
    elif not raw_cards:  # an empty or cut-short file would otherwise build as an empty deck
        what = "the file is empty" if not text.strip() else "no cards"
        problems.append(Problem(file, f"{what}: expected a [deck] table and [[card]] entries"))
    lines = _Lines(text)
    cards: list[Card] = []
    ids: list[tuple[str, int | None]] = []
    for i, raw in enumerate(raw_cards):
        if not isinstance(raw, dict):
            problems.append(Problem(file, "a [[card]] entry must be a table", lines.card(i)))
            continue
        if isinstance(raw.get("id"), str):
            ids.append((raw["id"], lines.card(i)))
        card, found = _card(raw, path.stem, file, i, lines)
        problems.extend(found)
        if card is not None:
            cards.append(card)
    name = meta.get("name") or path.stem.replace("_", " ")
    deck = Deck(key=path.stem, name=str(name), name_zh=str(meta.get("name_zh", "")),
                path=file, cards=tuple(cards))
    return deck, problems, ids


def _card(raw: Any, deck: str, file: str, index: int,
          lines: _Lines) -> tuple[Card | None, list[Problem]]:
    problems: list[Problem] = []
    card_id = raw.get("id") if isinstance(raw.get("id"), str) else None

    def bad(fld: str | None, message: str) -> None:
        line = lines.field(index, fld) if fld else lines.card(index)
        problems.append(Problem(file, message, line, card_id or f"#{index + 1}", fld))

    for name in COMMON_REQUIRED:
        if name not in raw:
            bad(None, f"missing field {name!r}")
    kind = raw.get("kind")
    if "kind" in raw and kind not in KINDS:
        bad("kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        return None, problems
    if card_id is not None and not ID_PATTERN.match(card_id):
        bad("id", "expected a dotted lower-case id like 'norm.rmsnorm' (letters, digits, _ and -)")
    if kind is None:
        return None, problems
    for name in KIND_REQUIRED[kind]:
        if name not in raw:
            bad(None, f"missing field {name!r} ({_article(kind)} {kind} card needs "
                      f"{', '.join(KIND_REQUIRED[kind])})")
    allowed = allowed_fields(kind)
    for name in raw:
        if name not in allowed:
            bad(name, f"unknown field {name!r} for {_article(kind)} {kind} card{_did_you_mean(name, allowed)}")
    for name, value in raw.items():
        if name in allowed:
            message = type_problem(FIELD_TYPES[name], value)
            if message:
                bad(name, message)
    if isinstance(raw.get("params"), dict):  # say which range is wrong, not only that one is
        for name, pair in raw["params"].items():
            if isinstance(pair, list) and len(pair) == 2 and all(type(y) is int for y in pair) \
                    and pair[0] > pair[1]:
                bad(f"params.{name}", f"{name} = {pair}: the low end {pair[0]} is above the high end "
                                      f"{pair[1]}; write [{pair[1]}, {pair[0]}]")
    if problems:
        return None, problems
    for fld, message in content_problems(raw, kind):
        bad(fld, message)
    if problems:
        return None, problems
    return _build(raw, deck), problems


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _did_you_mean(name: str, allowed: set[str]) -> str:
    """A close allowed field name, so a typo such as ``refernce`` names its fix."""
    close = difflib.get_close_matches(name, sorted(allowed), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _build(raw: dict[str, Any], deck: str) -> Card:
    d = dict(raw)
    d["deck"] = deck
    d["reject"] = [Reject(r) if isinstance(r, str) else Reject(r["answer"], r.get("why", ""))
                   for r in raw.get("reject", [])]
    return Card.from_dict(d)
