"""What a grade says: the verdict, the first difference, and what partial credit can use."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["VERDICTS", "CardError", "GradeResult"]

VERDICTS = ("correct", "wrong", "error", "timeout")


class CardError(Exception):
    """The card itself is broken (its reference fails): a deck problem, not the learner's."""


@dataclass
class GradeResult:
    """The grade of one answer.

    ``stage`` names the first check that failed (``parse``, ``run``, ``type``,
    ``shape``, ``dtype``, ``values``, ``mutation``) or ``ok``; ``shape_ok`` says
    whether the answer had the right structure and shapes, for partial credit;
    ``mistake`` is the reason of the known mistake the answer behaves like.
    """

    card: str
    verdict: str
    feedback: str
    elapsed_ms: float = 0.0
    stage: str = ""
    shape_ok: bool = False
    mistake: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    output: str = ""

    @property
    def correct(self) -> bool:
        """True when the verdict is ``correct``."""
        return self.verdict == "correct"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; ``card``, ``verdict``, ``correct``, ``feedback``, ``elapsed_ms`` first."""
        d = asdict(self)
        return {"card": d.pop("card"), "verdict": d.pop("verdict"), "correct": self.correct,
                "feedback": d.pop("feedback"), "elapsed_ms": round(d.pop("elapsed_ms"), 3), **d}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        """Read back :meth:`to_dict`."""
        d = {k: v for k, v in data.items() if k != "correct"}
        return cls(**d)
