"""Text that wraps between Chinese characters too, not only at spaces.

Rich and Textual break lines at whitespace only, so a Chinese sentence (which
has no spaces) moves whole onto the next line and leaves most of the line
before it empty. Here a line may also break between two wide (CJK) characters,
as Unicode's line-breaking rules (UAX #14) allow, except that closing
punctuation (``，。）``) never starts a line and opening punctuation (``（《``)
never ends one. Latin words still break at spaces only.

``uniseg`` implements all of UAX #14, but costs ~50 ms to import on the
first card and 11 MB; the one rule the cards need fits in a regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

__all__ = ["WrappedText", "break_offsets", "wrapped"]

# East Asian wide characters: CJK ideographs and radicals, kana, Hangul, full-width forms.
_WIDE = "\u1100-\u115f\u2e80-\u303e\u3041-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f" \
        "\uff01-\uff60\uffe0-\uffe6\U00020000-\U0003fffd"
_OPEN = "（《「『【〈〔［｛“‘"
_CLOSE = "，。、；：？！）》」』】〉〕］｝”’…"
# A unit that must not be split: opening punctuation, then one wide character or one
# run of other non-space characters, then closing punctuation and trailing spaces.
_UNIT = re.compile(rf"[{_OPEN}]*(?:[{_WIDE}]|[^\s{_WIDE}]+)[{_CLOSE}]*\s*|\s+")


def _units(text: str) -> Iterator[tuple[int, str]]:
    """(start, unit) for each unbreakable piece of ``text``, trailing spaces included."""
    pos = 0
    while (match := _UNIT.match(text, pos)) is not None and match.end() > pos:
        yield pos, match.group(0)
        pos = match.end()


def break_offsets(text: str, width: int) -> list[int]:
    """Where to break one line of ``text`` so that no piece is wider than ``width`` cells.

    The same greedy fill as Rich's, over units that may end between two CJK
    characters; a unit wider than the line is folded by cells.
    """
    breaks: list[int] = []
    used = 0
    for start, unit in _units(text):
        need = cell_len(unit.rstrip())
        if need <= width - used:
            used += cell_len(unit)
            continue
        if need > width:  # longer than a whole line: fold it
            for last, piece in _with_last(chop_cells(unit, width)):
                if start:
                    breaks.append(start)
                if last:
                    used = cell_len(piece)
                else:
                    start += len(piece)
        elif used and start:
            breaks.append(start)
            used = cell_len(unit)
    return breaks


def _with_last(items: list[str]) -> Iterator[tuple[bool, str]]:
    return ((i == len(items) - 1, item) for i, item in enumerate(items))


class WrappedText:
    """A Rich renderable of ``text``, broken into lines by :func:`break_offsets`."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def lines(self, width: int) -> list[Text]:
        """The lines of the text at ``width`` cells, trailing spaces removed."""
        out: list[Text] = []
        for line in self.text.split("\n", allow_blank=True):
            for part in line.divide(break_offsets(line.plain, max(1, width))):
                part.rstrip()
                out.append(part)
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        """Each line rendered as is: it already fits, so Rich must not wrap it again."""
        for line in self.lines(options.max_width):
            yield from line.render(console)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """At least the widest unbreakable unit, at most the longest line."""
        plain = self.text.plain
        widest = max((cell_len(u.rstrip()) for _, u in _units(plain)), default=0)
        longest = max((cell_len(line) for line in plain.split("\n")), default=0)
        return Measurement(widest, longest).clamp(max_width=options.max_width)


def wrapped(text: Text | str, style: str = "") -> WrappedText:
    """``text`` (a string takes ``style``) as a renderable that wraps CJK per character."""
    return WrappedText(text if isinstance(text, Text) else Text(text, style=style))
