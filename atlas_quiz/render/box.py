"""A small box model for terminal math: blocks of text lines with a width and a baseline.

Every part of a formula becomes a ``Block``; blocks are joined side by side on
their baselines (``hcat``) or stacked (``vstack``), as TeX does with boxes. Widths
are terminal cells, so Chinese text (two cells) and combining accents (none)
line up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Block", "blank", "cell_width", "delimiter", "hcat", "pad", "text", "vstack"]


def cell_width(s: str) -> int:
    """Terminal cells ``s`` takes: wide (CJK) characters count two, combining marks none."""
    if s.isascii():
        return len(s)
    width = 0
    for ch in s:
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


@dataclass(frozen=True, slots=True)
class Block:
    """Lines padded to one width; ``baseline`` is the row that lines up with its neighbours."""

    lines: tuple[str, ...]
    baseline: int
    width: int

    @property
    def height(self) -> int:
        """Number of rows."""
        return len(self.lines)

    @property
    def depth(self) -> int:
        """Rows below the baseline."""
        return len(self.lines) - self.baseline - 1


def text(s: str) -> Block:
    """A one-line block."""
    return Block((s,), 0, cell_width(s))


def blank(width: int, height: int = 1, baseline: int = 0) -> Block:
    """Empty space of the given size (gaps between atoms, room beside a script)."""
    return Block((" " * width,) * height, baseline, width)


def pad(block: Block, width: int, align: str = "center") -> Block:
    """``block`` widened to ``width`` cells, placed left, right or in the center."""
    extra = width - block.width
    if extra <= 0:
        return block
    left = {"left": 0, "right": extra}.get(align, extra // 2)
    lpad, rpad = " " * left, " " * (extra - left)
    return Block(tuple(lpad + line + rpad for line in block.lines), block.baseline, width)


def _grow(block: Block, above: int, below: int) -> tuple[str, ...]:
    """The lines of ``block`` with blank rows added so its baseline sits ``above`` rows down."""
    empty = " " * block.width
    top = above - block.baseline
    return (empty,) * top + block.lines + (empty,) * (below - block.depth)


def hcat(blocks: Sequence[Block]) -> Block:
    """Blocks side by side, their baselines on one row."""
    if len(blocks) == 1:
        return blocks[0]
    if not blocks:
        return Block(("",), 0, 0)
    above = max(b.baseline for b in blocks)
    below = max(b.depth for b in blocks)
    if above == 0 and below == 0:  # the common case: one line each
        return Block(("".join(b.lines[0] for b in blocks),), 0, sum(b.width for b in blocks))
    columns = [_grow(b, above, below) for b in blocks]
    lines = tuple("".join(parts) for parts in zip(*columns))
    return Block(lines, above, sum(b.width for b in blocks))


def vstack(blocks: Sequence[Block], anchor: int, align: str = "center") -> Block:
    """Blocks one above the other; the result's baseline is that of ``blocks[anchor]``."""
    width = max(b.width for b in blocks)
    lines: list[str] = []
    baseline = 0
    for i, b in enumerate(blocks):
        if i == anchor:
            baseline = len(lines) + b.baseline
        lines.extend(pad(b, width, align).lines)
    return Block(tuple(lines), baseline, width)


# Pieces of a delimiter taller than one row: top, filler, bottom, and the middle
# piece of a brace.
_PIECES = {
    "(": ("⎛", "⎜", "⎝", ""), ")": ("⎞", "⎟", "⎠", ""),
    "[": ("⎡", "⎢", "⎣", ""), "]": ("⎤", "⎥", "⎦", ""),
    "{": ("⎧", "⎪", "⎩", "⎨"), "}": ("⎫", "⎪", "⎭", "⎬"),
    "⌊": ("⎢", "⎢", "⎣", ""), "⌋": ("⎥", "⎥", "⎦", ""),
    "⌈": ("⎡", "⎢", "⎢", ""), "⌉": ("⎤", "⎥", "⎥", ""),
    "|": ("│", "│", "│", ""), "‖": ("‖", "‖", "‖", ""), "∣": ("│", "│", "│", ""),
}
_TWO_ROWS = {"{": "⎰⎱", "}": "⎱⎰", "⟨": "╱╲", "⟩": "╲╱"}


def delimiter(ch: str, height: int, baseline: int) -> Block:
    """A delimiter drawn ``height`` rows tall (``""`` for the invisible ``\\left.``)."""
    if not ch:
        return Block(("",) * height, baseline, 0)
    if height == 1:
        return text(ch)
    if height == 2 and ch in _TWO_ROWS:
        rows = list(_TWO_ROWS[ch])
    elif ch in _PIECES:
        top, fill, bottom, middle = _PIECES[ch]
        rows = [top] + [fill] * (height - 2) + [bottom]
        if middle:
            rows[(height - 1) // 2] = middle
    elif ch in "⟨⟩":
        half = height // 2
        rising, falling = ("╱", "╲") if ch == "⟨" else ("╲", "╱")
        rows = [rising] * half + [falling] * (height - half)
        if height % 2:
            rows[half] = ch
    else:  # anything else stands once, on the baseline
        rows = [" "] * height
        rows[baseline] = ch
    width = cell_width(ch)
    return Block(tuple(r.ljust(width) for r in rows), baseline, width)
