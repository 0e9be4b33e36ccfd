"""The grading engine: one object that grades any card, in ``own`` or ``strict`` mode, CPU or GPU.

The engine is the trusted side: it draws the trials, runs the card's reference
and compares. Answers to ``expr`` and ``kernel`` cards run elsewhere, in a
runner (a warm worker for ``own``, a sandboxed child for ``strict``).
``shape``, ``output`` and ``symbolic`` answers are parsed, never run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from ..cards import Card, instantiate
from .result import GradeResult
from .worker import OwnRunner, RunnerUnavailable

__all__ = ["MODES", "Engine", "RunnerUnavailable", "resolve_device"]

MODES = ("own", "strict")


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is usable, else ``cpu``; ``cuda`` without one is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RunnerUnavailable("--device cuda was asked for, but torch sees no CUDA device")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}; expected auto, cpu or cuda")
    return device


class Engine:
    """Grades answers; create once, grade many (the runner stays warm), then ``close``.

    ``timeout`` bounds one answer's run (all its trials), ``memory_mb`` its memory;
    ``jobs`` is how many answers :meth:`grade_many` runs at once in strict mode.
    """

    def __init__(self, mode: str = "own", device: str = "auto", *, timeout: float = 5.0,
                 memory_mb: int = 2048, jobs: int = 1) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        self.mode = mode
        self.device = resolve_device(device)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.jobs = max(1, jobs)
        self._runner: Any = None

    @property
    def runner(self) -> Any:
        """The runner, started on first use (strict mode fails closed here if no sandbox)."""
        if self._runner is None:
            if self.mode == "own":
                self._runner = OwnRunner(self.device, self.memory_mb)
            else:
                from .sandbox import StrictRunner

                self._runner = StrictRunner(self.device, self.memory_mb, jobs=self.jobs)
        return self._runner

    def start(self) -> dict[str, Any]:
        """Start the runner now and wait until it can take answers; return what it reports."""
        return self.runner.wait_ready()

    def warm_up(self) -> list[str]:
        """Grade one shape, output and symbolic card of our own (all correct answers; the
        verdicts are returned): the first of each kind pays ~0.5 s of lazy set-up (torch's meta
        kernels, sympy's caches) that a learner would otherwise wait for on a first such card."""
        base = {"id": "warm.up", "title": "", "title_zh": "", "source": "", "prompt": ""}
        return [self.grade(Card(kind=kind, **base, **extra), answer).verdict for kind, answer, extra in (
            ("shape", "(3, 2)", {"code": "nn.Linear(4, 2)(torch.randn(3, 4))"}),
            ("output", "tensor([0, 1, 3])", {"code": "torch.arange(3).cumsum(0)"}),
            ("symbolic", "x*x", {"answer": "x^2", "variables": {"x": "real"}}))]

    def grade(self, card: Card, answer: str, *, seed: int = 0) -> GradeResult:
        """Grade one answer to one card, with the trials and parameters drawn from ``seed``."""
        return self._grade(card, answer, seed, self.runner if card.kind in ("expr", "kernel") else None)

    def _grade(self, card: Card, answer: str, seed: int, runner: Any) -> GradeResult:
        """Grade with the given runner (the engine's, or a strict session's child)."""
        from .output_cards import grade_output_card
        from .shape_cards import grade_shape_card
        from .symbolic import grade_symbolic_card
        from .tensor_cards import grade_tensor_card

        start = time.perf_counter()
        card = instantiate(card, seed)
        if card.kind in ("expr", "kernel"):
            res = grade_tensor_card(card, answer, seed=seed, runner=runner, device=self.device,
                                    timeout=self.timeout)
        elif card.kind == "shape":
            res = grade_shape_card(card, answer)
        elif card.kind == "output":
            res = grade_output_card(card, answer)
        elif card.kind == "symbolic":
            res = grade_symbolic_card(card, answer, seed=seed)
        else:
            res = GradeResult(card.id, "error", f"a {card.kind} card is rated by the learner, not graded",
                              stage="parse")
        res.elapsed_ms = (time.perf_counter() - start) * 1000
        return res

    def grade_many(self, items: Iterable[tuple[Card, str, int]]) -> list[GradeResult]:
        """Grade several (card, answer, seed) items; results in input order.

        In strict mode up to ``jobs`` answers run at once, each in its own sandboxed
        child; the own-mode worker takes one answer at a time.
        """
        items = list(items)
        jobs = min(getattr(self.runner, "jobs", 1), len(items)) if self.mode == "strict" else 1
        if jobs <= 1:
            return [self.grade(card, answer, seed=seed) for card, answer, seed in items]
        from concurrent.futures import ThreadPoolExecutor

        self.start()  # one runner, started before the threads share it
        with ThreadPoolExecutor(jobs, thread_name_prefix="atlas-quiz-grade") as pool:
            return list(pool.map(lambda item: self.grade(item[0], item[1], seed=item[2]), items))

    def grade_submission(self, items: Iterable[tuple[Card, str, int]]) -> list[GradeResult]:
        """Grade all of one student's items; results in input order.

        On CUDA in strict mode one sandboxed child serves the whole submission, so
        CUDA's start-up (about 0.5 s a process) is paid once per student, not per
        answer; a timeout or crash costs that child, and the next item gets a fresh
        one. Elsewhere this is :meth:`grade_many`.
        """
        items = list(items)
        if self.mode != "strict" or not self.device.startswith("cuda"):
            return self.grade_many(items)
        from .sandbox import CUDA_START_S

        wall = CUDA_START_S + len(items) * (self.timeout + 1.0)
        with self.runner.session(wall) as child:
            return [self._grade(card, answer, seed, child) for card, answer, seed in items]

    def close(self) -> None:
        """Stop the runner's processes."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
