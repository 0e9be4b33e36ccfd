"""The kernel benchmark: it says so without a GPU, its contenders agree, its numbers add up.

Its timings need a GPU; here its plumbing runs on tiny CPU shapes under Triton's
interpreter, with a stand-in timer. The interpreter is chosen before Triton is
first imported in this process.
"""

from __future__ import annotations

import json
import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"

from atlas_quiz.bench import kernels as bench  # noqa: E402

pytest.importorskip("triton")
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def test_without_a_gpu_it_says_so_and_ends_with_a_json_line(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench.main([]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "no CUDA device" in lines[0]
    last = json.loads(lines[-1])
    assert last["benchmark"] == "kernels" and last["skipped"] is True


def test_every_kernel_file_offers_benchmarks():
    names = set(bench.benchmarks())
    assert {"softmax", "log_softmax", "rmsnorm_fwd", "rmsnorm_bwd", "layernorm", "swiglu", "rope",
            "cross_entropy", "cross_entropy_grad", "attention"} <= names


@pytest.mark.parametrize("name", sorted(bench.benchmarks()))
def test_each_contender_computes_what_the_spec_does(name):
    entry = bench.benchmarks()[name](5, 32, torch.float32, DEVICE)
    expected = entry["expected"]()
    for contender in ("triton", "eager", "functional"):
        if entry.get(contender) is not None:
            torch.testing.assert_close(entry[contender]().float(), expected.float(),
                                       rtol=1e-4, atol=1e-4, msg=lambda m, c=contender: f"{c}: {m}")
    assert (entry.get("bytes") or 0) > 0 or (entry.get("flops") or 0) > 0


def test_rows_turn_times_into_bandwidth_beside_the_copy(capsys):
    def two_ms(fn):  # a stand-in timer: runs the function once, says it took 2 ms
        fn()
        return 2.0

    rows = bench.run(["softmax", "attention"], [(4, 32)], ["float32"], DEVICE, two_ms,
                     with_compiled=False)
    softmax, attention = rows
    assert softmax["correct"] and softmax["unit"] == "GB/s"
    moved = 2 * 4 * 32 * 4  # read and write 4 x 32 float32
    assert softmax["triton"] == round(moved / 2.0 * 1e-6, 1)
    assert softmax["copy"] == softmax["triton"] and softmax["compiled"] is None
    assert attention["unit"] == "TFLOP/s" and "copy" not in attention
    summary = bench.summary(rows)
    assert summary["memory_bound"] == 1 and summary["all_correct"]
    bench.print_table(rows)
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["kernel", "shape", "dtype"] and len(table) == 3


def test_an_unknown_benchmark_name_is_refused():
    with pytest.raises(SystemExit, match="unknown kernel benchmark"):
        bench.run(["no_such_kernel"], [(4, 32)], ["float32"], DEVICE, lambda fn: 1.0)
