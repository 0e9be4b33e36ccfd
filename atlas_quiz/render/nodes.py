"""The formula tree the parser builds and both layouts (2D and one-line) read.

It is smaller than pylatexenc's node tree on purpose: scripts are attached to
their base, ``\\left ... \\right`` pairs and matched brackets are one node,
environments are tables, and every symbol already carries its character and
its TeX spacing class.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Accent", "Boxed", "Brace", "Formula", "Fenced", "Frac", "Node", "Root", "Row", "Scripts",
    "Stack", "Sym", "Table", "gaps", "kind_of",
]


@dataclass(frozen=True, slots=True)
class Sym:
    """One atom of text. ``kind``: ord, bin, rel, punct, open, close, op, big, space, middle.

    ``op`` is a named function (log, max), ``big`` a big operator (∑, ∫).
    """

    text: str
    kind: str = "ord"
    limits: bool = False  # op/big: limits above and below it in a display


@dataclass(frozen=True, slots=True)
class Row:
    """Atoms side by side, spaced by their classes."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Scripts:
    """A base with a subscript and/or a superscript (the limits of a big operator too)."""

    base: Node
    sub: Node | None = None
    sup: Node | None = None


@dataclass(frozen=True, slots=True)
class Frac:
    """A fraction; without a bar it is the inside of a binomial coefficient."""

    num: Node
    den: Node
    bar: bool = True


@dataclass(frozen=True, slots=True)
class Root:
    """A square root, or an n-th root with ``index``."""

    body: Node
    index: Node | None = None


@dataclass(frozen=True, slots=True)
class Fenced:
    """Content between delimiters that grow with it (``""`` is an invisible one)."""

    left: str
    body: Node
    right: str


@dataclass(frozen=True, slots=True)
class Accent:
    """A mark over (or, for underline, under) its body; ``name`` is a key of ACCENTS."""

    body: Node
    name: str


@dataclass(frozen=True, slots=True)
class Table:
    """An environment's cells. ``kind``: matrix, cases, aligned, gather or substack."""

    rows: tuple[tuple[Node, ...], ...]
    kind: str
    align: str = ""  # per column: l, c or r (array); empty means the kind's default


@dataclass(frozen=True, slots=True)
class Stack:
    """A body with something set above and/or below it (overset, underset, xrightarrow)."""

    body: Node
    over: Node | None = None
    under: Node | None = None


@dataclass(frozen=True, slots=True)
class Brace:
    """An over- or underbrace with its label."""

    body: Node
    label: Node | None
    over: bool


@dataclass(frozen=True, slots=True)
class Boxed:
    """A framed formula."""

    body: Node


Node = Sym | Row | Scripts | Frac | Root | Fenced | Accent | Table | Stack | Brace | Boxed


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed formula: its body and its equation tags (``\\tag{2.2}``)."""

    body: Node
    tags: tuple[str, ...] = ()


def kind_of(node: Node) -> str:
    """The spacing class of a node: a scripted atom keeps its base's, a fence is 'inner'.

    A fraction gets a class of its own ("frac"): TeX's thin space around it
    becomes a whole cell here, so ``η`` and a fraction bar never touch.
    """
    if isinstance(node, Sym):
        return node.kind
    if isinstance(node, Scripts):
        return kind_of(node.base)
    if isinstance(node, Fenced):
        return "inner"
    if isinstance(node, Stack):
        return kind_of(node.body)
    if isinstance(node, Frac) and node.bar:
        return "frac"
    return "ord"


_UNARY_AFTER = {None, "bin", "rel", "open", "punct", "op", "big"}
_NOT_BEFORE_OP = {"open", "inner", "punct", "close", "bin", "rel", "space"}


def _classes(kinds: list[str], names: list[bool]) -> list[str]:
    """TeX's rule: a binary operator with no operand on its left is a sign, as is one before a rel/close.

    A sign is spaced like an ordinary atom except that it sticks to what follows
    (``−log``, ``−½``), which is how a minus sign is read. One departure from
    TeX: after a bare function name (``names[i]``: no scripts) the operator
    stays binary, because a name followed by an operator is used as a value
    (RoPE's ``x ⊙ cos + rotate_half(x) ⊙ sin``); a function of a negated
    argument is written with brackets, ``exp(−x)``.
    """
    out = list(kinds)
    prev: str | None = None
    prev_name = False
    for i, kind in enumerate(kinds):
        if kind == "bin":
            nxt = next((k for k in kinds[i + 1:] if k != "space"), None)
            if (prev in _UNARY_AFTER and not prev_name) or nxt in (None, "rel", "close", "punct"):
                out[i] = "sign"
        if kind != "space":
            prev, prev_name = out[i], names[i]
    return out


def _gap(prev: str, cur: str, script: bool) -> int:
    """Cells between two neighbouring atoms (a simplified table of TeX's inter-atom spacing)."""
    if "space" in (prev, cur) or cur == "middle" or prev == "middle":
        return 0
    if prev in ("op", "big") and cur not in _NOT_BEFORE_OP:
        return 1
    if cur in ("op", "big") and prev in ("ord", "close", "inner", "op", "big", "frac"):
        return 1
    if script:  # scripts are set tight, as TeX's script style drops these spaces
        return 0
    if "frac" in (prev, cur):  # a stacked fraction touching its neighbour reads as one
        return 0 if prev in ("open", "sign") or cur in ("close", "punct") else 1
    if prev == "rel" and cur == "rel":
        return 0
    if "rel" in (prev, cur) or "bin" in (prev, cur):
        return 0 if prev == "open" or cur == "close" else 1
    if prev == "punct" and cur != "close":
        return 1
    return 0


def gaps(items: tuple[Node, ...], script: bool = False) -> tuple[list[int], list[str]]:
    """Cells before each item of a row and each item's class after sign detection."""
    kinds = _classes([kind_of(item) for item in items],
                     [isinstance(item, Sym) and item.kind == "op" for item in items])
    spaces = [0] + [_gap(kinds[i - 1], kinds[i], script) for i in range(1, len(kinds))]
    for i in range(1, len(items)):
        # An operator carrying limits keeps clear of a bracket: "max (…)" reads as max over
        # its subscript, while a bare "max(0, x)" stays a call.
        if kinds[i] in ("inner", "open") and kinds[i - 1] in ("op", "big") \
                and isinstance(items[i - 1], Scripts):
            spaces[i] = 1
    return spaces, kinds
