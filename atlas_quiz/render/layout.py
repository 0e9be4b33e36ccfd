"""The formula tree laid out in two dimensions: stacked fractions, limits, tall delimiters.

``style`` follows TeX's: ``display`` (the formula itself: limits above and below
big operators), ``text`` (numerators, denominators and matrix cells: limits
beside), ``script`` (inside sub/superscripts: tight, fractions on one line).
"""

from __future__ import annotations

import unicodedata

from .box import Block, blank, delimiter, hcat, pad, text, vstack
from .linear import linear, runs_on
from .nodes import (
    Accent,
    Boxed,
    Brace,
    Fenced,
    Frac,
    Node,
    Root,
    Row,
    Scripts,
    Stack,
    Sym,
    Table,
    gaps,
)
from .symbols import ACCENTS, SUBSCRIPTS, SUPERSCRIPTS, to_script

__all__ = ["layout"]


def layout(node: Node, style: str = "display") -> Block:
    """``node`` as a block of terminal text in the given TeX style."""
    return _LAYOUTS[type(node)](node, style)


def _sym(node: Sym, style: str) -> Block:
    return text(node.text)


def _row(node: Row, style: str) -> Block:
    spaces, kinds = gaps(node.items, style == "script")
    for i in range(1, len(node.items)):
        if not spaces[i] and runs_on(node.items[i - 1], kinds[i]):
            spaces[i] = 1
    blocks = [layout(item, style) for item in node.items]
    middles = [i for i, item in enumerate(node.items) if isinstance(item, Sym) and item.kind == "middle"]
    if middles:  # \middle| grows to the height of the rest of its row
        rest = [b for i, b in enumerate(blocks) if i not in middles] or [text("")]
        above, below = max(b.baseline for b in rest), max(b.depth for b in rest)
        for i in middles:
            blocks[i] = delimiter(node.items[i].text, above + below + 1, above)
    parts: list[Block] = []
    for gap, block in zip(spaces, blocks):
        if gap:
            parts.append(blank(gap))
        parts.append(block)
    return hcat(parts)


def _unicode(block: Block | None, table: dict[str, str]) -> str | None:
    """A one-line script as Unicode sub/superscript characters, if every character has one."""
    if block is None or block.height != 1:
        return None
    return to_script(block.lines[0].strip(), table)  # x^{\,p}: the spacing is not part of it


def _scripts(node: Scripts, style: str) -> Block:
    base = node.base
    if style == "display" and isinstance(base, Sym) and base.limits:
        return _limits(node)
    # A power of a root is bracketed: (√x)², not √x², which reads as √(x²).
    body = layout(Fenced("(", base, ")") if isinstance(base, Root) else base, style)
    sub = layout(node.sub, "script") if node.sub is not None else None
    sup = layout(node.sup, "script") if node.sup is not None else None
    if body.height == 1:
        usub, usup = _unicode(sub, SUBSCRIPTS), _unicode(sup, SUPERSCRIPTS)
        if (sub is None or usub) and (sup is None or usup):
            return text(body.lines[0] + (usub or "") + (usup or ""))
    return hcat([body, _script_column(body, sub, sup)])


def _script_column(body: Block, sub: Block | None, sup: Block | None) -> Block:
    """Raised and lowered scripts in one column: above and below a one-line base, beside a tall one."""
    tall = body.height > 1
    # Rows counted from the base's top row. Beside a tall base the superscript ends on its
    # top row, unless that row is the baseline ((μ_{q,i} − μ)^2): then it goes above it.
    sup_bottom = 0 if tall and body.baseline > 0 else -1
    sub_top = body.height - 1 if tall else 1
    top = sup_bottom - sup.height + 1 if sup else 0
    bottom = sub_top + sub.height - 1 if sub else body.height - 1
    width = max(b.width for b in (sub, sup) if b is not None)
    rows = [" " * width] * (bottom - top + 1)
    if sup:
        for k, line in enumerate(pad(sup, width, "left").lines):
            rows[sup_bottom - sup.height + 1 + k - top] = line
    if sub:
        for k, line in enumerate(pad(sub, width, "left").lines):
            rows[sub_top + k - top] = line
    return Block(tuple(rows), body.baseline - top, width)


def _limits(node: Scripts) -> Block:
    """A big operator with its limits centered above and below it."""
    parts = [layout(node.base, "display")]
    anchor = 0
    if node.sup is not None:
        parts.insert(0, layout(node.sup, "script"))
        anchor = 1
    if node.sub is not None:
        parts.append(layout(node.sub, "script"))
    return vstack(parts, anchor)


def _frac(node: Frac, style: str) -> Block:
    if style == "script":  # a stacked fraction inside a script would be unreadable
        return text(linear(node, script=True))
    num, den = layout(node.num, "text"), layout(node.den, "text")
    if not node.bar:
        return vstack([num, den], 0)
    bar = text("─" * (max(num.width, den.width) + 2))
    return vstack([num, bar, den], 1)


def _root(node: Root, style: str) -> Block:
    if style == "script":
        return text(linear(node, script=True))
    body = layout(node.body, style)
    h, w = body.height, body.width
    if h == 1 and w <= 1:
        root = text("√" + body.lines[0])
    elif h == 1:
        root = Block((" " + "_" * w, "√" + body.lines[0]), 1, w + 1)
    else:  # a diagonal stroke as tall as the body, its vinculum above
        left = h + 2
        lines = [" " * (h + 1) + "_" * (w + 1)]
        for i, line in enumerate(body.lines):
            col = h - i
            stroke = "╲╱" if i == h - 1 else "╱"
            start = col - 1 if i == h - 1 else col
            lines.append(" " * start + stroke + " " * (left - start - len(stroke)) + line)
        root = Block(tuple(lines), body.baseline + 1, left + w)
    if node.index is None:
        return root
    index = layout(node.index, "script")
    small = _unicode(index, SUPERSCRIPTS)
    if small is not None and root.height <= 2:  # ³√x: the index written small, on the radical's row
        return hcat([Block((small,), root.baseline - root.height + 1, len(small)), root])
    bottom = root.height - 2  # the index ends just above the root's lowest row
    return hcat([Block(index.lines, root.baseline - bottom + index.height - 1, index.width), root])


def _fenced(node: Fenced, style: str) -> Block:
    body = layout(node.body, style)
    if isinstance(node.body, Table):  # matrix entries keep a space from their brackets
        body = hcat([blank(1 if node.left else 0), body, blank(1 if node.right else 0)])
    elif not isinstance(node.body, Frac) and (body.baseline == 0 or body.depth == 0):
        # Only content reaching both above and below its baseline (a fraction, limits) makes
        # brackets grow: growing them around a lone subscript draws a box instead of (x_i).
        return hcat([text(node.left), body, text(node.right)])
    h, baseline = body.height, body.baseline
    return hcat([delimiter(node.left, h, baseline), body, delimiter(node.right, h, baseline)])


def _accent(node: Accent, style: str) -> Block:
    body = layout(node.body, style)
    combining, mark, fill = ACCENTS[node.name]
    if body.height == 1 and body.width == 1 and len(body.lines[0]) == 1:
        # Precomposed where Unicode has it (ŷ, ẋ): one glyph renders better than two.
        return text(unicodedata.normalize("NFC", body.lines[0] + combining))
    w = body.width
    if mark in "→←":
        line = "─" * (w - 1) + "→" if mark == "→" else "←" + "─" * (w - 1)
    else:
        line = mark * w if fill else mark
    marks = pad(text(line), w)
    if node.name == "underline":
        return vstack([body, marks], 0)
    return vstack([marks, body], 1)


def _table(node: Table, style: str) -> Block:
    cell_style = "script" if style == "script" else "text"
    grid = [[layout(cell, cell_style) for cell in row] for row in node.rows]
    ncols = max(len(row) for row in grid)
    widths = [max((row[j].width for row in grid if j < len(row)), default=0) for j in range(ncols)]
    aligns, seps = _column_rules(node, ncols)
    rows: list[Block] = []
    for cells in grid:
        parts: list[Block] = []
        for j in range(ncols):
            if j and seps[j - 1]:
                parts.append(blank(seps[j - 1]))
            parts.append(pad(cells[j] if j < len(cells) else blank(0), widths[j], aligns[j]))
        rows.append(hcat(parts))
    spaced = rows[:1]
    for above, below in zip(rows, rows[1:]):
        if above.depth and below.baseline:  # a denominator would touch the next numerator
            spaced.append(blank(0))
        spaced.append(below)
    out = vstack(spaced, 0, "left" if node.kind in ("aligned", "cases") else "center")
    return Block(out.lines, (out.height - 1) // 2, out.width)


def _column_rules(node: Table, ncols: int) -> tuple[list[str], list[int]]:
    """Per column alignment, and the cells between neighbouring columns, for each kind of table."""
    if node.kind == "aligned":  # rl rl ...: "a" then "= b" around the alignment point
        return (["right" if j % 2 == 0 else "left" for j in range(ncols)],
                [1 if j % 2 == 0 else 4 for j in range(ncols)])
    if node.kind == "cases":
        return ["left"] * ncols, [2] * ncols
    named = {"l": "left", "c": "center", "r": "right"}
    aligns = [named[node.align[j]] if j < len(node.align) else "center" for j in range(ncols)]
    return aligns, [2] * ncols


def _stack(node: Stack, style: str) -> Block:
    over = layout(node.over, "script") if node.over is not None else None
    under = layout(node.under, "script") if node.under is not None else None
    body = layout(node.body, style)
    width = max(b.width for b in (over, under, body) if b is not None)
    if isinstance(node.body, Sym) and node.body.text in ("→", "←"):  # \xrightarrow outgrows its label
        width += 2
        body = text("─" * (width - 1) + "→" if node.body.text == "→" else "←" + "─" * (width - 1))
    parts = [b for b in (over, body, under) if b is not None]
    return vstack(parts, 1 if over is not None else 0)


def _brace(node: Brace, style: str) -> Block:
    body = layout(node.body, style)
    w = body.width
    left, tip, right = ("╭", "┴", "╮") if node.over else ("╰", "┬", "╯")
    if w == 1:
        line = tip
    elif w == 2:
        line = left + right
    else:
        half = (w - 3) // 2
        line = left + "─" * half + tip + "─" * (w - 3 - half) + right
    label = layout(node.label, "script") if node.label is not None else None
    parts = [body, text(line)] + ([label] if label else [])
    if node.over:
        parts.reverse()
    return vstack(parts, parts.index(body))


def _boxed(node: Boxed, style: str) -> Block:
    body = layout(node.body, style)
    w = body.width
    lines = ("┌" + "─" * (w + 2) + "┐", *("│ " + line + " │" for line in body.lines),
             "└" + "─" * (w + 2) + "┘")
    return Block(lines, body.baseline + 1, w + 4)


_LAYOUTS = {
    Sym: _sym, Row: _row, Scripts: _scripts, Frac: _frac, Root: _root, Fenced: _fenced,
    Accent: _accent, Table: _table, Stack: _stack, Brace: _brace, Boxed: _boxed,
}
