"""Grading ``shape`` cards: the card's code runs on the ``meta`` device, the answer is parsed."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import torch

from ..cards import Card
from .program import compile_answer, describe_error, quiet
from .result import CardError, GradeResult

__all__ = ["ERROR", "clean_answer", "expected_shape", "grade_shape_card", "is_error_answer", "parse_shape"]

ERROR = "error"
# "error", "RuntimeError", "it raises an error", "raises ValueError", "fails", ...: the head of an
# answer that says the code fails; an explanation may follow after ":", "(", " - " or " because".
_ERROR_HEAD = re.compile(
    r"(?:it\s+)?(?:(?:raises|throws|errors|fails|gives|is)\s+)?(?:(?:an?|the)\s+)?"
    r"(?:(?:torch\.)?[a-z_.]*(?:error|exception)|err|raises|throws|errors|fails)", re.IGNORECASE)
_EXPLANATION = re.compile(r"\s*(?::|\(|\s-+\s|\s[\u2013\u2014]\s|,|\sbecause\b).*$", re.S)
# a label a learner may write before the value: "shape: ...", "out.shape = ...", "-> ..."
_LABEL = re.compile(r"^(?:[\w.]*\b(?:shape|size)\b\s*(?:[:=]|->|is)|->|=>|=)\s*", re.IGNORECASE)


def clean_answer(text: str) -> str:
    """The answer without what is not part of it: markdown backticks, a ``>>>`` prompt, and a
    sentence's full stop or exclamation mark."""
    s = text.strip().strip("`").strip()
    s = re.sub(r"^>>>\s*", "", s)
    return s.rstrip(".!").strip()


def is_error_answer(text: str) -> bool:
    """``error``, ``raises``, ``RuntimeError: ...`` and the like: the learner says the code fails
    (perhaps with the reason, which is not graded)."""
    head = _EXPLANATION.sub("", clean_answer(text)).strip()
    return _ERROR_HEAD.fullmatch(head) is not None


def parse_shape(text: str) -> tuple[int, ...] | str:
    """Read ``(8, 16)``, ``8,16``, ``8 x 16``, ``[8, 16]``, ``torch.Size([8, 16])``,
    ``shape: (8, 16)`` or ``error``."""
    if is_error_answer(text):
        return ERROR
    if not clean_answer(text).strip():
        raise ValueError("the answer is empty: write the shape like (8, 16), () for a scalar, "
                         "or `error` if the code raises")
    s = _LABEL.sub("", clean_answer(text)).strip()
    s = re.sub(r"^(torch\.)?Size\s*\(\s*(.*)\s*\)$", r"\2", s, flags=re.S)
    s = s.strip()
    if s and s[0] in "([" and s[-1] in ")]":
        s = s[1:-1]
    s = re.sub(r"\s*[xX×*]\s*", ",", s) if re.fullmatch(r"[\d\sxX×*]+", s) else s
    s = s.strip()
    if not s:
        return ()
    parts = [p.strip() for p in re.split(r"[,\s]+", s) if p.strip()]
    if not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise ValueError(f"could not read {text.strip()!r} as a shape; write it like (8, 16, 16, 16), "
                         "or `error` if the code raises")
    return tuple(int(p) for p in parts)


def _run_code(code: str) -> Any:
    fn = compile_answer(code, [])
    with quiet():
        try:
            with torch.device("meta"):
                return fn()
        except NotImplementedError:  # an op without a meta kernel: pay for real data
            return fn()


def expected_shape(card: Card) -> tuple[tuple[int, ...] | str, str]:
    """The shape the card's (instantiated) code produces, or ``error`` and the error message."""
    try:
        value = _run_code(card.code)
    except Exception as exc:
        message, _ = describe_error(exc)
        return ERROR, message
    if isinstance(value, torch.Tensor):
        return tuple(value.shape), ""
    if isinstance(value, torch.Size):
        return tuple(value), ""
    raise CardError(f"the code of {card.id} must end in a tensor or torch.Size, "
                    f"got {type(value).__name__}")


def _fmt(shape: tuple[int, ...] | str) -> str:
    if shape == ERROR:
        return "an error"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def grade_shape_card(card: Card, answer: str) -> GradeResult:
    """Grade a shape answer against the shape the card's code really produces."""
    result = partial(GradeResult, card.id)  # the engine times the whole grade

    try:
        got = parse_shape(answer)
    except (ValueError, SyntaxError) as exc:
        return result("error", str(exc), stage="parse")
    want, message = expected_shape(card)
    if got == want:
        extra = f" ({message})" if want == ERROR else ""
        return result("correct", f"correct: {_fmt(want)}{extra}", stage="ok", shape_ok=True)
    mistake = next((r.why or f"this is a known mistake: {r.answer}" for r in card.reject
                    if _parses_to(r.answer, got)), "")
    feedback = f"expected {_fmt(want)}, got {_fmt(got)}"
    if want == ERROR:
        feedback += f": the code raises {message}"
    elif got != ERROR and len(got) == len(want):
        dims = [i for i, (a, b) in enumerate(zip(want, got)) if a != b]
        feedback += f" (dimension {dims[0]} differs)"
    elif got != ERROR:
        feedback += f" (expected {len(want)} dimensions, got {len(got)})"
    if mistake:
        feedback = f"Known mistake: {mistake}\n{feedback}"
    return result("wrong", feedback, stage="shape", mistake=mistake,
                  details={"expected": list(want) if want != ERROR else ERROR,
                           "got": list(got) if got != ERROR else ERROR})


def _parses_to(text: str, shape: tuple[int, ...] | str) -> bool:
    try:
        return parse_shape(text) == shape
    except (ValueError, SyntaxError):
        return False
