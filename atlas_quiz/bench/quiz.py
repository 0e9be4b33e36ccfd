"""``python -m atlas_quiz.bench quiz``: batch-grading a class, 200 students x 10 items by default.

Measures, in one run on this machine:
- ``quiz grade`` end to end in strict mode (reading the submissions, the
  sandbox's start, grading, writing the gradebook), on the CPU and, when torch
  sees one, on the GPU: wall time and answers per minute (per core);
- a second run over the same folder, which finds every verdict in its cache;
- the baseline: the same answers, each graded by a cold process (a fresh Python
  that imports torch, starts a strict engine and its sandbox, grades one answer
  and exits). It is timed on a small sample and extrapolated to the class, and
  labelled so.
Prints a table, then one line of JSON.

Example:
    python -m atlas_quiz.bench quiz --students 200 --jobs 2 --cold 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..cards import draw_params

__all__ = ["SPEC", "main", "write_class"]

SPEC = """
[quiz]
title = "Benchmark quiz"
minutes = 30
seed = "bench"
decks = ["{deck}"]
partial = 0.5

[[item]]
card = "quiz.relu"

[[item]]
name = "act"
cards = ["quiz.sigmoid", "quiz.swiglu"]

[[item]]
name = "softmax"
tags = ["softmax"]

[[item]]
name = "norm"
tags = ["norm"]
count = 2

[[item]]
card = "quiz.linear"

[[item]]
name = "loss"
tags = ["loss"]

[[item]]
card = "quiz.attention_scores"

[[item]]
card = "quiz.conv_shape"

[[item]]
card = "quiz.sum_keepdim"
"""
# What a class writes: mostly right, some right-shaped but wrong, some wrong-shaped, some blank.
MIX = (("correct", 0.70), ("values", 0.15), ("shape", 0.10), ("blank", 0.05))


def _answer(question, how: str) -> str:
    card = question.card
    if how == "blank":
        return ""
    if card.kind == "shape":
        c = draw_params(card, question.seed)["C"]
        return f"(8, {c}, 16, 16)" if how == "correct" else "(8, 3, 16, 16)"
    if card.kind == "output":
        return card.accept[0] if how == "correct" else card.reject[0].answer
    return {"correct": card.reference, "values": f"({card.reference}) + 1",
            "shape": f"({card.reference}).unsqueeze(0)"}[how]


def write_class(spec, folder: Path, students: int, seed: int = 0) -> list[tuple[Any, str]]:
    """Write ``students`` handed-in submissions; return every (question, answer) written."""
    from ..quiz import SubmissionFile

    rng = random.Random(seed)
    now = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    kinds, weights = zip(*MIX)
    written = []
    for i in range(students):
        f = SubmissionFile.open(spec, f"student{i:04d}", folder, now=now)
        for q in spec.questions_for(f"student{i:04d}"):
            text = _answer(q, rng.choices(kinds, weights)[0])
            f.set_answer(q.slot, text, now=now)
            written.append((q, text))
        f.submit("submitted", now=now)
    return written


def _grade(spec, subs: Path, results: Path, device: str, jobs: int) -> dict[str, Any]:
    from ..quiz import grade_class

    start = time.perf_counter()
    report = grade_class(spec, subs, results, mode="strict", device=device, jobs=jobs)
    wall = time.perf_counter() - start
    again = time.perf_counter()
    cached = grade_class(spec, subs, results, mode="strict", device=device, jobs=jobs)
    resume = time.perf_counter() - again
    assert cached.graded_now == 0, "the second run found verdicts missing from the cache"
    per_min = report.graded_now / wall * 60
    cores = min(jobs, os.cpu_count() or 1)
    return {"device": device, "jobs": jobs, "cores": cores, "answers": report.graded_now,
            "blank": report.blank, "wall_s": wall, "answers_per_min": per_min,
            "per_core_per_min": per_min / cores, "resume_wall_s": resume}


def _cold(written: list[tuple[Any, str]], sample: int, device: str, deck: Path) -> dict[str, Any]:
    """A cold process per answer, on ``sample`` answers spread over the class: a fresh Python
    imports torch, starts a strict engine (its sandbox), grades one answer and exits."""
    answers = [(q, a) for q, a in written if a.strip()]
    step = max(1, len(answers) // max(1, sample))
    times = []
    for q, text in answers[::step][:sample]:
        job = json.dumps({"deck": str(deck), "card": q.card.id, "answer": text, "seed": q.seed,
                          "device": device})
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "atlas_quiz.bench", "quiz", "--grade-one"],
                             input=job, capture_output=True, text=True, timeout=300)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            raise SystemExit(f"the cold process failed: {out.stderr[-2000:]}")
    mean = statistics.fmean(times)
    return {"kind": "cold process per answer (python + torch + strict sandbox)", "device": device,
            "sample": len(times), "mean_s": mean, "answers_per_min": 60 / mean,
            "extrapolated_wall_s_one_core": mean * len(answers), "extrapolated": True}


def _grade_one() -> int:
    """The baseline's child: grade the one answer described on stdin, print its verdict."""
    from ..cards import load_decks
    from ..grading import Engine

    job = json.loads(sys.stdin.read())
    card = next(c for d in load_decks([job["deck"]]) for c in d.cards if c.id == job["card"])
    with Engine("strict", job["device"]) as engine:
        print(engine.grade(card, job["answer"], seed=job["seed"]).verdict)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table, then the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m atlas_quiz.bench quiz",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cold", type=int, default=5, help="answers graded cold (about 3 s each)")
    parser.add_argument("--grade-one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.grade_one:
        return _grade_one()

    import torch

    from ..quiz import load_spec, sample_dir

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    with tempfile.TemporaryDirectory(prefix="atlas-quiz-bench-") as tmp:
        root = Path(tmp)
        (root / "quiz.toml").write_text(SPEC.format(deck=sample_dir() / "deck.toml"))
        spec = load_spec(root / "quiz.toml")
        (root / "subs").mkdir()
        written = write_class(spec, root / "subs", args.students)
        runs = [_grade(spec, root / "subs", root / f"results-{d}", d, args.jobs) for d in devices]
        cold = _cold(written, args.cold, "cpu", sample_dir() / "deck.toml")

    n_items = len(spec.slots())
    print(f"grading a class: {args.students} students x {n_items} items, strict sandbox, "
          f"{os.cpu_count()} cores\n")
    print(f"{'run':<34}{'answers':>8}{'wall s':>10}{'per min':>10}{'per core':>10}")
    for r in runs:
        print(f"{'quiz grade, ' + r['device'] + ', ' + str(r['jobs']) + ' jobs':<34}{r['answers']:>8}"
              f"{r['wall_s']:>10.1f}{r['answers_per_min']:>10.0f}{r['per_core_per_min']:>10.0f}")
        print(f"{'  second run (all cached)':<34}{0:>8}{r['resume_wall_s']:>10.2f}")
    answers = runs[0]["answers"]
    print(f"{'cold process per answer (baseline)':<34}{cold['sample']:>8}{cold['mean_s']:>10.2f}"
          f"{cold['answers_per_min']:>10.1f}{cold['answers_per_min']:>10.1f}")
    print(f"  extrapolated to {answers} answers on one core: {cold['extrapolated_wall_s_one_core']:.0f} s "
          f"(from {cold['sample']} measured)")
    speedup = runs[0]["per_core_per_min"] / cold["answers_per_min"]
    print(f"\nper core, quiz grade is {speedup:.0f}x the cold baseline; target >= 1000 answers/min/core")
    print(json.dumps({"benchmark": "quiz", "students": args.students, "items": n_items,
                      "cores": os.cpu_count(), "runs": runs, "baseline": cold,
                      "speedup_per_core": speedup,
                      "meets_1000_per_core_per_min": runs[0]["per_core_per_min"] >= 1000}))
    return 0
