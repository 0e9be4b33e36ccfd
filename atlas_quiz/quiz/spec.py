"""A quiz: its items, what each student is asked, and the hash that names the exam.

Standard library only (plus the cards package), so the exam app can use it
without torch. Every draw is a pure function of the spec's ``seed``, the
student id and the item: the same student always gets the same questions and
the same random inputs, on any machine and any Python version.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from ..cards import Card, instantiate

__all__ = ["LATE_POLICIES", "SPEC_FORMAT", "STUDENT_ID", "Item", "Question", "QuizSpec",
           "check_student_id", "derive_seed"]

SPEC_FORMAT = "atlas-quiz-spec/1"
# What an answer saved after the time limit (plus the grace period) earns: nothing, or full marks.
LATE_POLICIES = ("zero", "accept")
# Student ids name files (submissions, feedback): no separators, no leading dot.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def check_student_id(student: str) -> str:
    """Return the id if it can name a student's files, else raise ``ValueError`` saying why."""
    if not isinstance(student, str) or not STUDENT_ID.match(student):
        raise ValueError(f"student id {student!r} must be 1-64 letters, digits or . _ @ + -, "
                         "starting with a letter or digit")
    return student


def derive_seed(*parts: str) -> int:
    """A 63-bit seed from strings, stable across machines and Python versions (unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(("atlas-quiz", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


@dataclass(frozen=True)
class Item:
    """One entry of the quiz: a fixed card, or ``count`` cards drawn per student from ``pool``."""

    name: str
    pool: tuple[str, ...]
    count: int = 1
    points: float = 1.0
    partial: float = 0.0
    fixed: bool = False

    def slots(self) -> list[str]:
        """The gradebook columns of this item: its name, or ``name.1``... when it draws several."""
        if self.count == 1:
            return [self.name]
        return [f"{self.name}.{k}" for k in range(1, self.count + 1)]


@dataclass(frozen=True)
class Question:
    """One question as one student gets it: its slot, its card, its points and its seed."""

    slot: str
    item: str
    card: Card
    points: float
    partial: float
    seed: int

    @property
    def shown(self) -> Card:
        """The card with this student's parameters filled in (what the exam displays)."""
        return instantiate(self.card, self.seed)


@dataclass(frozen=True)
class QuizSpec:
    """A validated quiz spec; build it with :func:`atlas_quiz.quiz.load_spec`."""

    title: str
    minutes: float
    seed: str
    items: tuple[Item, ...]
    cards: dict[str, Card] = field(default_factory=dict)  # every card some item can draw
    path: str = ""
    late: str = "zero"  # one of LATE_POLICIES
    grace_minutes: float = 1.0  # a save this soon after the limit is on time (clock skew, the hand-in)

    @property
    def time_limit_s(self) -> float:
        """The time limit in seconds."""
        return self.minutes * 60.0

    @property
    def grace_s(self) -> float:
        """How long after the time limit a save still counts as on time, in seconds."""
        return self.grace_minutes * 60.0

    def late_rule(self) -> str:
        """The late policy in one sentence, for ``quiz check`` and the students' feedback."""
        after = f"more than {_minutes(self.grace_minutes)} after the {_minutes(self.minutes)} limit"
        if self.late == "accept":
            return f"answers saved {after} count in full, marked late (late = \"accept\")"
        return f"answers saved {after} score 0 (late = \"zero\")"

    @property
    def max_points(self) -> float:
        """The most points a student can score."""
        return sum(item.points * item.count for item in self.items)

    def slots(self) -> list[str]:
        """Every question slot, in order: the gradebook's columns."""
        return [slot for item in self.items for slot in item.slots()]

    @property
    def hash(self) -> str:
        """The exam's identity: title, time, seed and every item's pool and count.

        Points, partial credit and the late policy are grading policy and stay out of it, so an
        instructor can change them at a regrade without invalidating the
        submissions; editing a card's text stays out too (the grading cache
        notices that). A card added to or removed from a pool changes the hash,
        because it changes what students are drawn.
        """
        blob = {
            "format": SPEC_FORMAT, "title": self.title, "minutes": self.minutes, "seed": self.seed,
            "items": [{"name": i.name, "pool": sorted(i.pool), "count": i.count} for i in self.items],
        }
        text = json.dumps(blob, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def questions_for(self, student: str) -> list[Question]:
        """The questions ``student`` gets, in order; no card appears twice in one quiz.

        A drawn item takes the ``count`` cards of its pool whose hash with the
        student and item is smallest, skipping fixed cards and cards an earlier
        item took: a
        draw does not depend on pool order, and adding a card to a pool moves
        only the students who now draw it.
        """
        check_student_id(student)
        taken = {item.pool[0] for item in self.items if item.fixed}  # never drawn by a pool
        out: list[Question] = []
        for item in self.items:
            if item.fixed:
                chosen = list(item.pool)
            else:
                free = [c for c in item.pool if c not in taken]
                chosen = sorted(free, key=lambda c: derive_seed(self.seed, student, item.name, c))
                chosen = chosen[:item.count]
            if len(chosen) < item.count:
                raise ValueError(f"item {item.name!r} cannot draw {item.count} cards for {student!r}: "
                                 "earlier items took the rest of its pool")
            for slot, card_id in zip(item.slots(), chosen):
                taken.add(card_id)
                out.append(Question(slot, item.name, self.cards[card_id], item.points, item.partial,
                                    derive_seed(self.seed, student, slot)))
        return out


def _minutes(m: float) -> str:
    """``20 min``, ``1.5 min``, ``30 s``: a duration as the spec gives it."""
    if m < 1:
        return f"{round(m * 60):g} s"
    return f"{round(m, 3):g} min"
