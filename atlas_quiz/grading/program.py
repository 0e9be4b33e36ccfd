"""Turning answer text into a function over the card's names, and describing its errors."""

from __future__ import annotations

import builtins
import contextlib
import math
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..cards import AnswerSyntaxError, answer_function
from ..cards.answers import FUNCTION_NAME
from ..cards.schema import ANSWER_MODULES

__all__ = ["ANSWER_FILE", "ANSWER_GLOBALS", "AnswerSyntaxError", "compile_answer", "describe_error", "quiet", "scope"]

ANSWER_FILE = "<answer>"


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence warnings while deck code runs in the grader: they are not the learner's business."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


ANSWER_GLOBALS = frozenset(ANSWER_MODULES)


def scope() -> dict[str, Any]:
    """The globals every answer sees: ``torch``, ``F``, ``nn``, ``math`` and the builtins."""
    modules = dict(zip(ANSWER_MODULES, (torch, F, nn, math), strict=True))
    return {**modules, "__builtins__": builtins, "__name__": "__answer__"}


def compile_answer(text: str, argnames: Sequence[str],
                   extra_globals: dict[str, Any] | None = None) -> Callable[..., Any]:
    """Compile an expression or a body ending in ``return`` into ``f(*args)``."""
    module = answer_function(text, list(argnames))
    try:
        code = compile(module, ANSWER_FILE, "exec")
    except SyntaxError as exc:  # e.g. `return` outside a function body, nonlocal misuse
        raise AnswerSyntaxError(f"SyntaxError: {exc.msg}", exc.lineno) from None
    except (RecursionError, MemoryError):
        raise AnswerSyntaxError("the answer is nested too deeply to compile") from None
    namespace = scope()
    if extra_globals:
        namespace.update(extra_globals)
    exec(code, namespace)  # defines the function; runs nothing of the answer yet
    return namespace[FUNCTION_NAME]


def describe_error(exc: BaseException) -> tuple[str, int | None]:
    """``"TypeError: ..."`` and the answer's line where it was raised (None if outside it)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == ANSWER_FILE:
            line = frame.lineno
    # A kernel answer runs from a file of its own, perhaps in a child process (grading/kernel.py):
    # it marks its line and, where the type alone would mislead, its description.
    line = getattr(exc, "answer_line", line)
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 300:
        first = first[:300] + "..."
    described = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return getattr(exc, "answer_message", None) or described, line
