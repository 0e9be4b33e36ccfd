"""Grading ``symbolic`` cards: a whitelist parser into sympy, then equivalence.

The answer is read with :mod:`ast` and translated node by node into sympy
objects; sympy's ``parse_expr`` (which calls ``eval``) never sees it. Only the
card's variables, a few constants and the functions in :data:`FUNCTIONS` are
names; ``^`` means power and ``2x`` means ``2*x``. Two formulas are equivalent
when they agree at random points of the variables' domains (exactly, for
integer domains, so ``floor`` is honest); sympy is asked for a proof too, and
the feedback says which decided.
"""

from __future__ import annotations

import ast
import io
import random
import re
import tokenize
from collections.abc import Iterator
from functools import partial
from typing import Any

import sympy

from ..cards import Card
from .result import GradeResult

__all__ = ["FUNCTIONS", "FormulaError", "equivalent", "grade_symbolic_card", "parse_formula"]

_MAX_LEN = 600
_MAX_NODES = 400
_MAX_INT = 10**12
_MAX_POWER = 64
_POINTS = 24


def _sigmoid(x: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-x))


FUNCTIONS: dict[str, Any] = {
    "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
    "sigmoid": _sigmoid, "tanh": sympy.tanh, "sinh": sympy.sinh, "cosh": sympy.cosh,
    "sin": sympy.sin, "cos": sympy.cos, "floor": sympy.floor, "ceil": sympy.ceiling,
    "abs": sympy.Abs, "max": sympy.Max, "min": sympy.Min, "erf": sympy.erf,
    "softplus": lambda x: sympy.log(1 + sympy.exp(x)), "relu": lambda x: sympy.Max(x, 0),
    "log2": lambda x: sympy.log(x, 2), "log10": lambda x: sympy.log(x, 10),
    "sech": sympy.sech, "csch": sympy.csch, "coth": sympy.coth, "tan": sympy.tan,
    "atan": sympy.atan, "arctan": sympy.atan, "asin": sympy.asin, "acos": sympy.acos,
    "asinh": sympy.asinh, "atanh": sympy.atanh,
}
_CONSTANTS = {"pi": sympy.pi, "e": sympy.E}
_ASSUMPTIONS = {
    "real": {"real": True}, "positive": {"positive": True}, "int": {"integer": True},
    "int>=0": {"integer": True, "nonnegative": True}, "int>=1": {"integer": True, "positive": True},
    "int>=2": {"integer": True, "positive": True}, "prob": {"positive": True},
}


class FormulaError(ValueError):
    """A formula that cannot be read; the message says what was expected."""


def _implicit_products(text: str, variables: set[str]) -> str:
    """Insert ``*`` in ``2x``, ``2(x+1)``, ``(a)(b)``, ``x y`` and ``k(k-1)``: after a variable,
    never after another name (``exp(x)`` and ``foo(x)`` stay calls)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except tokenize.TokenError:  # the only one tokenize raises mid-text: input ended inside brackets
        raise FormulaError("could not read the formula: a bracket is not closed") from None
    except (IndentationError, SyntaxError) as exc:
        raise FormulaError(f"could not read the formula: {exc.msg}") from None
    out: list[str] = []
    prev: tokenize.TokenInfo | None = None
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT,
                        tokenize.DEDENT):
            continue
        glued = _split_glued(tok.string, variables) if tok.type == tokenize.NAME else None
        if glued:  # "nmk" with variables n, m, k: the product n*m*k
            tok = tok._replace(string="(" + "*".join(glued) + ")", type=tokenize.OP)
            if prev is not None and (prev.type in (tokenize.NUMBER, tokenize.NAME) or prev.string == ")"):
                out.append("*")
            out.append(tok.string)
            prev = tok._replace(string=")")
            continue
        if prev is not None:
            left = prev.type in (tokenize.NUMBER, tokenize.NAME) or prev.string == ")"
            right = tok.type in (tokenize.NUMBER, tokenize.NAME) or tok.string == "("
            function_call = (prev.type == tokenize.NAME and prev.string not in variables
                             and tok.string == "(")
            if left and right and not function_call:
                out.append("*")
        out.append(tok.string)
        prev = tok
    return " ".join(out)


def _split_glued(name: str, variables: set[str]) -> list[str] | None:
    """``nmk`` -> ``[n, m, k]`` when the name is unknown but is variable names written together."""
    if name in variables or name in FUNCTIONS or name in _CONSTANTS or not variables:
        return None
    parts: list[str] = []
    rest = name
    while rest:
        match = max((v for v in variables if rest.startswith(v)), key=len, default=None)
        if match is None:
            return None
        parts.append(match)
        rest = rest[len(match):]
    return parts if len(parts) > 1 else None


_UNICODE = {"^": "**", "·": "*", "×": "*", "−": "-", "π": "pi", "²": "**2", "³": "**3",
            "⌊": "floor(", "⌋": ")", "⌈": "ceil(", "⌉": ")"}
# √x, √2 and √(...): the root of the name, number or bracket that follows ("s√(2π)" is s*sqrt(2π))
_ROOT = re.compile(r"√\s*([A-Za-z_]\w*|\d+(?:\.\d*)?)?")
# Greek names of functions, read as the function unless the card has a variable of that name
_GREEK_FUNCTIONS = {"σ": "sigmoid"}


def parse_formula(text: str, variables: dict[str, str]) -> sympy.Expr:
    """Parse ``text`` over ``variables`` (name -> domain) into a sympy expression, safely."""
    s = text.strip()
    for old, new in _UNICODE.items():
        s = s.replace(old, new)
    s = _ROOT.sub(lambda m: f" sqrt({m.group(1)})" if m.group(1) else " sqrt", s)
    for old, new in _GREEK_FUNCTIONS.items():
        if old not in variables:
            s = s.replace(old, new)
    if "=" in s:  # "H_out = ..." : grade the right-hand side
        s = s.split("=")[-1]
    if not s.strip():
        raise FormulaError("the formula is empty")
    if len(s) > _MAX_LEN:
        raise FormulaError(f"the formula is longer than {_MAX_LEN} characters")
    try:
        tree = ast.parse(_implicit_products(s, set(variables)), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"could not read the formula: {exc.msg}") from None
    if sum(1 for _ in ast.walk(tree)) > _MAX_NODES:
        raise FormulaError("the formula is too long")
    symbols = {name: sympy.Symbol(name, **_ASSUMPTIONS[domain]) for name, domain in variables.items()}
    expr = _translate(tree.body, symbols)
    _check_growth(expr)
    return expr


_EXPONENTIAL = (sympy.exp, sympy.sinh, sympy.cosh)


def _growth(expr: sympy.Expr) -> int:
    """How many exponentials are stacked inside each other (a log undoes one)."""
    inner = max((_growth(a) for a in expr.args), default=0)
    if isinstance(expr, _EXPONENTIAL) or (isinstance(expr, sympy.Pow) and not expr.exp.is_number):
        return inner + 1
    if isinstance(expr, sympy.log):
        return max(0, inner - 1)
    return inner


def _check_growth(expr: sympy.Expr) -> None:
    """Refuse formulas whose values at the test points could not be computed in reasonable time:
    merged powers beyond the cap (``((x^64)^64)``), exponentials of exponentials."""
    for p in expr.atoms(sympy.Pow):
        if p.exp.is_number and abs(complex(p.exp)) > _MAX_POWER:
            raise FormulaError(f"the power {p.exp} is too large to check (at most {_MAX_POWER})")
    if _growth(expr) > 1:
        raise FormulaError("an exponential of an exponential is too large to check; simplify the formula")
    for f in expr.atoms(sympy.floor, sympy.ceiling, sympy.Mod):
        if any(_growth(a) for a in f.args):  # rounding e^(n^64) needs all of its digits
            raise FormulaError(f"{type(f).__name__} of an exponential is too large to check")


def _translate(node: ast.AST, symbols: dict[str, sympy.Symbol]) -> sympy.Expr:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if abs(node.value) > _MAX_INT:
            raise FormulaError(f"the number {node.value} is too large")
        return sympy.Integer(node.value) if isinstance(node.value, int) else sympy.Float(node.value)
    if isinstance(node, ast.Name):
        if node.id in symbols:
            return symbols[node.id]
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise FormulaError(f"{node.id} is a function: write {node.id}(...)")
        known = ", ".join(symbols) or "none"
        raise FormulaError(f"unknown name {node.id!r}; the variables are {known}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _translate(node.operand, symbols)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a, b = _translate(node.left, symbols), _translate(node.right, symbols)
        op = type(node.op)
        if op is ast.Pow:
            if b.is_number and (not b.is_finite or abs(complex(b)) > _MAX_POWER):
                raise FormulaError(f"the power {b} is too large")
            if not b.is_number and any(not p.exp.is_number for p in b.atoms(sympy.Pow)):
                raise FormulaError("a power of a power of a variable is too large to check")
            return a**b
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
               ast.Div: lambda: a / b, ast.FloorDiv: lambda: sympy.floor(a / b),
               ast.Mod: lambda: sympy.Mod(a, b)}
        if op in ops:
            return ops[op]()
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fn = FUNCTIONS.get(node.func.id)
        if fn is None:
            raise FormulaError(f"unknown function {node.func.id!r}; allowed: {', '.join(FUNCTIONS)}")
        args = [_translate(a, symbols) for a in node.args]
        try:
            return fn(*args)
        except TypeError:
            raise FormulaError(f"wrong number of arguments to {node.func.id}()") from None
    raise FormulaError(f"{ast.unparse(node)!r} is not allowed in a formula "
                       "(numbers, variables, + - * / // % ^ and functions like exp, log, sqrt)")


def _point(variables: dict[str, str], rng: random.Random) -> dict[str, sympy.Expr]:
    out = {}
    for name, domain in variables.items():
        if domain.startswith("int"):
            low = {"int": -20, "int>=0": 0, "int>=1": 1, "int>=2": 2}[domain]
            out[name] = sympy.Integer(rng.randint(low, low + 40))
        elif domain == "prob":
            out[name] = sympy.Rational(rng.randint(1, 99), 100)
        elif domain == "positive":
            out[name] = sympy.Rational(rng.randint(1, 500), 100)
        else:
            out[name] = sympy.Rational(rng.randint(-300, 300), 100)
    return out


def _value(expr: sympy.Expr, subs: dict[sympy.Symbol, sympy.Expr]) -> complex | None:
    try:
        v = complex(expr.xreplace(subs).evalf(30))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if v != v or abs(v) == float("inf"):
        return None
    return v


def _values_at_points(a: sympy.Expr, b: sympy.Expr, variables: dict[str, str], rng: random.Random,
                      points: int) -> Iterator[tuple[dict[str, sympy.Expr], complex | None, complex | None]]:
    """``(point, a there, b there)`` at up to ``points`` random points of the variables' domains
    (``None`` where an expression is undefined)."""
    symbols = {s.name: s for s in (a.free_symbols | b.free_symbols)}
    for _ in range(points):
        point = _point(variables, rng)
        subs = {symbols[n]: v for n, v in point.items() if n in symbols}
        yield point, _value(a, subs), _value(b, subs)


def equivalent(a: sympy.Expr, b: sympy.Expr, variables: dict[str, str], seed: int = 0
               ) -> tuple[bool, dict[str, Any] | None]:
    """Whether ``a`` and ``b`` agree at random points; else a point where they differ."""
    compared = 0
    for point, va, vb in _values_at_points(a, b, variables, random.Random(seed), _POINTS * 4):
        if va is None:  # outside the reference's domain (log of a negative, 0 division)
            continue
        if vb is None or abs(va - vb) > 1e-9 * max(1.0, abs(va)):
            expected, got = _show_apart(va, vb)
            return False, {"point": {k: str(v) for k, v in point.items()},
                           "expected": expected, "got": got}
        compared += 1
        if compared >= _POINTS:
            break
    return compared > 0, None


def _show(v: complex, digits: int = 6) -> str:
    return f"{v.real:.{digits}g}" if abs(v.imag) < 1e-12 else f"{v:.{digits}g}"


def _show_apart(want: complex, got: complex | None) -> tuple[str, str]:
    """Both values with the fewest digits (6 at least) that tell them apart: never
    "expected 6102, your formula gives 6102" for answers 1e-4 apart."""
    if got is None:
        return _show(want), "undefined"
    digits = 6
    while digits < 17 and _show(want, digits) == _show(got, digits):
        digits += 1
    return _show(want, digits), _show(got, digits)


def _offset_is_constant(a: sympy.Expr, b: sympy.Expr, variables: dict[str, str], seed: int) -> bool:
    """Whether ``b - a`` takes one value at a few random points: the cheap test before asking
    sympy for that constant (``simplify`` costs a wrong answer far more than grading it)."""
    offsets = []
    for _, va, vb in _values_at_points(a, b, variables, random.Random(seed + 1), 12):
        if va is not None and vb is not None:
            offsets.append(vb - va)
        if len(offsets) == 3:
            break
    return len(offsets) == 3 and all(abs(d - offsets[0]) <= 1e-9 * max(1.0, abs(offsets[0]))
                                     for d in offsets)


def _constant_text(c: sympy.Expr) -> str:
    """``0.0001`` for a float, ``log(2)/2 + log(pi)/2 (≈ 0.918939)`` for an exact constant."""
    value = _show(complex(c))
    return value if c.is_Float or c.is_Integer or str(c) == value else f"{c} (≈ {value})"


def _difference(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr | None:
    """``a - b`` simplified, or None when sympy gives up (the numeric check then decides)."""
    try:
        return sympy.simplify(a - b)
    except Exception:  # sympy can fail in many ways on valid input
        return None


def grade_symbolic_card(card: Card, answer: str, *, seed: int = 0) -> GradeResult:
    """Grade a formula: equivalent to the card's ``answer`` at random points, proof if sympy finds one."""
    result = partial(GradeResult, card.id)  # the engine times the whole grade

    want = parse_formula(card.answer, card.variables)
    try:
        got = parse_formula(answer, card.variables)
    except FormulaError as exc:
        return result("error", str(exc), stage="parse")
    same, where = equivalent(want, got, card.variables, seed)
    diff = _difference(want, got) if same else None
    if diff is not None and diff != 0 and diff.is_number:  # e.g. "+ 1e-9": tiny, but not equal
        return result("wrong", f"your formula differs from the expected one by the constant {-diff}",
                      stage="values", details={"difference": str(-diff)})
    if same:
        how = "sympy proves it equivalent" if diff == 0 else \
            f"it agrees with the expected formula at {_POINTS} random points"
        return result("correct", f"correct: {how}", stage="ok", shape_ok=True)
    mistake = ""
    for r in card.reject:
        try:
            if equivalent(parse_formula(r.answer, card.variables), got, card.variables, seed)[0]:
                mistake = r.why or f"this is a known mistake: {r.answer}"
                break
        except FormulaError:
            continue
    constant = None if mistake or not _offset_is_constant(want, got, card.variables, seed) \
        else _difference(want, got)
    if constant is not None and constant.is_number and constant.is_finite and constant != 0:
        return result("wrong", f"your formula differs from the expected one by the constant "
                               f"{_constant_text(-constant)} everywhere: a term is missing or extra",
                      stage="values", details={**(where or {}), "difference": str(-constant)})
    if where:
        at = ", ".join(f"{k}={v}" for k, v in where["point"].items())
        feedback = f"at {at}: expected {where['expected']}, your formula gives {where['got']}"
    else:
        feedback = "the formula is undefined wherever the expected one is defined"
    if mistake:
        feedback = f"Known mistake: {mistake}\n{feedback}"
    return result("wrong", feedback, stage="values", mistake=mistake, details=where or {})
