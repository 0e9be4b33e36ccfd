"""Input generators of `expr` cards: parsed from strings like ``randn(B, d)``.

The grammar is a tiny subset of Python call syntax, read through :mod:`ast`
(never evaluated), so a deck file cannot run code by naming an input:

    randn(B, d)                      standard normal, float32
    randn(B, n, scale=1e4)           scaled (stress trials)
    rand(n, low=-1, high=1)          uniform
    randint(C, (B,))                 int64 in [0, C)
    randint(-3, 3, (n, m))           int64 in [low, high)
    bernoulli(B, p=0.3)              0/1 floats
    positive(B, d)                   strictly positive floats
    adjacency(n)                     symmetric 0/1 matrix, zero diagonal
    randn(B, n>=2)                   a dimension with a minimum size
    randn(B, 2*h, dtype=float64)     dimension arithmetic, dtype

This module is stdlib only; ``atlas_quiz.grading.inputs`` turns a parsed
:class:`InputSpec` into tensors.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field

__all__ = [
    "DTYPES",
    "GENERATORS",
    "DimExpr",
    "DimRule",
    "GeneratorError",
    "dim_expr",
    "InputSpec",
    "parse_dim_rule",
    "parse_generator",
]

DTYPES = (
    "float16", "bfloat16", "float32", "float64",
    "int8", "int16", "int32", "int64", "uint8", "bool",
    "complex64",
)


@dataclass(frozen=True)
class GeneratorInfo:
    """What a generator takes: how its positional arguments are read, its keywords."""

    summary: str
    positional: str  # "dims", "int_then_shape", "one_dim", "batch_then_dim"
    keywords: frozenset[str]
    default_dtype: str = "float32"


_FLOAT_KW = frozenset({"dtype", "scale", "shift", "requires_grad"})
GENERATORS: dict[str, GeneratorInfo] = {
    "randn": GeneratorInfo("standard normal", "dims", _FLOAT_KW),
    "rand": GeneratorInfo("uniform in [low, high)", "dims", _FLOAT_KW | {"low", "high"}),
    "positive": GeneratorInfo("uniform in [low, high), low > 0", "dims", _FLOAT_KW | {"low", "high"}),
    "bernoulli": GeneratorInfo("0/1 with probability p", "dims", frozenset({"dtype", "p"})),
    "randint": GeneratorInfo("integers in [low, high)", "int_then_shape", frozenset({"dtype"}), "int64"),
    "randperm": GeneratorInfo("a permutation of range(n)", "one_dim", frozenset({"dtype"}), "int64"),
    "adjacency": GeneratorInfo("symmetric 0/1 matrix, zero diagonal", "one_dim", frozenset({"dtype", "p"})),
    "probs": GeneratorInfo("positive, each last-dim row sums to 1", "dims", frozenset({"dtype", "requires_grad"})),
    "spd": GeneratorInfo("symmetric positive definite (*batch, n, n)", "dims", frozenset({"dtype"})),
    "orthogonal": GeneratorInfo("orthogonal matrices (*batch, n, n)", "dims", frozenset({"dtype"})),
    "causal_mask": GeneratorInfo("bool (n, n), True above the diagonal", "one_dim", frozenset()),
}


class GeneratorError(ValueError):
    """A generator or dimension rule that does not parse; the message says what was expected."""


@dataclass(frozen=True)
class DimExpr:
    """An integer expression over dimension symbols, e.g. ``2*h`` or ``n+1``.

    ``source`` is canonical Python text; ``symbols`` the names it reads.
    ``minimum`` is set for the form ``n>=2``.
    """

    source: str
    symbols: tuple[str, ...]
    minimum: int | None = None

    def evaluate(self, env: dict[str, int]) -> int:
        """The value of the expression under the given dimension sizes."""
        return _eval_int(_parsed(self.source), env)


@dataclass(frozen=True)
class InputSpec:
    """A parsed generator: its name, dims (or integer bounds) and keywords."""

    source: str
    name: str
    dims: tuple[DimExpr, ...] = ()
    int_args: tuple[DimExpr, ...] = ()  # randint's low/high
    keywords: dict[str, object] = field(default_factory=dict)

    @property
    def dtype(self) -> str:
        """The dtype name of the generated tensor."""
        return str(self.keywords.get("dtype", GENERATORS[self.name].default_dtype))

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every dimension symbol this input mentions, in order of first use."""
        seen: dict[str, None] = {}
        for d in (*self.int_args, *self.dims):
            for s in d.symbols:
                seen.setdefault(s, None)
        return tuple(seen)

    def shape_text(self) -> str:
        """The shape as a learner reads it: ``(B, d)``."""
        dims = [d.source for d in self.dims]
        if self.name in ("adjacency", "causal_mask"):
            dims = dims * 2
        elif self.name in ("spd", "orthogonal"):
            dims = dims + dims[-1:]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> ast.expr:
    """The expression tree of a dimension (parsed once: trials evaluate it many times)."""
    return ast.parse(source, mode="eval").body


_INT_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
            ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b}


def _eval_int(node: ast.AST, env: dict[str, int]) -> int:
    if isinstance(node, ast.Constant):
        return int(node.value)
    if isinstance(node, ast.Name):
        return int(env[node.id])
    if isinstance(node, ast.BinOp):
        return _INT_OPS[type(node.op)](_eval_int(node.left, env), _eval_int(node.right, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval_int(node.operand, env)
    raise GeneratorError(f"cannot evaluate {ast.unparse(node)!r}")


def dim_expr(node: ast.AST, text: str) -> DimExpr:
    """Read one dimension: a symbol, an int, arithmetic of those, or ``n>=K``."""
    if isinstance(node, ast.Compare):
        if (len(node.ops) == 1 and isinstance(node.ops[0], ast.GtE)
                and isinstance(node.left, ast.Name)
                and isinstance(node.comparators[0], ast.Constant)
                and type(node.comparators[0].value) is int):
            return DimExpr(node.left.id, (node.left.id,), int(node.comparators[0].value))
        raise GeneratorError(
            f"in {text!r}: a size constraint must read like 'n>=2', got {ast.unparse(node)!r}")
    symbols: list[str] = []

    def check(n: ast.AST) -> None:
        if isinstance(n, ast.Constant) and type(n.value) is int:
            return
        if isinstance(n, ast.Name):
            if n.id not in symbols:
                symbols.append(n.id)
            return
        if isinstance(n, ast.BinOp) and type(n.op) in _INT_OPS:
            check(n.left)
            check(n.right)
            return
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            check(n.operand)
            return
        raise GeneratorError(
            f"in {text!r}: expected a dimension (a name like B, an integer, or +, -, *, // of those), "
            f"got {ast.unparse(n)!r}")

    check(node)
    return DimExpr(ast.unparse(node), tuple(symbols))


def _keyword_value(kw: ast.keyword, text: str) -> object:
    v = kw.value
    if kw.arg == "dtype":
        name = ast.unparse(v).removeprefix("torch.")
        if name not in DTYPES:
            raise GeneratorError(f"in {text!r}: unknown dtype {name!r}; expected one of {', '.join(DTYPES)}")
        return name
    if kw.arg == "requires_grad":
        if isinstance(v, ast.Constant) and isinstance(v.value, bool):
            return v.value
        raise GeneratorError(f"in {text!r}: requires_grad must be True or False")
    if isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub) and isinstance(v.operand, ast.Constant):
        v = ast.Constant(-v.operand.value)
    if isinstance(v, ast.Constant) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        return v.value
    raise GeneratorError(f"in {text!r}: {kw.arg}= must be a number, got {ast.unparse(kw.value)!r}")


def parse_generator(text: str) -> InputSpec:
    """Parse a generator string into an :class:`InputSpec`, or raise :class:`GeneratorError`."""
    src = text.strip()
    try:
        node = ast.parse(src, mode="eval").body
    except SyntaxError as exc:
        raise GeneratorError(
            f"{text!r} does not parse (col {exc.offset}): expected a call like 'randn(B, d)'") from None
    if isinstance(node, ast.Name):  # `rand` alone: a 0-d tensor
        node = ast.Call(func=node, args=[], keywords=[])
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise GeneratorError(f"{text!r}: expected a call like 'randn(B, d)'")
    name = node.func.id
    info = GENERATORS.get(name)
    if info is None:
        raise GeneratorError(f"{text!r}: unknown generator {name!r}; expected one of {', '.join(GENERATORS)}")
    keywords: dict[str, object] = {}
    for kw in node.keywords:
        if kw.arg not in info.keywords:
            allowed = ", ".join(sorted(info.keywords)) or "none"
            raise GeneratorError(f"{text!r}: {name}() takes no keyword {kw.arg!r} (allowed: {allowed})")
        keywords[kw.arg] = _keyword_value(kw, text)
    args = node.args
    dims: tuple[DimExpr, ...] = ()
    int_args: tuple[DimExpr, ...] = ()
    if info.positional == "dims":
        dims = tuple(dim_expr(a, text) for a in args)
        if name in ("spd", "orthogonal") and not dims:
            raise GeneratorError(f"{text!r}: {name}() needs at least the matrix size n")
    elif info.positional == "one_dim":
        if len(args) != 1:
            raise GeneratorError(f"{text!r}: {name}() takes exactly one size, like {name}(n)")
        dims = (dim_expr(args[0], text),)
    elif info.positional == "int_then_shape":
        if not (2 <= len(args) <= 3) or not isinstance(args[-1], ast.Tuple):
            raise GeneratorError(
                f"{text!r}: expected randint(high, (shape...)) or randint(low, high, (shape...)), "
                "e.g. randint(C, (B,))")
        int_args = tuple(dim_expr(a, text) for a in args[:-1])
        dims = tuple(dim_expr(a, text) for a in args[-1].elts)
    return InputSpec(source=src, name=name, dims=dims, int_args=int_args, keywords=keywords)


@dataclass(frozen=True)
class DimRule:
    """How a dimension symbol is drawn: free within bounds, fixed, or derived from others."""

    minimum: int = 1
    maximum: int | None = None
    even: bool = False
    fixed: int | None = None
    derived: DimExpr | None = None


def parse_dim_rule(value: object) -> DimRule:
    """Parse a ``dims`` table entry: ``8``, ``"even"``, ``">=2"``, ``"even >=4 <=16"`` or ``"h*k"``."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise GeneratorError(f"expected an integer or a string like 'even', '>=2' or 'h*k', got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise GeneratorError(f"a fixed size must be at least 1, got {value}")
        return DimRule(fixed=value)
    words = value.replace(">= ", ">=").replace("<= ", "<=").split()
    if words and all(w == "even" or w.startswith((">=", "<=")) for w in words):
        rule = {"minimum": 1, "maximum": None, "even": False}
        for w in words:
            if w == "even":
                rule["even"] = True
                continue
            try:
                n = int(w[2:])
            except ValueError:
                raise GeneratorError(f"in {value!r}: expected an integer after {w[:2]!r}") from None
            rule["minimum" if w.startswith(">=") else "maximum"] = n
        if rule["even"] and rule["minimum"] < 2:
            rule["minimum"] = 2
        if rule["maximum"] is not None and rule["maximum"] < rule["minimum"]:
            raise GeneratorError(f"in {value!r}: the maximum is below the minimum")
        return DimRule(**rule)
    try:
        node = ast.parse(value.strip(), mode="eval").body
    except SyntaxError:
        raise GeneratorError(
            f"{value!r} does not parse: expected 'even', '>=K', '<=K' or an expression like 'h*k'") from None
    return DimRule(derived=dim_expr(node, value))
