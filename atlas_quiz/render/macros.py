"""What each LaTeX macro and environment becomes in the formula tree.

An unknown macro never fails: a symbol pylatexenc knows becomes its
character, anything else its name in upright text, spaced like a function.
"""

from __future__ import annotations

import re

from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
)

from .box import cell_width
from .linear import linear
from .nodes import Accent, Boxed, Brace, Fenced, Frac, Node, Root, Row, Scripts, Stack, Sym
from .symbols import ACCENTS, BIG_OPERATORS, FONTS, FUNCTIONS, SPACES, styled, symbol

__all__ = ["delimiter_char", "environment", "macro"]

_TEXT = {"text", "textrm", "textnormal", "textit", "texttt", "textsf", "textup", "textmd", "mbox",
         "hbox", "emph", "textbf", "textsc", "textsl"}
_IGNORED = {"displaystyle", "textstyle", "scriptstyle", "scriptscriptstyle", "label", "nonumber",
            "notag", "color", "vphantom", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "bigm",
            "Bigl", "Bigr", "Bigm", "biggl", "biggr", "biggm", "Biggl", "Biggr", "Biggm",
            "displaylimits", "allowbreak", "nobreak", "strut", "mathstrut", "hline", "newline",
            "DeclareMathOperator", "newcommand", "renewcommand", "rule"}
_BODY_ONLY = {"textcolor", "cancel", "bcancel", "xcancel", "smash", "mathrlap", "mathllap",
              "mathclap", "ensuremath", "colorbox", "fbox"}
_CLASS_OF = {"mathop": "op", "mathbin": "bin", "mathrel": "rel", "mathord": "ord",
             "mathopen": "open", "mathclose": "close", "mathpunct": "punct"}
_NEGATED = {"=": "≠", "∈": "∉", "≡": "≢", "∼": "≁", "<": "≮", ">": "≯", "≤": "≰", "≥": "≱",
            "⊂": "⊄", "⊆": "⊈", "≈": "≉", "∣": "∤", "∥": "∦", "≅": "≇", "∃": "∄"}
_MATRICES = {"matrix": ("", ""), "smallmatrix": ("", ""), "pmatrix": ("(", ")"),
             "bmatrix": ("[", "]"), "Bmatrix": ("{", "}"), "vmatrix": ("|", "|"),
             "Vmatrix": ("‖", "‖")}
_ALIGNED = {"aligned", "align", "alignat", "alignedat", "split", "eqnarray", "flalign"}
_GATHERED = {"gather", "gathered", "multline"}
_TEXT_ESCAPES = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}",
                 "textbackslash": "∖", "textasciitilde": "~", "textasciicircum": "^"}
_DELIMITERS = {"{": "{", "}": "}", "|": "‖", "lbrace": "{", "rbrace": "}", "langle": "⟨",
               "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
               "vert": "|", "lvert": "|", "rvert": "|", "Vert": "‖", "lVert": "‖", "rVert": "‖",
               "lbrack": "[", "rbrack": "]", "backslash": "∖", "uparrow": "↑", "downarrow": "↓"}


def delimiter_char(tok: LatexMacroNode) -> str:
    """The character a delimiter macro (``\\{``, ``\\langle``, ``\\|``) draws."""
    name = tok.macroname
    if name in _DELIMITERS:
        return _DELIMITERS[name]
    found = symbol(name)
    return found[1] if found else ""


def _arg(tok, index: int):
    """The pylatexenc node of a macro argument, or None when it was left out."""
    args = tok.nodeargd.argnlist if tok.nodeargd is not None else []
    try:
        return args[index]
    except IndexError:
        return None


def _nodes(arg) -> list:
    """The contents of an argument as a node list (a group's children, or the node itself)."""
    if arg is None:
        return []
    return list(arg.nodelist) if isinstance(arg, LatexGroupNode) else [arg]


def macro(parser, tok: LatexMacroNode, toks, font: str) -> Node | None:
    """One macro as a formula node, reading further tokens where LaTeX does (``\\left``, scripts)."""
    name = tok.macroname
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(parser, tok, toks, font)
    if name in SPACES:
        return Sym(SPACES[name], "space")
    if name in _IGNORED:
        return None
    if name in _BODY_ONLY:
        return parser.row(_nodes(_arg(tok, -1)), font)
    if name in FONTS:
        return parser.row(_nodes(_arg(tok, 0)), FONTS[name])
    if name in _TEXT:
        return text(parser, _arg(tok, 0), FONTS["mathbf"] if name == "textbf" else "")
    if name in ACCENTS:
        return _accent(parser.row(_nodes(_arg(tok, 0)), font), name)
    if name in _CLASS_OF:
        return Sym(plain(parser, _arg(tok, 0), font), _CLASS_OF[name], name == "mathop")
    if name in FUNCTIONS:
        return _function(name, toks)
    if name in BIG_OPERATORS:
        char, limits = BIG_OPERATORS[name]
        return Sym(char, "big", limits)
    found = symbol(name)
    if found is not None:
        kind, char = found
        return Sym(styled(char, font) if len(char) == 1 else char, kind)
    return _unknown(parser, tok, font)


def _unknown(parser, tok: LatexMacroNode, font: str) -> Node:
    """A macro nobody defined: its name, like a function, followed by any arguments pylatexenc read."""
    name = Sym(tok.macroname, "op")
    args = [parser.row(_nodes(a), font) for a in (tok.nodeargd.argnlist if tok.nodeargd else ())
            if a is not None and not isinstance(a, LatexCharsNode)]
    return Row((name, *args)) if args else name


def _function(name: str, toks) -> Sym:
    """A named function; ``\\arg\\max`` joins into one operator with limits."""
    label, limits = FUNCTIONS[name]
    if name == "arg":
        nxt = toks.peek()
        j = 0
        while isinstance(nxt, str) and nxt.isspace():
            j += 1
            nxt = toks.peek(j)
        if isinstance(nxt, LatexMacroNode) and nxt.macroname in ("max", "min"):
            toks.i += j + 1
            return Sym(f"arg {nxt.macroname}", "op", True)
    return Sym(label, "op", limits)


def _accent(body: Node, name: str) -> Node:
    """An accent; on a scripted letter (``\\hat{x_i}``) it goes on the letter, as readers expect."""
    if isinstance(body, Scripts) and isinstance(body.base, Sym) and len(body.base.text) == 1:
        return Scripts(Accent(body.base, name), body.sub, body.sup)
    return Accent(body, name)


def plain(parser, arg, font: str) -> str:
    """An argument as one line of text (operator names, tags)."""
    return linear(parser.row(_nodes(arg), font), script=True)


def text(parser, arg, font: str) -> Node:
    """``\\text{...}``: characters as typed (spaces kept, ``_`` literal), with ``$...$`` as math."""
    parts: list[Node] = []
    buffer: list[str] = []

    def flush() -> None:
        """Turn the characters gathered so far into one text atom."""
        if buffer:  # runs of white space are one space, as TeX reads them
            parts.append(Sym("".join(styled(c, font) for c in re.sub(r"\s+", " ", "".join(buffer)))))
            buffer.clear()

    for node in _nodes(arg):
        if isinstance(node, LatexCharsNode):
            buffer.append(node.chars)
        elif isinstance(node, LatexSpecialsNode):
            buffer.append(" " if node.specials_chars == "~" else node.specials_chars)
        elif isinstance(node, LatexMacroNode):
            if node.macroname in _TEXT_ESCAPES:
                buffer.append(_TEXT_ESCAPES[node.macroname])
            elif node.macroname in SPACES or node.macroname == "\\":
                buffer.append(" ")
            elif node.macroname in _TEXT:
                flush()
                parts.append(text(parser, _arg(node, 0), font))
            else:
                found = symbol(node.macroname)
                buffer.append(found[1] if found else node.macroname)
        elif isinstance(node, LatexMathNode):
            flush()
            parts.append(parser.row(node.nodelist, ""))
        elif isinstance(node, LatexGroupNode):
            flush()
            parts.append(text(parser, node, font))
    flush()
    if not parts:
        return Sym("", "ord")
    return parts[0] if len(parts) == 1 else Row(tuple(parts))


def _frac(parser, tok, toks, font):
    return Frac(parser.row(_nodes(_arg(tok, -2)), font), parser.row(_nodes(_arg(tok, -1)), font))


def _binom(parser, tok, toks, font):
    frac = Frac(parser.row(_nodes(_arg(tok, 0)), font), parser.row(_nodes(_arg(tok, 1)), font),
                bar=False)
    return Fenced("(", frac, ")")


def _sqrt(parser, tok, toks, font):
    index = _arg(tok, 0)
    return Root(parser.row(_nodes(_arg(tok, 1)), font),
                parser.row(_nodes(index), font) if index is not None else None)


def _operatorname(parser, tok, toks, font):
    return Sym(plain(parser, _arg(tok, 1), ""), "op", _arg(tok, 0) is not None)


def _brace(parser, tok, toks, font):
    over = tok.macroname == "overbrace"
    body = parser.row(_nodes(_arg(tok, 0)), font)
    mark = toks.peek()
    label = None
    if isinstance(mark, str) and mark == ("^" if over else "_"):
        toks.next()
        label = parser.atom(toks, font)
    return Brace(body, label, over)


def _stack(parser, tok, toks, font):
    top = parser.row(_nodes(_arg(tok, 0)), font)
    body = parser.row(_nodes(_arg(tok, 1)), font)
    if tok.macroname == "underset":
        return Stack(body, None, top)
    return Stack(body, top, None)


def _arrow(parser, tok, toks, font):
    below = _arg(tok, 0)
    return Stack(Sym("→" if tok.macroname == "xrightarrow" else "←", "rel"),
                 parser.row(_nodes(_arg(tok, 1)), font),
                 parser.row(_nodes(below), font) if below is not None else None)


def _left(parser, tok, toks, font):
    left = parser.delimiter(toks)
    items, right = parser.items(toks, font, until_right=True)
    return Fenced(left, items[0] if len(items) == 1 else Row(tuple(items)), right)


def _middle(parser, tok, toks, font):
    return Sym(parser.delimiter(toks), "middle")


def _not(parser, tok, toks, font):
    target = parser.row(_nodes(_arg(tok, 0)), font)
    if isinstance(target, Sym):
        negated = _NEGATED.get(target.text, target.text + "\u0338")
        return Sym(negated, target.kind if target.kind != "ord" else "rel")
    return target


def _tag(parser, tok, toks, font):
    parser.tags.append(plain(parser, _arg(tok, 1), ""))


def _pmod(parser, tok, toks, font):
    inside = Row((Sym("mod", "op"), parser.row(_nodes(_arg(tok, 0)), font)))
    return Row((Sym(" ", "space"), Fenced("(", inside, ")")))


def _phantom(parser, tok, toks, font):
    return Sym(" " * cell_width(plain(parser, _arg(tok, -1), font)), "space")


def _substack(parser, tok, toks, font):
    return parser.table(_nodes(_arg(tok, 0)), "substack", font)


def _boxed(parser, tok, toks, font):
    return Boxed(parser.row(_nodes(_arg(tok, 0)), font))


def _linebreak(parser, tok, toks, font):
    return Sym(" ", "space")


_HANDLERS = {
    "frac": _frac, "dfrac": _frac, "tfrac": _frac, "cfrac": _frac, "nicefrac": _frac,
    "binom": _binom, "dbinom": _binom, "tbinom": _binom, "sqrt": _sqrt,
    "operatorname": _operatorname, "overbrace": _brace, "underbrace": _brace,
    "overset": _stack, "underset": _stack, "stackrel": _stack, "xrightarrow": _arrow,
    "xleftarrow": _arrow, "left": _left, "middle": _middle, "not": _not, "tag": _tag,
    "pmod": _pmod, "phantom": _phantom, "hphantom": _phantom, "substack": _substack,
    "boxed": _boxed, "\\": _linebreak, "hspace": _linebreak,
}


def environment(parser, tok, font: str) -> Node:
    """An environment: matrices and cases as tables between their delimiters, others as rows."""
    name = tok.environmentname.rstrip("*")
    body = tok.nodelist
    if name in _MATRICES:
        left, right = _MATRICES[name]
        table = parser.table(body, "matrix", font)
        return Fenced(left, table, right) if left else table
    if name in ("cases", "dcases", "rcases"):
        table = parser.table(body, "cases", font)
        return Fenced("", table, "}") if name == "rcases" else Fenced("{", table, "")
    if name in _ALIGNED:
        return parser.table(body, "aligned", font)
    if name in _GATHERED:
        return parser.table(body, "gather", font)
    if name in ("array", "subarray"):
        spec = plain(parser, _arg(tok, -1), "")
        return parser.table(body, "matrix", font, "".join(c for c in spec if c in "lcr"))
    return parser.row(body, font)
