"""Grading ``expr`` and ``kernel`` cards: the answer runs in a runner, the reference here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import torch

from ..cards import AnswerSyntaxError, Card, check_syntax
from ..cards.answers import check_kernel_body, unknown_names
from .compare import Difference, first_difference
from .inputs import Trial, build_trials
from .program import ANSWER_GLOBALS, compile_answer, describe_error, quiet
from .result import CardError, GradeResult
from .wire import decode, digest_bytes, encode
from .worker import AnswerCrashed, AnswerTimeout

__all__ = ["Outcome", "Runner", "grade_tensor_card", "run_trusted"]

# What an answer's process reports is capped here too: it could forge its own response.
_MAX_STDOUT = 2100


class Runner(Protocol):
    """Runs an answer request somewhere it can do no harm (see ``worker`` and ``sandbox``)."""

    def run(self, header: dict[str, Any], payload: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        """Send a request; return the response header and payload."""


@dataclass
class Outcome:
    """What one trial of an answer (or of a reference) produced."""

    value: Any = None
    error: str = ""
    line: int | None = None
    digests: dict[str, str] | None = None
    stdout: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)


def _clone(v: Any) -> Any:
    return v.detach().clone().requires_grad_(v.requires_grad) if isinstance(v, torch.Tensor) else v


def run_trusted(code: str, trial: Trial) -> Outcome:
    """Run deck code (a reference or a known mistake) here, on copies of the trial's inputs."""
    names = list(trial.args)
    try:
        with quiet():
            fn = compile_answer(code, names)
            value = fn(*(_clone(trial.args[n]) for n in names))
    except Exception as exc:
        message, line = describe_error(exc)
        return Outcome(error=message, line=line)
    return Outcome(value=value)


def _request(card: Card, answer: str, trials: list[Trial], device: str) -> tuple[dict, bytes, list]:
    names = list(trials[0].args)
    chunks: list[bytes] = []
    descs, sent = [], []
    for trial in trials:
        args = []
        digests = {}
        for name in names:
            v = trial.args[name]
            desc = encode(v, chunks)
            if isinstance(v, torch.Tensor):
                digests[name] = digest_bytes(chunks[-1])  # the bytes encode just took
                if v.requires_grad:
                    desc["requires_grad"] = True
            args.append(desc)
        descs.append({"args": args})
        sent.append(digests)
    header = {"op": "run", "kind": card.kind, "code": answer, "argnames": names, "trials": descs,
              "device": device}
    if card.kind == "kernel":
        header.update(signature=card.signature, launcher=card.launcher)
    return header, b"".join(chunks), sent


class MalformedResponse(Exception):
    """What the answer's process sent is not what an honest runner sends (it forged a frame)."""


def _line(value: Any) -> int | None:
    return value if type(value) is int else None


def _digests(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k)[:100]: str(v)[:100] for k, v in list(value.items())[:64]}


def _outcomes(response: dict, payload: bytes) -> list[Outcome]:
    """The trials of a response, every field checked: the answer shares the runner's process
    and may have written the frame itself, with any JSON in it. Raises MalformedResponse."""
    trials = response.get("trials", [])
    if not isinstance(trials, list):
        raise MalformedResponse("trials is not a list")
    out, offset = [], 0
    try:
        for t in trials:
            stdout = str(t.get("stdout", ""))[:_MAX_STDOUT]
            if t.get("status") == "ok":
                value, offset = decode(t["value"], payload, offset)
                out.append(Outcome(value=value, digests=_digests(t.get("digests")), stdout=stdout))
            else:
                out.append(Outcome(error=str(t.get("error", "error"))[:_MAX_STDOUT],
                                   line=_line(t.get("line")), stdout=stdout))
    except Exception as exc:  # WireError, KeyError, RecursionError, a tensor torch refuses to make...
        raise MalformedResponse(f"{type(exc).__name__}: {exc}"[:200]) from None
    return out


def _same(a: Outcome, b: Outcome, card: Card) -> bool:
    if a.failed or b.failed:
        return a.failed and b.failed and a.error.split(":")[0] == b.error.split(":")[0]
    return first_difference(a.value, b.value, rtol=card.rtol, atol=card.atol,
                            allow_promotion=card.allow_promotion) is None


def _known_mistake(card: Card, got: list[Outcome],
                   run_mistake: Callable[[str], list[Outcome]]) -> str | None:
    """The reason of the first ``reject`` that behaves exactly like the answer on every trial."""
    for reject in card.reject:
        mistakes = run_mistake(reject.answer)
        if len(mistakes) == len(got) and all(_same(m, g, card) for m, g in zip(mistakes, got)):
            return reject.why or f"this is a known mistake: {reject.answer}"
    return None


def _mistake_runner(card: Card, trials: list[Trial], runner: Runner, header: dict, payload: bytes,
                    timeout: float) -> Callable[[str], list[Outcome]]:
    """How a known mistake is run: deck code, so an expression runs here; a kernel where kernels run."""
    def run(code: str) -> list[Outcome]:
        if card.kind != "kernel":
            return [run_trusted(code, t) for t in trials]
        try:
            return _outcomes(*runner.run({**header, "code": code}, payload, timeout))
        except (AnswerTimeout, AnswerCrashed, MalformedResponse):
            return []

    return run


def _shape_failure(trials: list[Trial], expected: list[Outcome], got: list[Outcome]) -> str | None:
    """The first trial on which the answer fails or has the wrong shape or structure, said for
    the learner; None when every trial has the right shapes. Partial credit needs None, and a
    grade whose first difference is in the values must still say why it got none."""
    for i, (trial, exp, out) in enumerate(zip(trials, expected, got)):
        where = f"trial {i + 1} of {len(trials)} ({trial.describe()})"
        if out.failed:
            return f"error on {where}: {out.error}"
        diff = first_difference(exp.value, out.value, rtol=float("inf"), atol=float("inf"),
                                allow_promotion=True)
        if diff is not None and diff.stage != "values":
            return f"wrong shape on {where}: {diff.message}"
    return None


def grade_tensor_card(card: Card, answer: str, *, seed: int, runner: Runner, device: str = "cpu",
                      timeout: float = 5.0) -> GradeResult:
    """Grade an answer to an ``expr`` or ``kernel`` card; see DESIGN.md "Grading rules"."""
    result = partial(GradeResult, card.id)  # the engine times the whole grade
    try:
        (check_kernel_body if card.kind == "kernel" else check_syntax)(answer)
    except AnswerSyntaxError as exc:
        return result("error", str(exc), stage="parse")
    trials = build_trials(card, seed, device)
    typo = _name_typo(card, answer, trials)
    if typo:
        return result("error", typo[0], stage="parse", details={"unknown": typo[1]})
    reference = card.spec if card.kind == "kernel" else card.reference
    expected = [run_trusted(reference, t) for t in trials]
    for t, e in zip(trials, expected):
        if e.failed:
            raise CardError(f"the reference of {card.id} fails on {t.describe()}: {e.error}")
    header, payload, sent = _request(card, answer, trials, device)
    try:
        response, data = runner.run(header, payload, timeout)
    except AnswerTimeout as exc:
        return result("timeout", f"{exc}; look for an endless loop or a huge computation",
                      stage="run")
    except AnswerCrashed as exc:
        return result("error", str(exc), stage="run")
    if "compile_error" in response:
        line = _line(response.get("line"))
        where = f"line {line}: " if line else ""
        return result("error", where + str(response["compile_error"])[:_MAX_STDOUT], stage="parse")
    try:
        got = _outcomes(response, data)
    except MalformedResponse:
        got = []
    if len(got) != len(trials):
        return result("error", "the answer's process returned a malformed result", stage="run")
    res = _judge(card, trials, expected, got, sent)
    if not res.correct:
        why = _known_mistake(card, got, _mistake_runner(card, trials, runner, header, payload, timeout))
        if why:
            res.mistake = why
            res.feedback = f"Known mistake: {why}\n{res.feedback}"
        elif res.verdict == "error" and _DROPPED_AXIS.search(res.feedback) and _REDUCTION.search(answer) \
                and "keepdim" not in answer:
            res.feedback += ("\nA reduction without keepdim=True drops its axis, so its result no longer "
                             "lines up with the tensor it came from: keep the axis (keepdim=True) to broadcast.")
    return res


# A broadcast that failed, in an answer that reduces without keeping the axis: the classic
# missing keepdim, whose raw RuntimeError does not say so.
_DROPPED_AXIS = re.compile(r"must match the size of tensor b|shapes cannot be multiplied|"
                           r"cannot be broadcast|not broadcastable")
_REDUCTION = re.compile(r"\.(sum|mean|var|std|amax|amin|max|min|norm|logsumexp|prod|var_mean)\(\s*[^)\s]")


def _name_typo(card: Card, answer: str, trials: list[Trial]) -> tuple[str, list[str]] | None:
    """A name the answer reads that nothing defines (``X`` for ``x``): caught before running."""
    if card.kind != "expr":
        return None
    missing = unknown_names(answer, list(trials[0].args), ANSWER_GLOBALS)
    if not missing:
        return None
    in_scope = ", ".join([*trials[0].args, *sorted(ANSWER_GLOBALS)])
    return f"unknown name {missing[0]!r}: the names in scope are {in_scope}", missing


def _judge(card: Card, trials: list[Trial], expected: list[Outcome], got: list[Outcome],
           sent: list[dict[str, str]]) -> GradeResult:
    """The verdict from the first trial that differs: an error, a difference, a changed input."""
    result = partial(GradeResult, card.id)
    shape_failure = _shape_failure(trials, expected, got)
    for i, (trial, exp, out) in enumerate(zip(trials, expected, got)):
        context = f"(trial {i + 1} of {len(trials)}, {trial.describe()})"
        if out.failed:
            where = f"line {out.line}: " if out.line else ""
            return result("error", f"{where}{out.error}\n{context}", stage="run", output=out.stdout,
                          details={"trial": i, "line": out.line})
        diff = first_difference(exp.value, out.value, rtol=card.rtol, atol=card.atol,
                                allow_promotion=card.allow_promotion)
        if diff is None and not card.inplace:
            diff = _mutation(trial, sent[i], out.digests or {})
        if diff is None:
            continue
        details = {"trial": i, "dims": trial.dims, **diff.details}
        if shape_failure:
            details["shape_failure"] = shape_failure
        message = diff.message
        if card.kind == "kernel" and diff.details.get("nonfinite") == "NaN" and trial.label != "stress":
            message += ("\n(the launcher pads every input with NaN, so a NaN here usually comes "
                        "from a load outside its tensor: a missing mask, a wrong offset or a wrong stride)")
        return result("wrong", f"{message}\n{context}", stage=diff.stage,
                      shape_ok=shape_failure is None, output=out.stdout, details=details)
    return result("correct", f"correct on all {len(trials)} trials", stage="ok", shape_ok=True,
                  output=got[0].stdout if got else "")


def _mutation(trial: Trial, sent: dict[str, str], after: dict[str, str]) -> Difference | None:
    for name, before in sent.items():
        if after.get(name) != before:
            return Difference("mutation", f"the answer modified its input {name!r} in place; "
                                          f"use out-of-place operations (x * 2, not x.mul_(2))",
                              {"input": name})
    return None


