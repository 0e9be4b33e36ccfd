"""The card model: plain dataclasses with ``to_dict``/``from_dict``, standard library only."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .generators import InputSpec, parse_generator

__all__ = ["KINDS", "GRADED_KINDS", "Card", "Deck", "Reject", "chapter_of", "seed_of"]

KINDS = ("expr", "shape", "output", "symbolic", "kernel", "recall")
GRADED_KINDS = frozenset(KINDS) - {"recall"}


@dataclass(frozen=True)
class Reject:
    """A known wrong answer, and why it is wrong (named in the feedback when matched)."""

    answer: str
    why: str = ""


@dataclass(frozen=True)
class Card:
    """One card of a deck. Fields beyond the common ones belong to particular kinds."""

    id: str
    kind: str
    title: str
    title_zh: str
    source: str
    prompt: str
    deck: str = ""
    tags: tuple[str, ...] = ()
    latex: str = ""
    prompt_zh: str = ""
    explain: str = ""
    explain_zh: str = ""
    hint: str = ""
    hint_zh: str = ""
    # expr and kernel: named inputs, constants, dimension rules and the reference
    inputs: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    dims: dict[str, Any] = field(default_factory=dict)
    reference: str = ""
    stress: dict[str, str] = field(default_factory=dict)
    rtol: float | None = None
    atol: float | None = None
    allow_promotion: bool = False
    inplace: bool = False
    trials: int = 4
    # kernel: the given signature, the launcher that runs it, the torch spec
    signature: str = ""
    launcher: str = ""
    spec: str = ""
    # shape and output: the code whose result is asked for; parameters drawn per review
    code: str = ""
    params: dict[str, tuple[int, int]] = field(default_factory=dict)
    # symbolic and recall: the expected formula or text
    answer: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    # every graded kind: answers that must pass and answers that must fail
    accept: tuple[str, ...] = ()
    reject: tuple[Reject, ...] = ()

    @property
    def graded(self) -> bool:
        """Whether an answer to this card is checked by the grader (not self-rated)."""
        return self.kind in GRADED_KINDS

    @property
    def seed_file(self) -> str:
        """The seed text the card comes from, e.g. ``000``."""
        return seed_of(self.source)

    @property
    def chapter(self) -> str:
        """The seed and chapter, e.g. ``000 §15`` (the section number's first part)."""
        return chapter_of(self.source)

    def known_answer(self) -> str:
        """A correct answer as a learner would give it: the reference (for a kernel, its body),
        the formula or text, else the first accepted answer; ``""`` when the card carries none."""
        if self.kind in ("expr", "kernel"):
            return self.reference
        if self.kind in ("symbolic", "recall"):
            return self.answer
        return self.accept[0] if self.accept else ""

    def input_specs(self) -> dict[str, InputSpec]:
        """The parsed generators of the inputs (the loader has validated them)."""
        return {name: parse_generator(text) for name, text in self.inputs.items()}

    def scope(self) -> list[tuple[str, str]]:
        """What an answer can use, as (name, description) pairs for the learner."""
        out: list[tuple[str, str]] = []
        for name, spec in self.input_specs().items():
            out.append((name, f"{spec.shape_text()} {spec.dtype}"))
        for name, value in self.constants.items():
            out.append((name, f"= {value!r}"))
        return out

    def dim_symbols(self) -> tuple[str, ...]:
        """The dimension symbols in scope as ints (``B``, ``d``, ...)."""
        seen: dict[str, None] = {}
        for spec in self.input_specs().values():
            for s in spec.symbols:
                if s not in self.constants:
                    seen.setdefault(s, None)
        for s in self.dims:
            seen.setdefault(s, None)
        for spec_text in self.stress.values():
            for s in parse_generator(spec_text).symbols:
                if s not in self.constants:
                    seen.setdefault(s, None)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        d = asdict(self)
        d["params"] = {k: list(v) for k, v in self.params.items()}
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        """Rebuild a card from :meth:`to_dict` output (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown card fields: {', '.join(sorted(extra))}")
        d = dict(data)
        d["tags"] = tuple(d.get("tags", ()))
        d["accept"] = tuple(d.get("accept", ()))
        d["reject"] = tuple(r if isinstance(r, Reject) else Reject(**r) for r in d.get("reject", ()))
        d["params"] = {k: (int(v[0]), int(v[1])) for k, v in d.get("params", {}).items()}
        return cls(**d)

    def content_hash(self) -> str:
        """A hash of everything a learner or the grader sees: changes when the card is edited."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_changes(self, **changes: Any) -> Card:
        """A copy with some fields replaced."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Deck:
    """One deck file: its name (Anki subdeck), and its cards in file order."""

    key: str  # file stem, e.g. "000_07_normalization"
    name: str
    name_zh: str = ""
    path: str = ""
    cards: tuple[Card, ...] = ()


_SEED = re.compile(r"^\s*(\d{3})")
_SECTION = re.compile(r"§\s*([0-9A-Za-z]+)")


def seed_of(source: str) -> str:
    """The seed file number of a ``source`` like ``000 §15.1`` (``""`` when absent)."""
    m = _SEED.match(source)
    return m.group(1) if m else ""


def chapter_of(source: str) -> str:
    """``000 §15.1`` -> ``000 §15``; a source without a section is its seed."""
    seed = seed_of(source)
    m = _SECTION.search(source)
    return f"{seed} §{m.group(1)}" if m else seed
