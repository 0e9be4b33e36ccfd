"""The one-line form of a formula: ``(eˣ − e⁻ˣ)/(eˣ + e⁻ˣ)``, for titles, tables and narrow screens.

Scripts become Unicode sub/superscripts where every character has one, else
``_(...)``/``^(...)``; fractions become ``a/b`` with brackets where needed.
"""

from __future__ import annotations

import unicodedata

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

__all__ = ["is_atomic", "linear", "runs_on", "script_text"]


def linear(node: Node | None, script: bool = False) -> str:
    """``node`` as one line of text; ``script`` sets it tight, as inside a sub/superscript."""
    if node is None:
        return ""
    return _RENDERERS[type(node)](node, script)


def is_atomic(node: Node) -> bool:
    """True when ``node`` reads as one unit, so ``a/b`` needs no brackets around it."""
    if isinstance(node, Sym):
        return node.kind in ("ord", "op") and " " not in node.text.strip()
    if isinstance(node, (Fenced, Root, Accent)):
        return True
    if isinstance(node, Scripts):
        return is_atomic(node.base)
    if isinstance(node, Row):
        _, kinds = gaps(node.items)
        return bool(node.items) and all(k in ("ord", "inner") for k in kinds) \
            and all(is_atomic(i) for i in node.items)
    return False


def script_text(node: Node, table: dict[str, str], mark: str) -> str:
    """A script as Unicode sub/superscripts, else ``_x`` or ``_(...)`` (``mark`` is ``_`` or ``^``)."""
    inner = linear(node, script=True).strip()
    unicode = to_script(inner, table)
    if unicode is not None:
        return unicode
    if len(inner) == 1 or inner.isalnum():
        return mark + inner
    return f"{mark}({inner})"


def _sym(node: Sym, script: bool) -> str:
    return node.text


def _row(node: Row, script: bool) -> str:
    spaces, kinds = gaps(node.items, script)
    out = []
    for i, (gap, item) in enumerate(zip(spaces, node.items)):
        # "W_out x", not "W_outx": a script written with _ or ^ needs a space to end it.
        prev = node.items[i - 1] if i else None
        if not gap and prev is not None and (runs_on(prev, kinds[i]) or (
                kinds[i] in _RUN_ON_KINDS and _spelled_script(prev))):
            gap = 1
        out.append(" " * gap + linear(item, script))
    return "".join(out)


def _spelled_script(node: Node) -> bool:
    """True when ``node`` ends in a script written out as ``_x``/``^(...)`` (no Unicode form)."""
    if not isinstance(node, Scripts) or (node.sub is None and node.sup is None):
        return False
    last, table = (node.sup, SUPERSCRIPTS) if node.sup is not None else (node.sub, SUBSCRIPTS)
    return to_script(linear(last, script=True).strip(), table) is None


_RUN_ON_KINDS = ("ord", "op", "big", "frac")


def runs_on(node: Node, next_kind: str) -> bool:
    """True when ``node`` ends in a Unicode subscript holding a comma (``Aᵢ,ₖ``) and an
    operand of class ``next_kind`` follows it.

    The comma sits on the baseline, so an atom set right after it would read as
    the start of a new item (``Aᵢ,ₖBₖ,ⱼ``): both layouts keep a cell between them.
    """
    if next_kind not in _RUN_ON_KINDS or not isinstance(node, Scripts) or node.sub is None \
            or node.sup is not None:
        return False
    return "," in (to_script(linear(node.sub, script=True).strip(), SUBSCRIPTS) or "")


def _scripts(node: Scripts, script: bool) -> str:
    out = linear(node.base, script)
    if isinstance(node.base, (Frac, Root)):  # (√x)², not √x², which reads as √(x²)
        out = f"({out})"
    if node.sub is not None:
        out += script_text(node.sub, SUBSCRIPTS, "_")
    if node.sup is not None:
        out += script_text(node.sup, SUPERSCRIPTS, "^")
    return out


_DIFFERENTIALS = {"d", "∂", "δ", "∇", "Δ"}


def _wrapped(node: Node, script: bool, denominator: bool = False) -> str:
    """``node``'s text, bracketed unless atomic.

    After a slash a product is ambiguous (``1/2πσ``), so a denominator goes
    unbracketed only when it is one atom or a differential such as ``∂xⱼ``.
    """
    text = linear(node, script)
    atomic = is_atomic(node)
    if denominator and isinstance(node, Row):
        first = node.items[0] if node.items else None
        atomic = atomic and len(node.items) == 2 and isinstance(first, Sym) \
            and first.text in _DIFFERENTIALS
    return text if atomic else f"({text})"


def _frac(node: Frac, script: bool) -> str:
    if not node.bar:  # the inside of a binomial: the brackets come from its Fenced
        return f"{linear(node.num, script)} choose {linear(node.den, script)}"
    return f"{_wrapped(node.num, script)}/{_wrapped(node.den, script, denominator=True)}"


def _root(node: Root, script: bool) -> str:
    body = _wrapped(node.body, script)
    if node.index is None:
        return "√" + body
    index = linear(node.index, script=True)
    return (to_script(index, SUPERSCRIPTS) or f"({index})") + "√" + body


def _fenced(node: Fenced, script: bool) -> str:
    left, right = node.left, node.right
    if left == "{" and not right:  # cases: close what it opens, on one line
        right = "}"
    body = _cells(node.body, script) if isinstance(node.body, Table) else linear(node.body, script)
    return left + body + right


def _accent(node: Accent, script: bool) -> str:
    body = linear(node.body, script)
    combining = ACCENTS[node.name][0]
    if len(body) == 1:
        return unicodedata.normalize("NFC", body + combining)
    return f"{node.name}({body})"


def _cells(node: Table, script: bool) -> str:
    """A table's cells on one line: ``a, b; c, d`` (cases and aligned rows read on, unbracketed)."""
    row_sep = ", " if node.kind == "substack" else "; "
    return row_sep.join(_row_cells(node.kind, [linear(c, script).strip() for c in row])
                        for row in node.rows)


def _row_cells(kind: str, cells: list[str]) -> str:
    """One table row's cells joined as it reads: ``a = b`` when aligned, ``x, x > 0`` in cases."""
    cells = [c for c in cells if c]
    if kind in ("aligned", "gather"):
        return " ".join(cells)
    if kind == "cases":
        return "".join(c + (" " if c.endswith(",") else ", ") for c in cells[:-1]) + \
            (cells[-1] if cells else "")
    return ", ".join(cells)


def _table(node: Table, script: bool) -> str:
    rows = _cells(node, script)
    return f"[{rows}]" if node.kind == "matrix" else rows


def _stack(node: Stack, script: bool) -> str:
    return _scripts(Scripts(node.body, node.under, node.over), script)


def _brace(node: Brace, script: bool) -> str:
    body = linear(node.body, script)
    if node.label is None:
        return body
    return f"{body}{'^' if node.over else '_'}({linear(node.label, True)})"


def _boxed(node: Boxed, script: bool) -> str:
    return f"[{linear(node.body, script)}]"


_RENDERERS = {
    Sym: _sym, Row: _row, Scripts: _scripts, Frac: _frac, Root: _root, Fenced: _fenced,
    Accent: _accent, Table: _table, Stack: _stack, Brace: _brace, Boxed: _boxed,
}
