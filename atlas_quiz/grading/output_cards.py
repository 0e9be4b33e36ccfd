"""Grading ``output`` cards: the learner writes what PyTorch prints; it is parsed, never evaluated.

Accepted forms: ``tensor([[3], [12]])`` (with ``dtype=``, ``requires_grad=``,
``grad_fn=<...>`` as printed), nested lists, numbers, ``True``/``False``,
``nan``/``inf``, tuples, ``torch.Size([2, 3])``, dtypes like ``torch.int64``,
and ``error`` when the code raises.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch

from ..cards import Card
from .program import compile_answer, describe_error, quiet
from .result import GradeResult
from .shape_cards import ERROR, is_error_answer, parse_shape

__all__ = ["Literal", "TensorLiteral", "expected_output", "grade_output_card", "parse_literal"]

_MAX_LEN = 20_000
_RTOL, _ATOL = 1e-4, 1e-4  # 4 printed decimals, give or take one in the last: 0.8808 for 0.88080, not 0.8820


class Literal(ValueError):
    """An answer that is not a printed value; the message says what was expected."""


@dataclass
class TensorLiteral:
    """A parsed ``tensor(...)``: its values as nested lists, whether they were written as floats."""

    values: Any
    kind: str  # "bool" | "int" | "float"
    dtype: str | None = None


def _strip_printed(text: str) -> str:
    text = re.sub(r"^>>>\s*", "", text.strip().strip("`").strip())  # pasted from a session or markdown
    text = re.sub(r",\s*grad_fn=<\w+>", "", text)
    text = re.sub(r",\s*device='[^']*'", "", text)
    return text.strip()


def parse_literal(text: str) -> Any:
    """Parse a printed value into Python data (:class:`TensorLiteral` for tensors)."""
    s = _strip_printed(text)
    if len(s) > _MAX_LEN:
        raise Literal(f"the answer is longer than {_MAX_LEN} characters")
    if is_error_answer(s):
        return ERROR
    try:
        node = ast.parse(s, mode="eval").body
        return _value(node)
    except (SyntaxError, RecursionError, MemoryError):
        raise Literal(f"could not read {s[:60]!r}: write the value as PyTorch prints it, "
                      "e.g. tensor([[3], [12]])") from None


def _number(node: ast.AST) -> tuple[float | int | bool, str]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v, kind = _number(node.operand)
        return (-v if isinstance(node.op, ast.USub) else v), kind
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        v = node.value
        return v, "bool" if isinstance(v, bool) else ("float" if isinstance(v, float) else "int")
    if isinstance(node, ast.Name) and node.id in ("nan", "inf"):
        return float(node.id), "float"
    raise Literal(f"{ast.unparse(node)!r} is not a number")


def _nested(node: ast.AST) -> tuple[Any, set[str]]:
    if isinstance(node, (ast.List, ast.Tuple)):
        out, kinds = [], set()
        for elt in node.elts:
            v, k = _nested(elt)
            out.append(v)
            kinds |= k
        return out, kinds
    v, kind = _number(node)
    return v, {kind}


def _dtype_name(node: ast.AST) -> str:
    name = ast.unparse(node).removeprefix("torch.")
    if not isinstance(getattr(torch, name, None), torch.dtype):
        raise Literal(f"{ast.unparse(node)!r} is not a dtype")
    return name


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Call):
        fname = ast.unparse(node.func)
        if fname in ("tensor", "torch.tensor"):
            if len(node.args) != 1:
                raise Literal("tensor(...) takes one nested list of values")
            values, kinds = _nested(node.args[0])
            kind = "float" if "float" in kinds else ("int" if "int" in kinds else "bool" if kinds else "float")
            dtype = None
            for kw in node.keywords:
                if kw.arg == "dtype":
                    dtype = _dtype_name(kw.value)
                elif kw.arg not in ("requires_grad", "device"):
                    raise Literal(f"unexpected keyword {kw.arg}= in tensor(...)")
            return TensorLiteral(values, kind, dtype)
        if fname in ("torch.Size", "Size"):
            shape = parse_shape(ast.unparse(node))
            return torch.Size(shape)
        raise Literal(f"{fname}(...) is not something PyTorch prints; expected tensor(...)")
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_value(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Attribute) or (isinstance(node, ast.Name) and node.id not in ("nan", "inf")):
        return getattr(torch, _dtype_name(node))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    return _number(node)[0]


def expected_output(card: Card) -> tuple[Any, str]:
    """The value the card's (instantiated) code ends in, or ``error`` and the error message."""
    fn = compile_answer(card.code, [])
    try:
        torch.manual_seed(0)
        with quiet():
            return fn(), ""
    except Exception as exc:
        return ERROR, describe_error(exc)[0]


def _literal_kind(values: Any) -> str:
    """``float`` if any number was written as a float, ``bool`` if all are booleans, else ``int``."""
    flat: list[Any] = []
    stack = [values]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        else:
            flat.append(v)
    if any(isinstance(v, float) for v in flat):
        return "float"
    return "bool" if flat and all(isinstance(v, bool) for v in flat) else "int"


def _as_lists(v: Any) -> Any:
    """Numbers written as a tuple, ``0, 1, 3, 6`` or ``(0, 1, 3, 6)``, read like a list when a tensor
    is expected: the values and their shape are the same either way."""
    if isinstance(v, tuple) and all(isinstance(x, (tuple, list, int, float)) for x in v):
        return [_as_lists(x) for x in v]
    if isinstance(v, list):
        return [_as_lists(x) for x in v]
    return v


def _kind(t: torch.Tensor) -> str:
    return "bool" if t.dtype == torch.bool else "float" if t.is_floating_point() else "int"


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= _ATOL + _RTOL * abs(a)


def _compare(want: Any, got: Any) -> str | None:
    """A sentence for the first difference, or None."""
    if want is ERROR or got is ERROR:
        return None if want is got else ("the code raises an error" if want is ERROR
                                          else "the code does not raise; it prints a value")
    if isinstance(want, torch.Tensor):
        values = got.values if isinstance(got, TensorLiteral) else _as_lists(got)
        if not isinstance(values, (list, int, float, bool)):
            return f"expected a tensor, got {type(got).__name__}"
        try:
            shape = tuple(torch.tensor(values, dtype=torch.float64).shape)
        except (ValueError, TypeError):
            return "the nested lists are ragged: every row must have the same length"
        if shape != tuple(want.shape):
            return f"expected a tensor of shape {tuple(want.shape)}, got shape {shape}"
        kind = got.kind if isinstance(got, TensorLiteral) else _literal_kind(values)
        if kind != _kind(want):  # 3 and 3. print differently: the dtype is part of the answer
            return (f"the values are {_kind(want)}s, not {kind}s "
                    f"(the result's dtype is {want.dtype})")
        if isinstance(got, TensorLiteral) and got.dtype and getattr(torch, got.dtype) != want.dtype:
            return f"the dtype is {want.dtype}, not torch.{got.dtype}"
        flat_w = want.detach().double().flatten().tolist()
        flat_g = torch.tensor(values, dtype=torch.float64).flatten().tolist()
        for i, (a, b) in enumerate(zip(flat_w, flat_g)):
            if not _close(a, b):
                idx = list(torch.unravel_index(torch.tensor(i), want.shape)) if want.dim() else []
                return f"at {[int(x) for x in idx]}: expected {a:g}, got {b:g}"
        return None
    if isinstance(want, torch.Size):
        return None if isinstance(got, torch.Size | tuple | list) and list(got) == list(want) else \
            f"expected torch.Size({list(want)})"
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"expected a {type(want).__name__} of {len(want)} values"
        for i, (w, g) in enumerate(zip(want, got)):
            diff = _compare(w, g)
            if diff:
                return f"item {i}: {diff}"
        return None
    if isinstance(want, torch.dtype):
        return None if got == want else f"expected a dtype, {want}"
    if isinstance(want, bool) or isinstance(got, bool):
        return None if type(want) is type(got) and want == got else f"expected {want}"
    if isinstance(want, (int, float)):
        if not isinstance(got, (int, float)):
            return f"expected a number, got {type(got).__name__}"
        if isinstance(want, int) and isinstance(got, float) and not got.is_integer():
            return f"expected the integer {want}"
        return None if _close(float(want), float(got)) else f"expected {want}, got {got}"
    return None if want == got else f"expected {want!r}"


def grade_output_card(card: Card, answer: str) -> GradeResult:
    """Grade a printed value against what the card's code really produces."""
    result = partial(GradeResult, card.id)  # the engine times the whole grade

    try:
        got = parse_literal(answer)
    except (Literal, ValueError) as exc:
        return result("error", str(exc), stage="parse")
    want, message = expected_output(card)
    diff = _compare(want, got)
    if diff is None:
        return result("correct", "correct" + (f" (it raises {message})" if message else ""),
                      stage="ok", shape_ok=True)
    mistake = ""
    for r in card.reject:
        try:
            if _compare(_as_expected(parse_literal(r.answer)), got) is None:
                mistake = r.why or f"this is a known mistake: {r.answer}"
                break
        except (Literal, ValueError):
            continue
    feedback = (f"Known mistake: {mistake}\n" if mistake else "") + diff
    return result("wrong", feedback, stage="values", mistake=mistake)


def _as_expected(v: Any) -> Any:
    """A parsed literal turned into the value it stands for (to compare two answers)."""
    if isinstance(v, TensorLiteral):
        dtype = getattr(torch, v.dtype) if v.dtype else {
            "float": torch.float32, "int": torch.int64, "bool": torch.bool}[v.kind]
        return torch.tensor(v.values, dtype=dtype)
    if isinstance(v, list):
        return [_as_expected(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_as_expected(x) for x in v)
    return v
