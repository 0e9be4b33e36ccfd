"""From grades to the instructor's files: points, overrides, gradebook, feedback, item analysis.

Everything here is recomputed from the cached verdicts on every run, so a
change of points, of partial credit or of ``overrides.csv`` takes effect at
once without running a single answer again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .spec import Question, QuizSpec

__all__ = ["ItemGrade", "Override", "StudentGrade", "apply_overrides", "fmt_points", "item_analysis",
           "read_overrides", "score", "write_feedback", "write_gradebook", "write_items",
           "write_problems"]

UPPER_LOWER = 0.27  # the classic share of the class in each group of the discrimination index


def fmt_points(x: float | None) -> str:
    """Points as a spreadsheet reads them: ``2``, ``0.5``, ``1.333``; blank for None."""
    if x is None:
        return ""
    x = round(x, 3)
    return str(int(x)) if x == int(x) else f"{x:g}"


@dataclass
class ItemGrade:
    """One question of one student: the verdict, the points it earns, and why."""

    slot: str
    card: str
    max_points: float
    verdict: str  # correct | wrong | error | timeout | blank
    feedback: str = ""
    stage: str = ""
    shape_ok: bool = False
    mistake: str = ""
    answer: str = ""
    points: float = 0.0
    note: str = ""  # partial credit, or the override's reason


@dataclass
class StudentGrade:
    """A student's row of the gradebook; ``status`` is ``graded`` or says why not."""

    student: str
    status: str
    items: dict[str, ItemGrade] = field(default_factory=dict)
    file: str = ""

    @property
    def graded(self) -> bool:
        """True when the submission was graded (not rejected)."""
        return self.status.startswith("graded")

    @property
    def total(self) -> float | None:
        """The sum of the points, or None for a rejected submission."""
        return round(sum(g.points for g in self.items.values()), 6) if self.graded else None


def score(question: Question, result: dict[str, Any] | None, answer: str) -> ItemGrade:
    """Points for one answer: full when correct; the item's partial share when the answer had the
    right shape but wrong values (``shape_ok``); none otherwise. ``result`` is a
    ``GradeResult.to_dict()``, or None for a blank answer."""
    g = ItemGrade(question.slot, question.card.id, question.points, "blank", answer=answer)
    if result is None:
        g.feedback = "no answer"
        return g
    g.verdict, g.feedback = result["verdict"], result.get("feedback", "")
    g.stage, g.shape_ok, g.mistake = result.get("stage", ""), bool(result.get("shape_ok")), \
        result.get("mistake", "")
    if g.verdict == "correct":
        g.points = question.points
    elif g.verdict == "wrong" and g.shape_ok and question.partial > 0:
        g.points = round(question.points * question.partial, 6)
        g.note = f"partial credit ({fmt_points(question.partial * 100)}%): right shape, wrong values"
    return g


@dataclass
class Override:
    """A manual grade change from ``overrides.csv``."""

    student: str
    slot: str
    points: float
    reason: str
    line: int


def read_overrides(path: str | Path) -> tuple[list[Override], list[str]]:
    """Read ``student,item,points,reason`` rows; return the overrides and the problems found."""
    path = Path(path)
    if not path.exists():
        return [], []
    out: list[Override] = []
    problems: list[str] = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"student", "item", "points"} - set(reader.fieldnames or [])
        if missing:
            return [], [f"{path}: missing column(s) {', '.join(sorted(missing))}; expected "
                        "student,item,points,reason"]
        for line, row in enumerate(reader, start=2):
            try:
                points = float(row["points"])
                if not points >= 0:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"{path}:{line}: points {row.get('points')!r} is not a number >= 0")
                continue
            out.append(Override(str(row["student"]).strip(), str(row["item"]).strip(), points,
                                str(row.get("reason") or "").strip(), line))
    return out, problems


def apply_overrides(grades: dict[str, StudentGrade], overrides: list[Override],
                    source: str = "overrides.csv") -> list[str]:
    """Set the points of overridden items (the last row for an item wins); return problems."""
    problems: list[str] = []
    for o in overrides:
        sg = grades.get(o.student)
        if sg is None:
            problems.append(f"{source}:{o.line}: no submission from student {o.student!r}")
        elif not sg.graded:
            problems.append(f"{source}:{o.line}: {o.student}'s submission was rejected; "
                            "the override was not applied")
        elif o.slot not in sg.items:
            problems.append(f"{source}:{o.line}: no item {o.slot!r} (items: {', '.join(sg.items)})")
        else:
            g = sg.items[o.slot]
            g.points = o.points
            g.note = f"changed by the instructor to {fmt_points(o.points)}" + \
                (f": {o.reason}" if o.reason else "")
    return problems


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_gradebook(path: Path, spec: QuizSpec, grades: list[StudentGrade]) -> None:
    """``student,status,<item>...,total,max``: one row per student, sorted by student."""
    slots = spec.slots()
    rows = [["student", "status", *slots, "total", "max"]]
    for sg in sorted(grades, key=lambda g: g.student):
        cells = [fmt_points(sg.items[s].points) if sg.graded else "" for s in slots]
        rows.append([sg.student, sg.status, *cells, fmt_points(sg.total), fmt_points(spec.max_points)])
    write_atomic(path, _csv(rows))


def item_analysis(spec: QuizSpec, grades: list[StudentGrade]) -> list[dict[str, Any]]:
    """Per item: mean points, difficulty (mean share of the points) and the discrimination index.

    Discrimination is the upper-lower index: the mean share of the item's points
    in the top 27% of the class by total minus that in the bottom 27%. Near 0
    (or negative) flags an item that does not tell strong students from weak ones.
    """
    graded = sorted((g for g in grades if g.graded), key=lambda g: (-(g.total or 0.0), g.student))
    n = len(graded)
    k = max(1, round(UPPER_LOWER * n)) if n >= 2 else 0
    rows = []
    for item in spec.items:
        for slot in item.slots():
            shares = [g.items[slot].points / item.points for g in graded]
            cards = sorted({g.items[slot].card for g in graded})
            row: dict[str, Any] = {
                "item": slot, "points": item.points, "students": n,
                "mean": sum(g.items[slot].points for g in graded) / n if n else None,
                "difficulty": sum(shares) / n if n else None,
                "discrimination": (sum(shares[:k]) - sum(shares[-k:])) / k if k else None,
                "blank": sum(1 for g in graded if g.items[slot].verdict == "blank"),
                "cards": " ".join(cards),
            }
            rows.append(row)
    return rows


def write_items(path: Path, spec: QuizSpec, grades: list[StudentGrade]) -> None:
    """``items.csv``: the item analysis, one row per item."""
    def num(x: float | None) -> str:
        """Three decimals, blank when there is no value (fewer than two students)."""
        return "" if x is None else f"{x:.3f}"

    rows = [["item", "points", "students", "mean", "difficulty", "discrimination", "blank", "cards"]]
    for r in item_analysis(spec, grades):
        rows.append([r["item"], fmt_points(r["points"]), str(r["students"]), num(r["mean"]),
                     num(r["difficulty"]), num(r["discrimination"]), str(r["blank"]), r["cards"]])
    write_atomic(path, _csv(rows))


def write_problems(path: Path, problems: list[tuple[str, str, str]]) -> None:
    """``problems.csv``: file, student, problem: everything the instructor should look at."""
    write_atomic(path, _csv([["file", "student", "problem"], *map(list, problems)]))


def feedback_text(spec: QuizSpec, sg: StudentGrade) -> str:
    """What a student is told after grading: per item, points, what was wrong, and their answer."""
    lines = [f"# {spec.title}", f"Student: {sg.student}"]
    if not sg.graded:
        lines += ["", f"Your submission was not graded: {sg.status.removeprefix('rejected: ')}",
                  "Please talk to your instructor."]
        return "\n".join(lines) + "\n"
    lines += [f"Total: {fmt_points(sg.total)} / {fmt_points(spec.max_points)}", ""]
    for slot, g in sg.items.items():
        lines.append(f"## {slot} ({g.card}): {fmt_points(g.points)} / {fmt_points(g.max_points)}")
        lines.append(f"Verdict: {g.verdict}")
        if g.note:
            lines.append(f"Note: {g.note}")
        if g.verdict not in ("correct", "blank") and g.feedback:
            lines += ["What was wrong:", *("    " + s for s in g.feedback.splitlines())]
        if g.answer.strip():
            lines += ["Your answer:", *("    " + s for s in g.answer.splitlines())]
        lines.append("")
    return "\n".join(lines)


def write_feedback(folder: Path, spec: QuizSpec, grades: list[StudentGrade]) -> None:
    """One ``<student>.txt`` per student in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for sg in grades:
        write_atomic(folder / f"{sg.student}.txt", feedback_text(spec, sg))
