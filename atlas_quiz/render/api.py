"""The renderer's two entry points: a formula laid out in 2D, or on one line."""

from __future__ import annotations

from .box import Block, blank, cell_width, hcat, text, vstack
from .layout import layout
from .linear import linear
from .nodes import Formula, Node, Row, gaps, kind_of
from .parse import parse

__all__ = ["render_inline", "render_latex"]

_TAG_GAP = "    "  # \qquad before an equation number, as LaTeX sets it


def render_latex(source: str, *, width: int | None = None) -> str:
    """``source`` as terminal text: fractions stacked, limits above and below, tall delimiters.

    Lines carry no trailing spaces. Given a ``width``, a formula wider than it
    is broken before top-level relations (then binary operators) with its
    continuation lines indented; one that cannot be broken to fit comes back
    in the one-line form of ``render_inline``.
    """
    formula = parse(source)
    tag = _TAG_GAP + " ".join(f"({t})" for t in formula.tags) if formula.tags else ""
    block = layout(formula.body)
    if width is None or block.width + cell_width(tag) <= width:
        return _text(hcat([block, text(tag)]) if tag else block)
    lines = _wrap(formula.body, width - cell_width(tag))
    if lines is None:
        return _inline(formula)
    if tag:
        lines[-1] = hcat([lines[-1], text(tag)])
    return _text(vstack(lines, 0, "left"))


def render_inline(source: str) -> str:
    """``source`` on one line (``(eˣ − e⁻ˣ)/(eˣ + e⁻ˣ)``), for titles, tables and lists."""
    return _inline(parse(source))


def _inline(formula: Formula) -> str:
    tags = "".join(f"  ({t})" for t in formula.tags)
    return " ".join(linear(formula.body).split("\n")).strip() + tags


def _text(block: Block) -> str:
    return "\n".join(line.rstrip() for line in block.lines)


def _pieces(items: list[Node], kinds: list[str], at: str) -> list[list[Node]]:
    """``items`` cut before every atom of class ``at`` (never before the first)."""
    pieces: list[list[Node]] = [[]]
    for item, kind in zip(items, kinds):
        if kind == at and pieces[-1]:
            pieces.append([])
        pieces[-1].append(item)
    return pieces


def _line(items: list[Node]) -> Block:
    """One line of a broken formula; a line that starts with an operator keeps its spacing."""
    if len(items) > 1 and kind_of(items[0]) == "bin":
        return hcat([layout(items[0]), blank(1), layout(Row(tuple(items[1:])))])
    return layout(Row(tuple(items)))


def _wrap(body: Node, width: int) -> list[Block] | None:
    """Break a top-level row into lines no wider than ``width``, or None if it cannot be done."""
    if not isinstance(body, Row) or len(body.items) < 2:
        return None
    items = list(body.items)
    _, kinds = gaps(body.items)
    kind_at = {id(item): kind for item, kind in zip(items, kinds)}
    pieces: list[list[Node]] = []
    for piece in _pieces(items, kinds, "rel"):
        if _line(piece).width <= width:
            pieces.append(piece)
        else:  # too wide between two relations: break it at its binary operators too
            pieces.extend(_pieces(piece, [kind_at[id(i)] for i in piece], "bin"))
    first_rel = next((i for i, k in enumerate(kinds) if k == "rel"), 0)
    indent = layout(Row(tuple(items[:first_rel]))).width + 1 if first_rel else 2
    if indent > width // 2:
        indent = 2
    lines: list[list[Node]] = [pieces[0]]
    for piece in pieces[1:]:
        room = width - (indent if len(lines) > 1 else 0)
        if _line(lines[-1] + piece).width <= room:
            lines[-1] = lines[-1] + piece
        else:
            lines.append(piece)
    blocks = [_line(lines[0])] + [hcat([blank(indent), _line(ln)]) for ln in lines[1:]]
    if any(b.width > width for b in blocks):
        return None
    return blocks
