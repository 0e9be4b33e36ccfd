"""What each LaTeX name means in a terminal: its character, its spacing class, its alphabet.

The characters of the ~800 symbol macros come from pylatexenc's own table (one
source of truth, already maintained); this module adds only what that table
lacks or gets wrong for a layout: the spacing class of each symbol (binary
operator, relation, ...), named functions and big operators, delimiters,
accents, Unicode math alphabets and sub/superscript characters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = [
    "ACCENTS", "BIG_OPERATORS", "FONTS", "FUNCTIONS", "SPACES", "SUBSCRIPTS", "SUPERSCRIPTS",
    "char_kind", "symbol", "styled", "to_script",
]

# name -> (kind, character). Kinds follow TeX's atom classes; an entry with a None
# character takes it from pylatexenc's table.
_BINARY = {
    "pm": "±", "mp": "∓", "times": "×", "div": "÷", "cdot": "·", "ast": "∗", "star": "⋆",
    "circ": "∘", "bullet": "∙", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "ominus": "⊖",
    "oslash": "⊘", "cup": "∪", "cap": "∩", "setminus": "∖", "smallsetminus": "∖", "wedge": "∧",
    "land": "∧", "vee": "∨", "lor": "∨", "sqcup": "⊔", "sqcap": "⊓", "uplus": "⊎",
    "diamond": "⋄", "triangleleft": "◁", "triangleright": "▷", "wr": "≀", "amalg": "⨿",
    "boxplus": "⊞", "boxtimes": "⊠", "dotplus": "∔", "ltimes": "⋉", "rtimes": "⋊",
    "bmod": "mod", "mod": "mod",
}
_RELATIONS = {
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "sim": "∼", "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝", "in": "∈",
    "notin": "∉", "ni": "∋", "subset": "⊂", "supset": "⊃", "subseteq": "⊆", "supseteq": "⊇",
    "subsetneq": "⊊", "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←",
    "Rightarrow": "⇒", "Leftarrow": "⇐", "Leftrightarrow": "⇔", "leftrightarrow": "↔",
    "implies": "⟹", "impliedby": "⟸", "iff": "⟺", "mapsto": "↦", "longmapsto": "⟼",
    "longrightarrow": "⟶", "longleftarrow": "⟵", "Longrightarrow": "⟹", "Longleftarrow": "⟸",
    "longleftrightarrow": "⟷", "ll": "≪", "gg": "≫", "perp": "⊥", "parallel": "∥", "mid": "∣",
    "coloneqq": "≔", "eqqcolon": "≕", "triangleq": "≜", "doteq": "≐", "models": "⊨",
    "vdash": "⊢", "dashv": "⊣", "prec": "≺", "succ": "≻", "preceq": "⪯", "succeq": "⪰",
    "lesssim": "≲", "gtrsim": "≳", "leqslant": "⩽", "geqslant": "⩾", "nless": "≮", "ngtr": "≯",
    "nleq": "≰", "ngeq": "≱", "nsim": "≁", "ncong": "≇", "uparrow": "↑", "downarrow": "↓",
    "hookrightarrow": "↪", "rightleftharpoons": "⇌", "asymp": "≍", "approxeq": "≊",
    "sqsubseteq": "⊑", "sqsupseteq": "⊒", "leadsto": "⇝", "nparallel": "∦", "nmid": "∤",
}
_OPEN = {"langle": "⟨", "lfloor": "⌊", "lceil": "⌈", "lvert": "|", "lVert": "‖", "lbrace": "{",
         "{": "{", "lbrack": "[", "llbracket": "⟦", "lgroup": "⟮"}
_CLOSE = {"rangle": "⟩", "rfloor": "⌋", "rceil": "⌉", "rvert": "|", "rVert": "‖", "rbrace": "}",
          "}": "}", "rbrack": "]", "rrbracket": "⟧", "rgroup": "⟯"}
_PUNCT = {"colon": ":", "ldotp": ".", "cdotp": "·"}
# Ordinary symbols where pylatexenc has no entry or a text-mode one.
_ORD = {
    "|": "‖", "Vert": "‖", "vert": "|", "prime": "′", "backslash": "∖", "checkmark": "✓",
    "Re": "ℜ", "Im": "ℑ", "top": "⊤", "bot": "⊥", "%": "%", "#": "#", "&": "&", "$": "$",
    "_": "_", "dots": "…", "ldots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱",
    "emptyset": "∅", "varnothing": "∅", "infty": "∞", "nabla": "∇", "partial": "∂", "ell": "ℓ",
    "hbar": "ℏ", "forall": "∀", "exists": "∃", "nexists": "∄", "neg": "¬", "lnot": "¬",
    "angle": "∠", "dagger": "†", "ddagger": "‡", "degree": "°", "square": "□", "Box": "□",
    "blacksquare": "■", "triangle": "△", "epsilon": "ϵ", "varepsilon": "ε", "phi": "ϕ",
    "varphi": "φ", "lbrace": "{",
}
_KIND_TABLES = (("bin", _BINARY), ("rel", _RELATIONS), ("open", _OPEN), ("close", _CLOSE),
                ("punct", _PUNCT), ("ord", _ORD))

# Named functions: upright names with TeX's operator spacing; True where a display
# puts the subscript underneath (max over i), as TeX does.
_PLAIN_FUNCTIONS = ("log", "ln", "lg", "exp", "sin", "cos", "tan", "cot", "sec", "csc", "sinh",
                    "cosh", "tanh", "coth", "arcsin", "arccos", "arctan", "arg", "dim", "ker",
                    "deg", "hom")
_LIMIT_FUNCTIONS = ("det", "gcd", "Pr", "sup", "inf", "lim", "max", "min")
FUNCTIONS = {
    **{n: (n, False) for n in _PLAIN_FUNCTIONS},
    **{n: (n, True) for n in _LIMIT_FUNCTIONS},
    "liminf": ("lim inf", True), "limsup": ("lim sup", True),
    "argmax": ("arg max", True), "argmin": ("arg min", True),
}
# Big operators: character, and whether limits go above and below in a display.
BIG_OPERATORS = {
    "sum": ("∑", True), "prod": ("∏", True), "coprod": ("∐", True), "bigcup": ("⋃", True),
    "bigcap": ("⋂", True), "bigoplus": ("⨁", True), "bigotimes": ("⨂", True),
    "bigodot": ("⨀", True), "bigvee": ("⋁", True), "bigwedge": ("⋀", True),
    "bigsqcup": ("⨆", True), "biguplus": ("⨄", True),
    "int": ("∫", False), "iint": ("∬", False), "iiint": ("∭", False), "oint": ("∮", False),
    "oiint": ("∯", False),
}
# Horizontal space in terminal cells; a cell is about a TeX quad's half, so \, and \;
# both take one (a thin space cannot be drawn thinner) and \! takes none.
SPACES = {
    ",": " ", ":": " ", ";": " ", ">": " ", " ": " ", "thinspace": " ", "medspace": " ",
    "thickspace": " ", "enspace": " ", "quad": "  ", "qquad": "    ", "!": "",
    "negthinspace": "", "negmedspace": "", "negthickspace": "", "hfill": " ", "space": " ",
}
# Accent name -> (combining mark for one character, mark drawn over a wider body, fill).
# A filled mark repeats across the body's width; an unfilled one sits in its middle.
ACCENTS = {
    "hat": ("\u0302", "^", False), "widehat": ("\u0302", "^", False),
    "check": ("\u030c", "ˇ", False), "tilde": ("\u0303", "~", False),
    "widetilde": ("\u0303", "~", False), "bar": ("\u0304", "_", True),
    "overline": ("\u0305", "_", True), "vec": ("\u20d7", "→", True),
    "overrightarrow": ("\u20d7", "→", True), "overleftarrow": ("\u20d6", "←", True),
    "dot": ("\u0307", ".", False), "ddot": ("\u0308", "..", False),
    "dddot": ("\u20db", "...", False), "breve": ("\u0306", "˘", False),
    "acute": ("\u0301", "´", False), "grave": ("\u0300", "`", False),
    "mathring": ("\u030a", "˚", False), "underline": ("\u0332", "‾", True),
}
# Font macro -> the Unicode name prefix of its math alphabet ("" keeps plain letters).
FONTS = {
    "mathbf": "MATHEMATICAL BOLD", "textbf": "MATHEMATICAL BOLD",
    "boldsymbol": "MATHEMATICAL BOLD ITALIC", "bm": "MATHEMATICAL BOLD ITALIC",
    "pmb": "MATHEMATICAL BOLD ITALIC", "mathcal": "MATHEMATICAL SCRIPT",
    "mathscr": "MATHEMATICAL SCRIPT", "mathbb": "MATHEMATICAL DOUBLE-STRUCK",
    "mathfrak": "MATHEMATICAL FRAKTUR", "mathsf": "MATHEMATICAL SANS-SERIF",
    "mathtt": "MATHEMATICAL MONOSPACE", "mathrm": "", "mathit": "", "mathnormal": "",
}
# Letters that sit outside the math alphabet blocks (the "holes" filled earlier by Letterlike Symbols).
_HOLES = {
    "MATHEMATICAL SCRIPT": "SCRIPT", "MATHEMATICAL DOUBLE-STRUCK": "DOUBLE-STRUCK",
    "MATHEMATICAL FRAKTUR": "BLACK-LETTER",
}

# A comma has no subscript form but reads well at the baseline between subscripts
# (Cᵢ,ⱼ): lowering a whole row just for it would put indices on the row of a sum's limits.
SUBSCRIPTS = dict(zip(
    "0123456789+-−=()aehijklmnoprstuvxβγρφϕχ ,",
    "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵩᵪ ,", strict=True))
# A prime and an asterisk already sit high, so they stand for themselves.
SUPERSCRIPTS = dict(zip(
    "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWβγδεϵθιφϕχ⊤′″*∗ ",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵝᵞᵟᵋᵋᶿᶥᵠᵠᵡᵀ′″** ", strict=True))

# The class of a character typed directly in math mode.
_CHAR_KINDS = {
    "+": "bin", "-": "bin", "*": "bin", "=": "rel", "<": "rel", ">": "rel", ":": "rel",
    ",": "punct", ";": "punct", "(": "open", "[": "open", ")": "close", "]": "close",
}


@lru_cache(maxsize=1)
def _pylatexenc_symbols() -> dict[str, str]:
    """pylatexenc's macro -> character table, keeping only plain replacements."""
    from pylatexenc.latex2text import get_default_latex_context_db

    table: dict[str, str] = {}
    db = get_default_latex_context_db()
    for category in db.categories():
        for spec in db.iter_macro_specs([category]):
            repl = spec.simplify_repl
            # A template ("%s") or anything with a backslash is not a symbol we can draw.
            if isinstance(repl, str) and repl.strip() and "%" not in repl and "\\" not in repl:
                table[spec.macroname] = repl
    return table


@lru_cache(maxsize=1)
def _char_kinds() -> dict[str, str]:
    """Every known symbol character -> its class, so typed Unicode spaces like its macro."""
    kinds = dict(_CHAR_KINDS)
    for kind, table in _KIND_TABLES[:-1]:
        for ch in table.values():
            if len(ch) == 1 and ch not in "|‖":  # typed bars are ordinary: |x| cannot tell open from close
                kinds.setdefault(ch, kind)
    kinds["−"] = "bin"
    return kinds


def char_kind(ch: str) -> str:
    """The spacing class of a character typed directly in math mode ("ord" if nothing special)."""
    return _char_kinds().get(ch, "ord")


def symbol(name: str) -> tuple[str, str] | None:
    """``(kind, text)`` for a symbol macro such as ``odot`` or ``alpha``, or None if unknown."""
    for kind, table in _KIND_TABLES:
        if name in table:
            return kind, table[name]
    text = _pylatexenc_symbols().get(name)
    if text is None:
        return None
    return char_kind(text) if len(text) == 1 else "ord", text


@lru_cache(maxsize=4096)
def styled(ch: str, font: str) -> str:
    """``ch`` in the math alphabet ``font`` (a FONTS value); unchanged where none exists."""
    if not font or not (ch.isalnum() and len(ch) == 1):
        return ch
    if ch.isdigit():
        tail = "DIGIT " + unicodedata.name(ch).split()[-1]
    elif ch.isascii():
        tail = ("CAPITAL " if ch.isupper() else "SMALL ") + ch.upper()
    else:  # Greek: "GREEK SMALL LETTER MU" -> "SMALL MU", "GREEK PHI SYMBOL" -> "PHI SYMBOL"
        tail = unicodedata.name(ch, "").removeprefix("GREEK ").replace("LETTER ", "")
        tail = tail.replace("LUNATE EPSILON", "EPSILON")
    candidates = [f"{font} {tail}"]
    if font == "MATHEMATICAL BOLD ITALIC":  # no bold italic digits: bold ones are the nearest
        candidates.append(f"MATHEMATICAL BOLD {tail}")
    if font in _HOLES:
        candidates.append(f"{_HOLES[font]} {tail}")
    for name in candidates:
        try:
            return unicodedata.lookup(name)
        except KeyError:
            continue
    return ch


def to_script(text: str, table: dict[str, str]) -> str | None:
    """``text`` as Unicode sub/superscript characters, or None if one character has none.

    Spaces and commas do not make a script on their own: ``x_{,}`` stays a lowered comma.
    """
    if not text.strip(" ,"):
        return None
    out = []
    for ch in text:
        mapped = table.get(ch)
        if mapped is None:
            return None
        out.append(mapped)
    return "".join(out)
