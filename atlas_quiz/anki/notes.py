"""Turning a card into the HTML fields of an Anki note: escaped text, MathJax, highlighted code."""

from __future__ import annotations

import html
import re
import textwrap

from ..cards import Card
from ..cards.text import KIND_ASK, prose

__all__ = ["card_fields", "code_html", "mathjax", "note_tags", "shown_answer"]


def mathjax(latex: str, *, display: bool = True) -> str:
    """LaTeX between MathJax delimiters, HTML-escaped; ``}}`` split so no template sees a field end."""
    body = re.sub(r"\}(?=\})", "} ", latex.strip())
    body = re.sub(r"\{(?=\{)", "{ ", body)
    body = html.escape(body, quote=False)
    return rf"\[{body}\]" if display else rf"\({body}\)"


def code_html(code: str) -> str:
    """Python highlighted with inline styles (Anki has no stylesheet for pygments classes)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return highlight(code.strip("\n"), PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False,
                                                                    style="friendly"))


def _text(s: str) -> str:
    """Plain text as HTML: reflowed paragraphs, escaped, `code` spans and $math$ kept readable."""
    out = html.escape(prose(s), quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"(?<!\\)\$([^$\n]+)\$", lambda m: r"\(" + m.group(1) + r"\)", out)
    return out.replace("\n", "<br>")


def _scope(card: Card) -> str:
    rows = card.scope()
    if not rows:
        return ""
    dims = card.dim_symbols()
    body = "".join(f"<tr><td><b>{html.escape(n)}</b></td><td>{html.escape(d)}</td></tr>" for n, d in rows)
    if dims:
        body += f"<tr><td colspan=2>dimensions as ints: {html.escape(', '.join(dims))}</td></tr>"
    return f"<table>{body}</table>"


def shown_answer(card: Card) -> str:
    """The answer the back shows: the card's known answer, a kernel's as a whole function."""
    if card.kind == "kernel":
        body = textwrap.indent(card.reference.strip(chr(10)), "    ")
        return f"@triton.jit\n{card.signature.rstrip()}\n{body}"
    return card.known_answer()


def card_fields(card: Card, computed_answer: str = "") -> list[str]:
    """The note's fields in :data:`FIELDS` order. ``card`` should be instantiated (fixed numbers)."""
    answer = shown_answer(card) or computed_answer
    if card.kind in ("expr", "kernel", "shape", "output"):
        answer_html = code_html(answer)
    elif card.kind == "symbolic":
        answer_html = f"<code>{html.escape(answer)}</code>"
    else:
        answer_html = _text(answer)
    accepted = [a for a in card.accept if a != answer]
    if card.kind == "symbolic":
        accepted_html = "<br>".join(f"<code>{html.escape(a)}</code>" for a in accepted)
    else:
        accepted_html = "".join(code_html(a) for a in accepted) if card.kind != "recall" else ""
    code = card.code or (f"@triton.jit\n{card.signature.rstrip()}\n    ...  # your body\n\n{card.launcher}"
                         if card.kind == "kernel" else "")
    return [
        html.escape(card.id), _text(card.title), _text(card.title_zh),
        mathjax(card.latex) if card.latex else "",
        _prompt(card), _text(card.prompt_zh), _scope(card),
        code_html(code) if code else "",
        answer_html, accepted_html, _text(card.explain), _text(card.explain_zh),
        html.escape(card.source), html.escape(card.kind), _hint(card),
    ]


def _prompt(card: Card) -> str:
    """The prompt, then what the kind asks for. It rides in the Prompt field: a new field would
    change the note type, and notes already imported would no longer update."""
    ask = KIND_ASK.get(card.kind, "")
    return _text(card.prompt) + (f'<div class="ask"><i>{_text(ask)}</i></div>' if ask else "")


def _hint(card: Card) -> str:
    """The hint in both languages, behind the "Hint" link Anki draws for {{hint:Hint}} on the front."""
    parts = [_text(card.hint)] + ([f'<div class="hint-zh">{_text(card.hint_zh)}</div>'] if card.hint_zh else [])
    return "".join(parts) if card.hint else ""


def _tag(s: str) -> str:
    return re.sub(r"\s+", "_", s.strip())


def note_tags(card: Card) -> list[str]:
    """Anki tags: the card's own, plus its kind and source (Anki tags cannot hold spaces)."""
    tags = [_tag(t) for t in card.tags if t.strip()]
    tags.append(f"kind::{card.kind}")
    if card.seed_file:
        tags.append(f"source::{card.seed_file}")
        chapter = card.chapter.split("§")[-1] if "§" in card.chapter else ""
        if chapter:
            tags.append(f"source::{card.seed_file}::ch{chapter}")
    return sorted(set(tags))
