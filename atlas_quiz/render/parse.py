"""LaTeX source -> the formula tree of nodes.py, over pylatexenc's parser.

pylatexenc reads the source (braces, macro arguments, environments, ``&`` and
``\\\\``); this module gives it the math macros it does not know the arguments
of, then walks its nodes: characters become atoms with their class, ``^`` and
``_`` attach to the atom before them, ``\\left ... \\right`` and matched
brackets become one fenced node, environments become tables. Macros are
handled in macros.py.
"""

from __future__ import annotations

from functools import lru_cache

from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
    LatexWalkerError,
)

from .macros import delimiter_char, environment, macro
from .nodes import Fenced, Formula, Frac, Node, Row, Scripts, Sym, Table
from .symbols import char_kind, styled

__all__ = ["Parser", "collapse", "parse"]

# Math macros whose arguments pylatexenc's default table does not declare.
_EXTRA_MACROS = {
    "operatorname": "*{", "tag": "*{", "boldsymbol": "{", "bm": "{", "pmb": "{",
    "binom": "{{", "dbinom": "{{", "tbinom": "{{", "dfrac": "{{", "tfrac": "{{",
    "cfrac": "[{{", "overset": "{{", "underset": "{{", "stackrel": "{{", "boxed": "{",
    "substack": "{", "pmod": "{", "mathop": "{", "mathbin": "{", "mathrel": "{",
    "mathord": "{", "mathopen": "{", "mathclose": "{", "mathpunct": "{", "phantom": "{",
    "textnormal": "{", "mathnormal": "{", "hbox": "{", "cancel": "{", "smash": "[{",
    "mathrlap": "{", "mathllap": "{", "mathclap": "{",
}
# Text-mode accents (\' \" \^ \. ...) would swallow the next math atom as their argument.
_TEXT_ACCENTS = set("'`\"c^~Hk=b.druv")
_ENVIRONMENT_ARGS = {"alignedat": "{", "subarray": "{"}
# Brackets typed as plain characters that pair up and grow with what they enclose.
_OPENERS = set("([{⟨⌊⌈‖⟦")
_CLOSERS = set(")]}⟩⌋⌉‖⟧")


@lru_cache(maxsize=1)
def _context():
    """pylatexenc's LaTeX context with our math macros added and text accents removed."""
    from pylatexenc.latexwalker import get_default_latex_context_db
    from pylatexenc.macrospec import EnvironmentSpec, LatexContextDb, MacroSpec, SpecialsSpec

    base = get_default_latex_context_db()
    macros = [m for m in base.iter_macro_specs(["latex-base"]) if m.macroname not in _TEXT_ACCENTS]
    macros += [MacroSpec(name, spec) for name, spec in _EXTRA_MACROS.items()]
    environments = list(base.iter_environment_specs(["latex-base"]))
    environments += [EnvironmentSpec(name, spec) for name, spec in _ENVIRONMENT_ARGS.items()]
    db = LatexContextDb()
    db.add_context_category("atlas-math", macros=macros, environments=environments,
                            specials=[SpecialsSpec("&"), SpecialsSpec("~")])
    return db


def parse(source: str) -> Formula:
    """Parse a formula; malformed input still gives a tree (pylatexenc's tolerant mode)."""
    try:
        nodes, _, _ = LatexWalker(source, latex_context=_context(),
                                  tolerant_parsing=True).get_latex_nodes()
    except LatexWalkerError:  # a last resort: the text without its markup
        return Formula(Sym(source.replace("\\", " ").strip()))
    parser = Parser()
    body = parser.row(nodes, "")
    return Formula(body, tuple(parser.tags))


def collapse(items: list[Node]) -> Node:
    """A single item stands for itself; several make a row."""
    return items[0] if len(items) == 1 else Row(tuple(items))


class _Tokens:
    """pylatexenc nodes with their character runs split into single characters."""

    def __init__(self, nodes) -> None:
        self.items: list = []
        for node in nodes or ():
            if isinstance(node, LatexCharsNode):
                self.items.extend(node.chars)
            elif not isinstance(node, LatexCommentNode):
                self.items.append(node)
        self.i = 0

    def peek(self, ahead: int = 0):
        """The token ``ahead`` places on, or None past the end."""
        j = self.i + ahead
        return self.items[j] if j < len(self.items) else None

    def next(self):
        """Take the next token."""
        tok = self.items[self.i]
        self.i += 1
        return tok

    def next_significant(self):
        """Take the next token that is not white space (None at the end)."""
        while self.i < len(self.items):
            tok = self.next()
            if not (isinstance(tok, str) and tok.isspace()):
                return tok
        return None

    def done(self) -> bool:
        """True when every token is taken."""
        return self.i >= len(self.items)


def is_macro(node, *names: str) -> bool:
    """True when ``node`` is one of the named macros."""
    return isinstance(node, LatexMacroNode) and node.macroname in names


class _Right:
    """What ``\\right`` hands back to the ``\\left`` that is reading its body."""

    __slots__ = ("delim",)

    def __init__(self, delim: str) -> None:
        self.delim = delim


class Parser:
    """Builds the formula tree; collects ``\\tag``s on the way."""

    def __init__(self) -> None:
        self.tags: list[str] = []

    def row(self, nodes, font: str) -> Node:
        """A list of pylatexenc nodes as one node (a row, a table when it has ``\\\\``, a fraction for ``\\over``)."""
        nodes = [n for n in nodes or () if not isinstance(n, LatexCommentNode)]
        if any(is_macro(n, "\\") for n in nodes):
            aligned = any(isinstance(n, LatexSpecialsNode) and n.specials_chars == "&" for n in nodes)
            return self.table(nodes, "aligned" if aligned else "gather", font)
        for i, node in enumerate(nodes):
            if is_macro(node, "over", "atop", "choose"):
                frac = Frac(self.row(nodes[:i], font), self.row(nodes[i + 1:], font),
                            bar=node.macroname == "over")
                return Fenced("(", frac, ")") if node.macroname == "choose" else frac
        items, _ = self.items(_Tokens(nodes), font)
        return collapse(items)

    def items(self, toks: _Tokens, font: str, until_right: bool = False) -> tuple[list[Node], str]:
        """Parse tokens into atoms; with ``until_right``, stop at ``\\right`` and return its delimiter."""
        # One open list per unmatched bracket; a closing bracket folds the top one into a Fenced.
        stack: list[tuple[str, list[Node]]] = [("", [])]
        right = ""
        while not toks.done():
            tok = toks.next()
            out = stack[-1][1]
            if isinstance(tok, str):
                if tok.isspace():
                    continue
                if tok in "^_":
                    self._attach(tok, toks, out, font)
                    continue
                node = self._char(tok, toks, font)
            elif is_macro(tok, "limits", "nolimits"):
                if out and isinstance(out[-1], Sym) and out[-1].kind in ("op", "big"):
                    out[-1] = Sym(out[-1].text, out[-1].kind, tok.macroname == "limits")
                continue
            else:
                node = self.node(tok, toks, font)
            if isinstance(node, _Right):
                if until_right:
                    right = node.delim
                    break
                node = Sym(node.delim, "close") if node.delim else None
            if node is None:
                continue
            if isinstance(node, Sym) and node.kind == "open" and node.text in _OPENERS:
                stack.append((node.text, []))
            elif isinstance(node, Sym) and node.kind == "close" and node.text in _CLOSERS \
                    and len(stack) > 1:
                opener, inner = stack.pop()
                stack[-1][1].append(Fenced(opener, collapse(inner) if inner else Row(()), node.text))
            else:
                out.append(node)
        while len(stack) > 1:  # brackets never closed stay plain characters
            opener, inner = stack.pop()
            stack[-1][1].extend([Sym(opener, "open"), *inner])
        return stack[0][1], right

    def _char(self, ch: str, toks: _Tokens, font: str) -> Node:
        """One typed character as an atom (a run of digits as one number)."""
        if ch.isdigit():
            while True:
                nxt = toks.peek()
                if isinstance(nxt, str) and (nxt.isdigit() or (nxt == "." and str(toks.peek(1)).isdigit())):
                    ch += toks.next()
                else:
                    break
            return Sym("".join(styled(c, font) for c in ch))
        if ch.isalpha():
            return Sym(styled(ch, font))
        if ch == "'":
            return Sym("′")
        if ch == "-":
            return Sym("−", "bin")
        if ch == "&":
            return None  # an alignment mark outside a table means nothing here
        return Sym(ch, char_kind(ch))

    def atom(self, toks: _Tokens, font: str) -> Node:
        """Exactly one argument-sized piece: a character, a group, or a macro with its arguments."""
        tok = toks.next_significant()
        if tok is None:
            return Row(())
        if isinstance(tok, str):
            if tok.isdigit():
                return Sym(styled(tok, font))
            node = self._char(tok, _Tokens(()), font)
        else:
            node = self.node(tok, toks, font)
        if isinstance(node, _Right):
            return Sym(node.delim)
        return Row(()) if node is None else node

    def _attach(self, mark: str, toks: _Tokens, out: list[Node], font: str) -> None:
        """Hang the next atom on the previous one as its subscript (``_``) or superscript (``^``)."""
        script = self.atom(toks, font)
        base = out.pop() if out else Sym("")
        slot = "sub" if mark == "_" else "sup"
        if isinstance(base, Scripts) and getattr(base, slot) is None:
            out.append(Scripts(base.base, script if slot == "sub" else base.sub,
                               script if slot == "sup" else base.sup))
        else:
            out.append(Scripts(base, script, None) if slot == "sub" else Scripts(base, None, script))

    def node(self, tok, toks: _Tokens, font: str):
        """One pylatexenc node as a formula node (None when it draws nothing)."""
        if isinstance(tok, LatexMacroNode):
            if tok.macroname == "right":
                return _Right(self.delimiter(toks))
            return macro(self, tok, toks, font)
        if isinstance(tok, LatexGroupNode):
            return self.row(tok.nodelist, font)
        if isinstance(tok, LatexEnvironmentNode):
            return environment(self, tok, font)
        if isinstance(tok, LatexSpecialsNode):
            return Sym(" ", "space") if tok.specials_chars == "~" else None
        if isinstance(tok, LatexMathNode):
            return self.row(tok.nodelist, font)
        return None

    def delimiter(self, toks: _Tokens) -> str:
        """The delimiter after ``\\left``, ``\\right`` or ``\\middle`` (``""`` for ``.``)."""
        tok = toks.next_significant()
        if isinstance(tok, str):
            return "" if tok == "." else tok
        return delimiter_char(tok) if isinstance(tok, LatexMacroNode) else ""

    def table(self, nodes, kind: str, font: str, align: str = "") -> Table:
        """Cells split at ``&`` and rows at ``\\\\``, each cell parsed on its own."""
        rows: list[list[list]] = [[[]]]
        for node in nodes or ():
            if isinstance(node, LatexSpecialsNode) and node.specials_chars == "&":
                rows[-1].append([])
            elif is_macro(node, "\\", "cr"):
                rows.append([[]])
            elif not is_macro(node, "hline", "cline", "midrule", "toprule", "bottomrule"):
                rows[-1][-1].append(node)

        def empty(cells: list[list]) -> bool:
            """True for a row with nothing but white space in it."""
            return all(isinstance(n, LatexCharsNode) and not n.chars.strip()
                       for cell in cells for n in cell)

        while len(rows) > 1 and empty(rows[-1]):  # the usual trailing \\ ends no new row
            rows.pop()
        return Table(tuple(tuple(self.row(cell, font) for cell in cells) for cells in rows),
                     kind, align)
