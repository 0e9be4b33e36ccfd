"""From grades to the instructor's files: points, overrides, gradebook, feedback, item analysis.

Everything here is recomputed from the cached verdicts on every run, so a
change of points, of partial credit or of ``overrides.csv`` takes effect at
once without running a single answer again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .spec import Question, QuizSpec

__all__ = ["ItemGrade", "Override", "StudentGrade", "apply_late", "apply_overrides", "feedback_path",
           "fmt_duration", "fmt_points", "item_analysis", "read_overrides", "score", "write_feedback",
           "write_gradebook", "write_items", "write_problems"]

UPPER_LOWER = 0.27  # the classic share of the class in each group of the discrimination index


def fmt_points(x: float | None) -> str:
    """Points as a spreadsheet reads them: ``2``, ``0.5``, ``1.333``; blank for None."""
    if x is None:
        return ""
    x = round(x, 3)
    return str(int(x)) if x == int(x) else f"{x:g}"


def fmt_duration(seconds: float) -> str:
    """A duration as a person reads it: ``45 s``, ``25 min``, ``2 h 59 min``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    h, m = divmod(s // 60, 60)
    return f"{h} h {m} min" if h else f"{m} min"


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
    late: bool = False  # answers saved after the time limit plus grace (the status says so too)
    reason: str = ""  # why a rejected file was not graded

    @classmethod
    def rejected(cls, student: str, file: str, reason: str) -> StudentGrade:
        """A submission file that was not graded; the status names the file, since the same
        student may also have a file that was graded."""
        return cls(student, f"rejected ({file}): {reason}", file=file, reason=reason)

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
    elif g.verdict == "wrong" and question.partial > 0:
        g.note = _no_partial_credit(question, result)
    return g


def _no_partial_credit(question: Question, result: dict[str, Any]) -> str:
    """Why a wrong answer earned none of the item's partial credit, when the feedback alone does
    not say: its first difference may be in the values while another trial had the wrong shape."""
    if question.card.kind not in ("expr", "kernel"):
        return "no partial credit: partial credit is for expressions with the right shape"
    if result.get("stage") in ("shape", "type"):
        return ""  # the feedback already names the wrong shape
    why = (result.get("details") or {}).get("shape_failure")
    if not why:
        return ""
    return f"no partial credit (it needs the right shape on every trial): {why}"


def apply_late(g: ItemGrade, after: timedelta, policy: str) -> None:
    """Apply the spec's late policy to an answer saved ``after`` past the time limit.

    ``zero``: the answer is still graded and shown, but earns nothing; ``accept``:
    it keeps its points and says it was late.
    """
    when = f"saved {fmt_duration(after.total_seconds())} after the time limit"
    if policy == "zero":
        g.points = 0.0
        g.note = f"{when}: late answers score 0 in this quiz"
    else:
        g.note = "; ".join(n for n in (g.note, f"{when} (late answers count in this quiz)") if n)


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
    """Per question: mean points, difficulty (mean share of the points), discrimination, blanks.

    A row per card as each item asks it (``scope`` ``card``), over the students
    who were asked that card: a slot drawn from a pool holds different cards for
    different students, and mixing them would blur both numbers. A slot that did
    hold several cards also gets a row of its own (``scope`` ``slot (mixed
    cards)``), which matches the gradebook's column.

    Discrimination is the upper-lower index: the mean share of the points in the
    top 27% of the group by quiz total minus that in the bottom 27%. Near 0 (or
    negative) flags a question that does not tell strong students from weak ones.
    """
    graded = sorted((g for g in grades if g.graded), key=lambda g: (-(g.total or 0.0), g.student))
    rows = []
    for item in spec.items:
        slots = item.slots()
        for card in item.pool:
            asked = [(slot, g.items[slot]) for g in graded for slot in slots
                     if slot in g.items and g.items[slot].card == card]
            rows.append(_stats("card", item.name, sorted({s for s, _ in asked}), [card],
                               item.points, [ig for _, ig in asked]))
        for slot in slots:
            held = [g.items[slot] for g in graded if slot in g.items]
            cards = [c for c in item.pool if c in {ig.card for ig in held}]
            if len(cards) > 1:
                rows.append(_stats("slot (mixed cards)", item.name, [slot], cards, item.points, held))
    return rows


def _stats(scope: str, item: str, slots: list[str], cards: list[str], points: float,
           held: list[ItemGrade]) -> dict[str, Any]:
    """One row of the analysis over ``held`` (one grade per student, best quiz total first)."""
    n = len(held)
    k = max(1, round(UPPER_LOWER * n)) if n >= 2 else 0
    shares = [ig.points / ig.max_points for ig in held]
    return {"scope": scope, "item": item, "slot": " ".join(slots), "card": " ".join(cards),
            "points": points, "students": n,
            "mean": sum(ig.points for ig in held) / n if n else None,
            "difficulty": sum(shares) / n if n else None,
            "discrimination": (sum(shares[:k]) - sum(shares[-k:])) / k if k else None,
            "blank": sum(1 for ig in held if ig.verdict == "blank")}


ITEM_COLUMNS = ["scope", "item", "slot", "card", "points", "students", "mean", "difficulty",
                "discrimination", "blank"]


def write_items(path: Path, spec: QuizSpec, grades: list[StudentGrade]) -> None:
    """``items.csv``: the item analysis, one row per card as an item asks it (see
    :func:`item_analysis`); ``points`` is per question."""
    def num(x: float | None) -> str:
        """Three decimals, blank when there is no value (fewer than two students)."""
        return "" if x is None else f"{x:.3f}"

    rows = [ITEM_COLUMNS]
    for r in item_analysis(spec, grades):
        rows.append([r["scope"], r["item"], r["slot"], r["card"], fmt_points(r["points"]),
                     str(r["students"]), num(r["mean"]), num(r["difficulty"]),
                     num(r["discrimination"]), str(r["blank"])])
    write_atomic(path, _csv(rows))


def write_problems(path: Path, problems: list[tuple[str, str, str]]) -> None:
    """``problems.csv``: file, student, problem: everything the instructor should look at."""
    write_atomic(path, _csv([["file", "student", "problem"], *map(list, problems)]))


def feedback_text(spec: QuizSpec, sg: StudentGrade) -> str:
    """What a student is told after grading: per item, points, what was wrong, and their answer."""
    lines = [f"# {spec.title}", f"Student: {sg.student}"]
    if not sg.graded:
        lines += ["", f"Your submission {sg.file} was not graded: {sg.reason}",
                  "Please talk to your instructor."]
        return "\n".join(lines) + "\n"
    lines.append(f"Total: {fmt_points(sg.total)} / {fmt_points(spec.max_points)}")
    if sg.late:
        lines.append(f"Some of your answers were saved after the time limit; in this quiz, "
                     f"{spec.late_rule()}.")
    lines.append("")
    for n, (slot, g) in enumerate(sg.items.items(), start=1):
        # numbered and titled as the exam showed it; the column name matches the gradebook's
        card = spec.cards.get(g.card)
        title = f"{card.title} " if card else ""
        lines.append(f"## Question {n}: {title}({slot}, {g.card}): "
                     f"{fmt_points(g.points)} / {fmt_points(g.max_points)}")
        lines.append(f"Verdict: {g.verdict}")
        if g.note:
            lines.append(f"Note: {g.note}")
        if g.verdict not in ("correct", "blank") and g.feedback:
            lines += ["What was wrong:", *("    " + s for s in g.feedback.splitlines())]
        if g.answer.strip():
            lines += ["Your answer:", *("    " + s for s in g.answer.splitlines())]
        lines.append("")
    return "\n".join(lines)


def feedback_path(folder: Path, sg: StudentGrade) -> Path:
    """``<student>.txt`` for a graded student; ``rejected/<file>.txt`` for a rejected file, named
    by the file: a stray or broken file must never replace a graded student's feedback."""
    return folder / f"{sg.student}.txt" if sg.graded else folder / "rejected" / f"{sg.file}.txt"


def write_feedback(folder: Path, spec: QuizSpec, grades: list[StudentGrade]) -> None:
    """Each student's feedback (and each rejected file's) in ``folder``; see :func:`feedback_path`."""
    for sg in grades:
        path = feedback_path(folder, sg)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, feedback_text(spec, sg))
