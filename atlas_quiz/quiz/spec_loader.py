"""Reading a quiz spec from TOML, reporting every mistake with its line and field.

A spec looks like this (see ``atlas_quiz/quiz/sample/quiz.toml``)::

    [quiz]
    title = "Week 3: norms and losses"
    minutes = 30
    seed = "2026-w3"          # change it and every student gets new draws
    decks = ["deck.toml"]     # relative to the spec ("builtin": the built-in decks, the default)
    partial = 0.5             # default share of an item's points for right shape, wrong values
    late = "zero"             # answers saved after the limit + grace score 0 ("accept": count them)
    grace_minutes = 1         # how long after the limit a save still counts as on time

    [[item]]
    card = "quiz.relu"        # one fixed card ...
    points = 1

    [[item]]
    name = "norm"
    tags = ["norm"]           # ... or `count` cards drawn per student from a pool
    count = 2                 # (filters: cards = [...], tags = [...], deck = "...")
    points = 2                # per question: this item is worth 2 x 2 = 4 points
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import tomllib

from ..cards import Card, DeckError, Problem, load_decks
from .spec import LATE_POLICIES, Item, QuizSpec

__all__ = ["SpecError", "load_spec"]

BUILTIN = "builtin"
_QUIZ_FIELDS = {"title", "minutes", "seed", "decks", "partial", "late", "grace_minutes"}
_ITEM_FIELDS = {"name", "card", "cards", "tags", "deck", "count", "points", "partial"}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class SpecError(Exception):
    """The spec did not load; ``problems`` lists every mistake found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        n = len(self.problems)
        return "\n".join([f"{n} problem{'s' if n != 1 else ''} in the quiz spec:",
                          *(f"  {p}" for p in self.problems)])


class _Where:
    """Finds the line of the ``[quiz]`` table, of each ``[[item]]`` and of a field inside them."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.heads = [(i + 1, m.group(1)) for i, s in enumerate(self.lines)
                      if (m := re.match(r"^\s*\[+\s*(\w+)\s*\]+", s))]

    def table(self, name: str, index: int = 0) -> int | None:
        """The line of the ``index``-th ``[name]`` or ``[[name]]`` header."""
        starts = [line for line, head in self.heads if head == name]
        return starts[index] if index < len(starts) else None

    def field(self, table: str, index: int, key: str) -> int | None:
        """The line of ``key = ...`` inside that table (the header's line when absent)."""
        start = self.table(table, index)
        if start is None:
            return None
        later = [line for line, _ in self.heads if line > start]
        end = later[0] if later else len(self.lines) + 1
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        return next((i + 1 for i in range(start, end - 1) if pattern.match(self.lines[i])), start)

    def top(self, key: str) -> int | None:
        """The line of a top-level ``key = ...`` (above the first table header)."""
        end = self.heads[0][0] - 1 if self.heads else len(self.lines)
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        return next((i + 1 for i in range(end) if pattern.match(self.lines[i])), None)


class _Report:
    """Collects problems of one spec file."""

    def __init__(self, file: str, where: _Where) -> None:
        self.file, self.where, self.problems = file, where, []

    def quiz(self, key: str | None, message: str) -> None:
        """A problem in the ``[quiz]`` table (of one field, or of the table)."""
        line = self.where.field("quiz", 0, key) if key else self.where.table("quiz")
        self.problems.append(Problem(self.file, message, line, None, f"quiz.{key}" if key else None))

    def top(self, key: str, message: str) -> None:
        """A problem with a top-level key (outside any table)."""
        self.problems.append(Problem(self.file, message, self.where.top(key), None, key))

    def item(self, index: int, key: str | None, message: str) -> None:
        """A problem in the ``index``-th ``[[item]]`` (of one field, or of the item)."""
        line = self.where.field("item", index, key) if key else self.where.table("item", index)
        label = f"item[{index + 1}]" + (f".{key}" if key else "")
        self.problems.append(Problem(self.file, message, line, None, label))


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_strs(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) and x for x in v)


def load_spec(path: str | Path, *, decks: list[str | Path] | None = None) -> QuizSpec:
    """Load and validate a quiz spec; raise :class:`SpecError` listing every problem.

    ``decks`` overrides the spec's own ``decks`` (default: the built-in decks).
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise SpecError([Problem(file, f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise SpecError([Problem(file, "not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise SpecError([Problem(file, f"TOML syntax error: {exc}", int(m.group(1)) if m else None)]) \
            from None
    report = _Report(file, _Where(text))
    quiz = _quiz_table(data, report)
    cards = _cards(path, quiz, decks, report)
    items = [] if cards is None else _items(data, quiz, cards, report)
    if report.problems:
        raise SpecError(report.problems)
    pool_ids = {c for item in items for c in item.pool}
    return QuizSpec(title=quiz["title"], minutes=float(quiz["minutes"]),
                    seed=str(quiz.get("seed", quiz["title"])), items=tuple(items),
                    cards={c: cards[c] for c in pool_ids}, path=file, late=quiz.get("late", "zero"),
                    grace_minutes=float(quiz.get("grace_minutes", 1)))


def _quiz_table(data: dict[str, Any], report: _Report) -> dict[str, Any]:
    for key in sorted(set(data) - {"quiz", "item"}):
        report.quiz(None, f"unknown top-level key {key!r}; expected a [quiz] table and [[item]] entries")
    quiz = data.get("quiz")
    if not isinstance(quiz, dict):
        report.quiz(None, "missing the [quiz] table (title, minutes, seed)")
        return {"title": "", "minutes": 1}
    for key in sorted(set(quiz) - _QUIZ_FIELDS):
        report.quiz(key, f"unknown field {key!r}; expected one of {', '.join(sorted(_QUIZ_FIELDS))}")
    if not isinstance(quiz.get("title"), str) or not quiz.get("title", "").strip():
        report.quiz("title" if "title" in quiz else None, "expected a non-empty string `title`")
    minutes = quiz.get("minutes")
    if not _is_num(minutes) or not 1 <= minutes <= 24 * 60:
        report.quiz("minutes" if "minutes" in quiz else None,
                    f"expected `minutes`, the time limit, a number from 1 to 1440; got {minutes!r}")
    if "seed" in quiz and not (isinstance(quiz["seed"], (str, int)) and not isinstance(quiz["seed"], bool)):
        report.quiz("seed", f"expected a string or an integer, got {quiz['seed']!r}")
    if "decks" in quiz and not _is_strs(quiz["decks"]):
        report.quiz("decks", f"expected a list of deck files or folders, got {quiz['decks']!r}")
    if "partial" in quiz and not (_is_num(quiz["partial"]) and 0 <= quiz["partial"] <= 1):
        report.quiz("partial", f"expected a share of the points from 0 to 1, got {quiz['partial']!r}")
    if "late" in quiz and quiz["late"] not in LATE_POLICIES:
        report.quiz("late", f"expected \"zero\" (late answers score 0) or \"accept\" (they count), "
                            f"got {quiz['late']!r}")
    grace = quiz.get("grace_minutes", 1)
    if not (_is_num(grace) and 0 <= grace <= 24 * 60):
        report.quiz("grace_minutes", f"expected minutes from 0 to 1440 after the time limit during "
                                     f"which a save still counts as on time, got {grace!r}")
    return quiz


def _cards(path: Path, quiz: dict[str, Any], decks: list[str | Path] | None,
           report: _Report) -> dict[str, Card] | None:
    from ..paths import builtin_decks_dir

    if decks is None:
        named = quiz.get("decks") if _is_strs(quiz.get("decks")) else None
        # "builtin" names the decks that ship with atlas-quiz, so a quiz can mix them with its own
        decks = ([builtin_decks_dir() if d == BUILTIN else path.parent / d for d in named]
                 if named else [builtin_decks_dir()])
    missing = [str(d) for d in decks if not Path(d).exists()]
    if missing:
        report.quiz("decks", f"no such deck file or folder: {', '.join(missing)}")
        return None
    try:
        loaded = load_decks(decks)
    except DeckError as exc:
        report.problems.extend(exc.problems)
        return None
    return {c.id: c for d in loaded for c in d.cards}


def _items(data: dict[str, Any], quiz: dict[str, Any], cards: dict[str, Card],
           report: _Report) -> list[Item]:
    raw_items = data.get("item")
    if not raw_items:
        report.quiz(None, "the quiz has no [[item]] entries")
        return []
    if not isinstance(raw_items, list) or not all(isinstance(raw, dict) for raw in raw_items):
        report.top("item", "expected [[item]] tables, one per question (a line `[[item]]`, then "
                           f"`card = \"...\"` or filters), got {raw_items!r}")
        return []
    default_partial = quiz.get("partial", 0.0) if _is_num(quiz.get("partial")) else 0.0
    items: list[Item] = []
    for index, raw in enumerate(raw_items):
        item = _item(index, raw, cards, float(default_partial), report)
        if item is not None:
            items.append(item)
    if len(items) == len(raw_items):  # item indices match the file's only when all loaded
        _check_names_and_pools(items, report)
    return items


def _item(index: int, raw: dict[str, Any], cards: dict[str, Card], default_partial: float,
          report: _Report) -> Item | None:
    before = len(report.problems)
    for key in sorted(set(raw) - _ITEM_FIELDS):
        report.item(index, key, f"unknown field {key!r}; expected one of {', '.join(sorted(_ITEM_FIELDS))}")
    filters = [k for k in ("cards", "tags", "deck") if k in raw]
    if ("card" in raw) == bool(filters):
        report.item(index, None, "give either `card = \"id\"` or filters (`cards`, `tags`, `deck`) "
                                 "to draw from, not both and not neither")
    count = raw.get("count", 1)
    if type(count) is not int or count < 1:
        report.item(index, "count", f"expected a whole number of cards to draw, 1 or more; got {count!r}")
    elif count > 1 and "card" in raw:
        report.item(index, "count", "a fixed `card` is one question; use `cards = [...]` to draw several")
    points = raw.get("points", 1)
    if not _is_num(points) or points <= 0:
        report.item(index, "points", f"expected a positive number of points, got {points!r}")
    partial = raw.get("partial", default_partial)
    if not _is_num(partial) or not 0 <= partial <= 1:
        report.item(index, "partial", f"expected a share of the points from 0 to 1, got {partial!r}")
    name = raw.get("name", _default_name(raw, index))
    if not isinstance(name, str) or not _NAME.match(name):
        report.item(index, "name", f"expected a name of 1-32 letters, digits, _ or -, got {name!r}")
    pool = _pool(index, raw, cards, report)
    if len(report.problems) > before or pool is None:
        return None
    if len(pool) < count:
        report.item(index, "count", f"draws {count} cards but its pool has only {len(pool)}: "
                                    f"{', '.join(pool)}")
        return None
    return Item(name, tuple(pool), count, float(points), float(partial), fixed="card" in raw)


def _default_name(raw: dict[str, Any], index: int) -> str:
    card = raw.get("card")
    if isinstance(card, str) and card:
        return re.sub(r"[^A-Za-z0-9_-]", "_", card.rsplit(".", 1)[-1])[:32]
    return f"item{index + 1}"


def _unknown_card(card_id: str, cards: dict[str, Card]) -> str:
    close = difflib.get_close_matches(card_id, list(cards), n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    if _is_builtin_card(card_id):  # an exact match there says more than a close one here
        hint = f'; it is a built-in card: add "{BUILTIN}" to the quiz\'s decks'
    return f"no card {card_id!r} in the quiz's decks{hint}"


def _is_builtin_card(card_id: str) -> bool:
    """Whether a built-in deck has this id (only asked when a spec names an unknown card)."""
    from ..paths import builtin_decks_dir

    try:
        return any(c.id == card_id for d in load_decks([builtin_decks_dir()]) for c in d.cards)
    except DeckError:
        return False


def _pool(index: int, raw: dict[str, Any], cards: dict[str, Card], report: _Report) -> list[str] | None:
    """The ids an item can draw, in deck order; None (with problems reported) when it cannot."""
    if isinstance(raw.get("card"), str):
        card = cards.get(raw["card"])
        if card is None:
            report.item(index, "card", _unknown_card(raw["card"], cards))
            return None
        if not card.graded:
            report.item(index, "card", f"{card.id} is a {card.kind} card, rated by the learner: "
                                       "a quiz needs graded cards")
            return None
        return [card.id]
    if "card" in raw:
        report.item(index, "card", f"expected a card id, got {raw['card']!r}")
        return None
    pool = [c for c in cards.values() if c.graded]
    if "cards" in raw:
        if not _is_strs(raw["cards"]):
            report.item(index, "cards", f"expected a list of card ids, got {raw['cards']!r}")
            return None
        for card_id in raw["cards"]:
            if card_id not in cards:
                report.item(index, "cards", _unknown_card(card_id, cards))
        wanted = set(raw["cards"])
        pool = [c for c in pool if c.id in wanted]
    if "tags" in raw:
        if not _is_strs(raw["tags"]):
            report.item(index, "tags", f"expected a list of tags, got {raw['tags']!r}")
            return None
        tags = set(raw["tags"])
        pool = [c for c in pool if tags & set(c.tags)]
    if "deck" in raw:
        deck = raw["deck"]
        if not isinstance(deck, str):
            report.item(index, "deck", f"expected a deck key, got {deck!r}")
            return None
        pool = [c for c in pool if c.deck.lower() == deck.lower()]
    if not pool:
        report.item(index, None, "no graded card matches these filters")
        return None
    return [c.id for c in pool]


def _check_names_and_pools(items: list[Item], report: _Report) -> None:
    """Names unique; fixed cards unique; every pool big enough after what items before it take."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.name in seen:
            report.item(index, "name", f"the name {item.name!r} is already used by item "
                                       f"[{seen[item.name] + 1}]; give each item its own `name`")
        seen.setdefault(item.name, index)
    fixed = [i.pool[0] for i in items if i.fixed]
    for card_id in sorted({c for c in fixed if fixed.count(c) > 1}):
        report.problems.append(Problem(report.file, f"card {card_id!r} is asked by more than one item"))
    fixed_ids = set(fixed)
    drawn: list[Item] = []
    for index, item in enumerate(items):
        if item.fixed:
            continue
        free = set(item.pool) - fixed_ids
        # Worst case: every earlier item whose pool overlaps took its cards from this one.
        taken = sum(d.count for d in drawn if set(d.pool) & free)
        if len(free) - taken < item.count:
            report.item(index, "count", f"draws {item.count} cards from a pool of {len(free)} not "
                                        f"asked elsewhere, of which earlier items may take {taken}")
        drawn.append(item)
