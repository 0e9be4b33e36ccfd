"""``python -m atlas_quiz.bench grading`` runs every measurement and ends in one line of JSON.

Speed itself is never asserted here: the benchmark measures it, beside its baseline."""

from __future__ import annotations

import json
import shutil

import pytest

from atlas_quiz.bench import grading

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None,
                       reason="strict mode needs bubblewrap (bwrap), which is not installed"),
]


def test_the_grading_benchmark_prints_a_table_then_json_with_every_mode(capsys):
    assert grading.main(["--n", "3", "--warmup", "1", "--cold", "1", "--batch", "6", "--jobs", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert {"own", "strict", "strict_idle", "cold"} <= set(summary)
    assert [b["jobs"] for b in summary["strict_batch"]] == [1, 2]
    assert all(summary[m]["n"] == 3 for m in ("own", "strict", "strict_idle"))
    assert summary["cold"]["n"] == 1 and summary["cold"]["p50_ms"] > 0
    assert any(line.startswith("strict (child per answer)") for line in lines[:-1])
