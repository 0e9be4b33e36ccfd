"""Comparing an answer's value with the reference's, and saying the first thing that differs.

Order of checks: type and structure, shape (exactly: broadcasting never lets a
wrong shape pass), dtype (unless the card allows promotion), then values with
dtype-aware tolerances, NaN and inf in the same places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from .wire import Foreign

__all__ = ["Difference", "TOLERANCES", "first_difference", "tolerance_for", "type_name"]

# (rtol, atol) per dtype, as torch.testing.assert_close uses them, except float64: its 1e-7 there
# lets an answer computed in float32 and cast back pass (float32 rounds at ~6e-8), so a float64
# card would not tell the two apart. 1e-10 sits between: float64 formulations that differ in
# order of operations or algorithm differ by ~1e-14 on the decks' well-conditioned inputs.
TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-10, 1e-10),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-10, 1e-10),
}
# A Python float may come from a float32 tensor (``.item()``): torch.testing's float64 default.
PYTHON_FLOAT_TOLERANCE = (1e-7, 1e-7)


@dataclass
class Difference:
    """The first difference found: at which check, a sentence for the learner, and the data."""

    stage: str  # type | shape | dtype | values
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def type_name(v: Any) -> str:
    """A learner-facing name of a value's type."""
    if isinstance(v, Foreign):
        return v.type_name
    if isinstance(v, torch.Tensor):
        return "tensor"
    return type(v).__name__


def tolerance_for(dtype: torch.dtype, rtol: float | None, atol: float | None) -> tuple[float, float]:
    """The card's tolerances where given, else the dtype's."""
    d_rtol, d_atol = TOLERANCES.get(dtype, (0.0, 0.0))
    return (d_rtol if rtol is None else rtol), (d_atol if atol is None else atol)


def _fmt(x: float | int | bool | complex) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def _index(flat: int, shape: torch.Size) -> list[int]:
    idx = []
    for size in reversed(shape):
        idx.append(flat % size)
        flat //= size
    return list(reversed(idx))


def _tensor_difference(exp: torch.Tensor, got: torch.Tensor, rtol: float | None, atol: float | None,
                       allow_promotion: bool) -> Difference | None:
    if tuple(exp.shape) != tuple(got.shape):
        return Difference("shape", f"expected shape {tuple(exp.shape)}, got {tuple(got.shape)}",
                          {"expected": list(exp.shape), "got": list(got.shape)})
    dtype_difference = Difference("dtype", f"expected dtype {exp.dtype}, got {got.dtype}",
                                  {"expected": str(exp.dtype), "got": str(got.dtype)})
    if exp.dtype != got.dtype and (
            not allow_promotion or (exp.is_floating_point() and not got.is_floating_point())):
        return dtype_difference
    try:  # float8 and uint16-64 have no promotion in torch: a different dtype is simply wrong
        common = torch.promote_types(exp.dtype, got.dtype)
    except RuntimeError:
        return dtype_difference
    e = exp.detach().cpu()
    g = got.detach().cpu()
    if exp.numel() == 0:
        return None
    if not (common.is_floating_point or common.is_complex):
        e, g = e.to(common), g.to(common)  # integers and bools: exactly
        bad = e != g
        if not bad.any():
            return None
        flat = int(bad.flatten().nonzero()[0])
        idx = _index(flat, e.shape)
        ev, gv = e.flatten()[flat].item(), g.flatten()[flat].item()
        return Difference("values", f"at {idx}: expected {_fmt(ev)}, got {_fmt(gv)} "
                                    f"({int(bad.sum())} of {e.numel()} elements differ)",
                          {"index": idx, "expected": ev, "got": gv, "mismatched": int(bad.sum())})
    # the reference's own precision sets the tolerance; an int reference takes the common dtype's.
    # Both go straight to 64 bits: an int64 reference through float32 would lose its low digits.
    rtol, atol = tolerance_for(exp.dtype if exp.is_floating_point() else common, rtol, atol)
    e64 = e.to(torch.complex128 if common.is_complex else torch.float64)
    g64 = g.to(e64.dtype)
    nonfinite = _nonfinite_difference(e64, g64)
    if nonfinite is not None:
        return nonfinite
    finite = torch.isfinite(e64)
    err = torch.where(finite, (e64 - g64).abs(), torch.zeros((), dtype=torch.float64))
    allowed = atol + rtol * torch.where(finite, e64.abs(), torch.zeros((), dtype=torch.float64))
    bad = err > allowed
    if not bad.any():
        return None
    worst = torch.where(bad, err, torch.zeros((), dtype=torch.float64))
    flat = int(worst.flatten().argmax())
    idx = _index(flat, e.shape)
    ev, gv = e64.flatten()[flat].item(), g64.flatten()[flat].item()
    max_err = float(err.flatten()[flat])
    return Difference(
        "values",
        f"max abs error {max_err:.3g} at {idx}: expected {_fmt(ev)}, got {_fmt(gv)} "
        f"({int(bad.sum())} of {e.numel()} elements outside rtol {rtol:g}, atol {atol:g})",
        {"index": idx, "expected": _fmt(ev), "got": _fmt(gv), "max_abs_error": max_err,
         "mismatched": int(bad.sum()), "rtol": rtol, "atol": atol})


def _nonfinite_difference(e64: torch.Tensor, g64: torch.Tensor) -> Difference | None:
    """NaN and inf must sit in the same places (and infs have the same sign)."""
    for what, test in (("NaN", torch.isnan), ("inf", torch.isinf)):
        me, mg = test(e64), test(g64)
        if (me != mg).any():
            flat = int((me != mg).flatten().nonzero()[0])
            idx = _index(flat, e64.shape)
            ev, gv = e64.flatten()[flat].item(), g64.flatten()[flat].item()
            return Difference("values", f"{what} in the wrong place at {idx}: expected {_fmt(ev)}, "
                                        f"got {_fmt(gv)}",
                              {"index": idx, "expected": repr(ev), "got": repr(gv), "nonfinite": what})
    inf = torch.isinf(e64)
    if inf.any() and (e64[inf] != g64[inf]).any():
        idx = _index(int((inf & (e64 != g64)).flatten().nonzero()[0]), e64.shape)
        return Difference("values", f"inf of the wrong sign at {idx}", {"index": idx, "nonfinite": "inf"})
    return None


def first_difference(expected: Any, got: Any, *, rtol: float | None = None, atol: float | None = None,
                     allow_promotion: bool = False, where: str = "") -> Difference | None:
    """The first way ``got`` differs from ``expected``, or None when they agree."""
    prefix = f"{where}: " if where else ""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            hint = " (use a tensor op, not .item() or .tolist())" if isinstance(got, (int, float, list)) else ""
            return Difference("type", f"{prefix}expected a tensor, got {type_name(got)}{hint}",
                              {"expected": "tensor", "got": type_name(got)})
        diff = _tensor_difference(expected, got, rtol, atol, allow_promotion)
        if diff and prefix:
            diff.message = prefix + diff.message
        return diff
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return Difference("type", f"{prefix}expected a {type(expected).__name__} of "
                                      f"{len(expected)} values, got {type_name(got)}",
                              {"expected": type(expected).__name__, "got": type_name(got)})
        if len(got) != len(expected):
            return Difference("shape", f"{prefix}expected {len(expected)} values, got {len(got)}",
                              {"expected": len(expected), "got": len(got)})
        for i, (e, g) in enumerate(zip(expected, got)):
            diff = first_difference(e, g, rtol=rtol, atol=atol, allow_promotion=allow_promotion,
                                    where=f"{where}[{i}]" if where else f"item {i}")
            if diff:
                return diff
        return None
    if isinstance(expected, torch.Size):
        ok = isinstance(got, (torch.Size, tuple, list)) and list(got) == list(expected)
        return None if ok else Difference("values", f"{prefix}expected {tuple(expected)}, got {got!r}")
    if expected is None:
        return None if got is None else Difference("type", f"{prefix}expected None, got {type_name(got)}")
    if isinstance(expected, (bool, int)):
        if isinstance(got, bool) != isinstance(expected, bool) or not isinstance(got, int):
            return Difference("type", f"{prefix}expected {type(expected).__name__}, got {type_name(got)}")
        return None if got == expected else Difference(
            "values", f"{prefix}expected {expected}, got {got}", {"expected": expected, "got": got})
    if isinstance(expected, float):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return Difference("type", f"{prefix}expected a float, got {type_name(got)}")
        r = PYTHON_FLOAT_TOLERANCE[0] if rtol is None else rtol
        a = PYTHON_FLOAT_TOLERANCE[1] if atol is None else atol
        if math.isnan(expected) and math.isnan(got):
            return None
        if got == expected or abs(got - expected) <= a + r * abs(expected):
            return None
        return Difference("values", f"{prefix}expected {_fmt(expected)}, got {_fmt(float(got))}",
                          {"expected": expected, "got": got})
    if isinstance(expected, str):
        return None if got == expected else Difference(
            "values", f"{prefix}expected {expected!r}, got {got!r}"[:300])
    return Difference("type", f"{prefix}cannot compare with a {type_name(expected)}")
