"""Grading a class: read every submission, grade what is new in parallel, write the results.

Answers are graded by :class:`atlas_quiz.grading.Engine` (imported only here,
when grading starts), in ``strict`` mode for other people's answers. Each
worker thread owns one engine; one student's answers form one unit of work
(on a GPU, one sandboxed child per student pays CUDA's start-up once).

Resumable: every verdict is appended, durably, to ``.cache/grades.jsonl``,
keyed by the card's content hash, the answer, the seed, the mode and the
device. A second run grades only what changed; a killed or interrupted run
loses at most the students in flight.

Failures: an answer the engine fails on (an unexpected exception) is reported
for that student, not cached, and grading goes on; an engine that cannot run
at all (``RunnerUnavailable``) stops the run at once, as does Ctrl-C, after the
students already graded are written to the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from .atomic import append_durable
from .gradebook import (
    StudentGrade,
    apply_late,
    apply_overrides,
    fmt_duration,
    read_overrides,
    score,
    write_feedback,
    write_gradebook,
    write_items,
    write_problems,
)
from .spec import Question, QuizSpec
from .submission import Rejected, Submission, parse_iso, read_submission

__all__ = ["GRADER_VERSION", "SUBMISSION_PATTERN", "ClassReport", "collect_submissions", "grade_class",
           "late_answers", "submission_files"]

# Part of every cache key: bump it when verdicts would change. 2: results name the first
# trial with a wrong shape (``details["shape_failure"]``), which the feedback shows.
GRADER_VERSION = "2"
SUBMISSION_PATTERN = "*.json"  # <student>.json, as `quiz take` and the lab write them
CACHE = Path(".cache") / "grades.jsonl"
# Stages of a result that is not a verdict on the answer: the card is broken, or the grader
# failed on this answer. Reported, never cached (the next run tries again), never the student's fault.
NOT_GRADED = ("card", "grader")

Progress = Callable[[int, int], None]  # (answers done, answers to grade)


@dataclass
class ClassReport:
    """What one grading run did and found."""

    grades: list[StudentGrade] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # file, student, problem
    graded_now: int = 0
    from_cache: int = 0
    blank: int = 0
    wall_s: float = 0.0


def _safe_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", stem).lstrip(".")[:64] or "unnamed"


def submission_files(folder: Path) -> list[Path]:
    """The submission files in ``folder``, sorted (``.`` files are atomic writes in progress)."""
    return [p for p in sorted(folder.glob(SUBMISSION_PATTERN)) if not p.name.startswith(".")]


def collect_submissions(spec: QuizSpec, folder: Path) -> tuple[dict[str, tuple[Path, Submission]],
                                                               list[StudentGrade]]:
    """Every ``*.json`` in ``folder``: the valid submissions by student, and the rejected ones.

    Two files for the same student are both rejected: the instructor decides
    which one counts, not the order of file names.
    """
    valid: dict[str, list[tuple[Path, Submission]]] = {}
    rejected: list[StudentGrade] = []
    for path in submission_files(folder):
        try:
            sub = read_submission(path, spec)
        except Rejected as exc:
            rejected.append(StudentGrade.rejected(_safe_name(path.stem), path.name, str(exc)))
            continue
        valid.setdefault(sub.student, []).append((path, sub))
    out: dict[str, tuple[Path, Submission]] = {}
    for student, found in valid.items():
        if len(found) == 1:
            out[student] = found[0]
            continue
        names = ", ".join(p.name for p, _ in found)
        for path, _ in found:
            rejected.append(StudentGrade.rejected(student, path.name,
                                                  f"several submissions for {student} ({names})"))
    return out, rejected


def cache_key(question: Question, answer: str, mode: str, device: str) -> str:
    """What a verdict depends on: the card's content, the answer, the seed, the mode, the device."""
    blob = json.dumps([GRADER_VERSION, question.card.content_hash(), question.seed, answer, mode,
                       device], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _load_cache(path: Path) -> dict[str, dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return cache
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            cache[entry["key"]] = entry["result"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # the line a crash cut short
    return cache


class _Engines:
    """The engines the worker threads use, all closed at the end.

    Strict mode shares one engine (one sandbox zygote, ``jobs`` children at a
    time) between the threads; the ``own`` worker takes one answer at a time,
    so there each thread gets its own. An engine that failed to start is not
    tried again: every later ``get`` raises the same error.
    """

    def __init__(self, mode: str, device: str, timeout: float, jobs: int) -> None:
        self.mode, self.device, self.timeout, self.jobs = mode, device, timeout, jobs
        self.local = threading.local()
        self.shared: Any = None
        self.all: list[Any] = []
        self.lock = threading.Lock()
        self.failed: BaseException | None = None

    def _make(self, jobs: int) -> Any:
        from ..grading import Engine

        if self.failed is not None:
            raise self.failed
        engine = Engine(self.mode, self.device, timeout=self.timeout, jobs=jobs)
        self.all.append(engine)
        try:
            engine.start()  # strict mode fails closed here, before any answer runs
        except BaseException as exc:
            self.failed = exc
            raise
        return engine

    def get(self) -> Any:
        """This thread's engine, started on first use."""
        with self.lock:
            if self.mode == "strict":
                if self.shared is None:
                    self.shared = self._make(self.jobs)
                return self.shared
            engine = getattr(self.local, "engine", None)
            if engine is None:
                engine = self.local.engine = self._make(1)
            return engine

    def close(self) -> None:
        """Stop every engine's processes."""
        for engine in self.all:
            engine.close()


def _process_failed(result: Any) -> bool:
    """The process running the answer died (not an exception the answer raised on some trial)."""
    return result.verdict == "error" and result.stage == "run" and "trial" not in result.details


def _grade_one(engine: Any, question: Question, answer: str) -> dict[str, Any]:
    """One answer; a dead process gets one more try, so that a sandbox hiccup (a zygote being
    replaced, a neighbour's crash) never costs a student points. A real crash (``os._exit``)
    crashes again and keeps its verdict. Any other exception from the engine is this answer's
    problem only (stage ``grader``); an engine that cannot run at all stops the run."""
    from ..grading import RunnerUnavailable
    from ..grading.result import CardError

    try:
        result = engine.grade(question.card, answer, seed=question.seed)
        if _process_failed(result):
            result = engine.grade(question.card, answer, seed=question.seed)
    except CardError as exc:
        return _not_graded(question, "card", f"the card itself is broken (not your fault): {exc}")
    except RunnerUnavailable:
        raise
    except Exception as exc:  # one answer's failure must not stop the class
        return _not_graded(question, "grader", "the grader failed on this answer (not your fault; "
                                               f"it is graded again next run): {type(exc).__name__}: {exc}")
    return result.to_dict()


def _not_graded(question: Question, stage: str, why: str) -> dict[str, Any]:
    """A result that is no verdict on the answer (see ``NOT_GRADED``): 0 points until regraded."""
    return {"card": question.card.id, "verdict": "error", "stage": stage, "feedback": why}


def _grade_unit(engines: _Engines, unit: list[tuple[str, Question, str]]) -> list[tuple[str, dict]]:
    """Grade one student's new answers; a broken card is reported, never cached.

    On CUDA in strict mode the whole submission goes to ``grade_submission``:
    one sandboxed child initialises CUDA once for all of the student's items.
    """
    from ..grading import RunnerUnavailable

    engine = engines.get()
    if engines.mode == "strict" and engines.device.startswith("cuda"):
        try:
            results = engine.grade_submission([(q.card, answer, q.seed) for _, q, answer in unit])
        except RunnerUnavailable:
            raise
        except Exception:
            pass  # a broken card or a grader failure: grade item by item below, to pin it down
        else:
            return [(key, _grade_one(engine, q, answer) if _process_failed(r) else r.to_dict())
                    for (key, q, answer), r in zip(unit, results)]
    return [(key, _grade_one(engine, q, answer)) for key, q, answer in unit]


def grade_class(spec: QuizSpec, submissions: Path, results: Path, *, mode: str = "strict",
                device: str = "cpu", jobs: int = 1, timeout: float = 5.0,
                overrides: Path | None = None, regrade: bool = False,
                on_progress: Progress | None = None) -> ClassReport:
    """Grade every submission in ``submissions`` and write the results into ``results``.

    Writes ``gradebook.csv``, ``items.csv``, ``problems.csv`` and
    ``feedback/<student>.txt``; applies ``overrides`` (default
    ``results/overrides.csv``) on every run. ``device`` must be resolved
    (``cpu`` or ``cuda``): it is part of the cache key. Raises
    ``RunnerUnavailable`` when the engine cannot run (no sandbox, a runner that
    died for good), keeping in the cache what was graded before.
    """
    start = time.perf_counter()
    results.mkdir(parents=True, exist_ok=True)
    (results / CACHE).parent.mkdir(parents=True, exist_ok=True)
    report = ClassReport()
    valid, rejected = collect_submissions(spec, submissions)
    cache = {} if regrade else _load_cache(results / CACHE)
    plan: dict[str, list[tuple[Question, str, str | None]]] = {}
    units: list[list[tuple[str, Question, str]]] = []
    for student, (_path, sub) in sorted(valid.items()):
        rows, unit = [], []
        for q in spec.questions_for(student):
            text = sub.answers[q.slot].text
            key = cache_key(q, text, mode, device) if text.strip() else None
            rows.append((q, text, key))
            if key is not None and key not in cache:
                unit.append((key, q, text))
        plan[student] = rows
        if unit:
            units.append(unit)
    todo = sum(len(u) for u in units)
    report.from_cache = sum(1 for rows in plan.values() for _, _, k in rows if k and k in cache)
    engines = _Engines(mode, device, timeout, max(1, jobs))
    try:
        done = _run_units(engines, units, cache, results / CACHE, jobs, todo, on_progress)
    finally:
        engines.close()
    report.graded_now = done
    report.grades = _score_all(spec, valid, plan, cache, rejected, report)
    _finish(spec, results, report, overrides)
    report.wall_s = time.perf_counter() - start
    return report


def _run_units(engines: _Engines, units: list[list[tuple[str, Question, str]]], cache: dict,
               cache_path: Path, jobs: int, todo: int, on_progress: Progress | None) -> int:
    """Grade the units on ``jobs`` threads; append each student's verdicts to the cache as they land.

    On any exception (``RunnerUnavailable``, Ctrl-C) the students not yet started
    are cancelled, those already graded are written to the cache, and the
    exception goes on: nobody waits for a whole class that would be thrown away.
    """
    done = 0
    if on_progress:
        on_progress(0, todo)
    if not units:
        return 0
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade")
    futures = [pool.submit(_grade_unit, engines, unit) for unit in units]
    kept: set[Future] = set()
    try:
        for future in as_completed(futures):
            graded = future.result()  # RunnerUnavailable propagates: strict grading fails closed
            _keep(graded, cache, cache_path)
            kept.add(future)
            done += len(graded)
            if on_progress:
                on_progress(done, todo)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        finished = [f for f in futures if f not in kept and f.done() and not f.cancelled()
                    and f.exception() is None]
        with contextlib.suppress(OSError):  # a full disk must not hide the first error
            for future in finished:
                _keep(future.result(), cache, cache_path)
        raise
    pool.shutdown()
    return done


def _keep(graded: list[tuple[str, dict]], cache: dict, cache_path: Path) -> None:
    """Remember one student's results; append the verdicts (not ``NOT_GRADED``) durably."""
    cacheable = [(k, r) for k, r in graded if r.get("stage") not in NOT_GRADED]
    append_durable(cache_path, [json.dumps({"key": k, "result": r}, ensure_ascii=False)
                                for k, r in cacheable])
    cache.update(graded)


def late_answers(spec: QuizSpec, sub: Submission) -> dict[str, timedelta]:
    """Slots saved after the time limit plus the spec's grace, and how long after the limit.

    The exam app stops at the deadline, so these come from a hand-edited file, a
    changed clock or an app kept open past the end. An answer with text but no
    save time (only a hand-edited file has one) counts as saved when the file was.
    """
    deadline = sub.deadline(spec)
    cutoff = deadline + timedelta(seconds=spec.grace_s)
    out: dict[str, timedelta] = {}
    for slot, a in sub.answers.items():
        stamp = a.saved_at or (sub.updated_at if a.text.strip() else None)
        if stamp and (when := parse_iso(stamp)) > cutoff:
            out[slot] = when - deadline
    return out


def _status(sub: Submission, late: dict[str, timedelta], incomplete: bool) -> str:
    """``graded``, with what the instructor should know in brackets: not handed in, late, and
    answers that have no verdict yet (a broken card, a grader failure: see problems.csv)."""
    flags = [flag for flag, on in (("not handed in", not sub.finished), ("late", bool(late)),
                                   ("some answers not graded", incomplete)) if on]
    return f"graded ({', '.join(flags)})" if flags else "graded"


def _score_all(spec: QuizSpec, valid: dict, plan: dict, cache: dict, rejected: list[StudentGrade],
               report: ClassReport) -> list[StudentGrade]:
    grades: list[StudentGrade] = []
    for student, rows in plan.items():
        path, sub = valid[student]
        late = late_answers(spec, sub)
        if late:
            verdict = "scored 0" if spec.late == "zero" else 'counted (late = "accept")'
            report.problems.append((path.name, student, f"answers saved after the time limit "
                                                        f"(+{fmt_duration(spec.grace_s)} grace), "
                                                        f"{verdict}: {', '.join(late)}"))
        failed = [(q.slot, cache[key]["feedback"]) for q, _, key in rows
                  if key and cache[key].get("stage") in NOT_GRADED]
        sg = StudentGrade(student, _status(sub, late, bool(failed)), file=path.name, late=bool(late))
        for q, text, key in rows:
            sg.items[q.slot] = score(q, cache[key] if key else None, text)
            if q.slot in late:
                apply_late(sg.items[q.slot], late[q.slot], spec.late)
            report.blank += key is None
        report.problems += [(path.name, student, f"{slot}: {why}") for slot, why in failed]
        grades.append(sg)
    for sg in rejected:
        report.problems.append((sg.file, sg.student, sg.reason))
    return grades + rejected


def _finish(spec: QuizSpec, results: Path, report: ClassReport, overrides: Path | None) -> None:
    source = overrides or results / "overrides.csv"
    rows, problems = read_overrides(source)
    by_student = {g.student: g for g in report.grades if g.graded}
    for g in report.grades:  # a rejected student has no row of points to change
        by_student.setdefault(g.student, g)
    problems += apply_overrides(by_student, rows, source.name)
    report.problems += [(source.name, "", p) for p in problems]
    write_gradebook(results / "gradebook.csv", spec, report.grades)
    write_items(results / "items.csv", spec, report.grades)
    write_problems(results / "problems.csv", report.problems)
    write_feedback(results / "feedback", spec, report.grades)
