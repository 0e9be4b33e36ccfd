"""``python -m atlas_quiz.bench kernels``: the reference Triton kernels against their baselines.

For each kernel of ``kernels/`` (its ``BENCHMARKS`` table), each shape and
dtype, in one run: the device-to-device copy bandwidth of a tensor of that
size (the ceiling of a memory-bound op), then the GB/s of the Triton kernel,
torch eager, the ``torch.nn.functional`` op where there is one, and
``torch.compile``. Attention reports TFLOP/s against
``F.scaled_dot_product_attention`` instead. Each kernel's output is checked
against its spec before it is timed. A table, then one line of JSON.

It needs a CUDA GPU: without one it says so and prints a JSON line with
``"skipped": true`` (exit status 0).

Example:
    python -m atlas_quiz.bench kernels
    python -m atlas_quiz.bench kernels --only softmax,rmsnorm_fwd --dtypes bfloat16
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["CONTENDERS", "benchmarks", "compiled", "kernel_files", "load_kernel_file", "main", "run"]

SHAPES = ((4096, 4096), (16384, 4096))
DTYPES = ("float32", "bfloat16")
CONTENDERS = ("triton", "eager", "functional", "compiled")
_TOLERANCE = {"float32": 1e-3, "float16": 1e-2, "bfloat16": 5e-2}  # a sanity check, not grading

Timer = Callable[[Callable[[], Any]], float]  # a function's time in milliseconds


@functools.cache
def compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``torch.compile(fn)``, made when the benchmark first asks for that column (the import is slow)."""
    import torch

    return torch.compile(fn, dynamic=False)


def kernel_files(folder: Path | None = None) -> list[Path]:
    """The kernel files (one per kernel) in ``folder``, default the built-in ``kernels/``."""
    from ..paths import builtin_kernels_dir

    folder = folder or builtin_kernels_dir()
    return sorted(p for p in folder.glob("*.py")
                  if p.name != "conftest.py" and not p.name.startswith(("test_", "_")))


def load_kernel_file(path: Path) -> ModuleType:
    """Load one kernel file by its path (the folder is not a package an installed app can import)."""
    spec = importlib.util.spec_from_file_location(f"atlas_quiz_kernels.{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def benchmarks(folder: Path | None = None) -> dict[str, Callable[..., dict]]:
    """Every kernel file's ``BENCHMARKS``, by name: ``factory(m, n, dtype, device) -> contenders``."""
    out: dict[str, Callable[..., dict]] = {}
    for path in kernel_files(folder):
        out.update(getattr(load_kernel_file(path), "BENCHMARKS", {}))
    return out


def _cuda_timer() -> Timer:
    from triton.testing import do_bench

    return lambda fn: float(do_bench(fn, warmup=25, rep=100, return_mode="median"))


def _agrees(got: Any, expected: Any, dtype_name: str) -> bool:
    import torch

    tol = _TOLERANCE.get(dtype_name, 1e-3)
    return torch.allclose(got.float(), expected.float(), rtol=tol, atol=tol, equal_nan=True)


def measure(name: str, factory: Callable[..., dict], shape: tuple[int, int], dtype_name: str,
            device: str, timer: Timer, with_compiled: bool = True) -> dict[str, Any]:
    """One row of the table: copy bandwidth and each contender's GB/s (or TFLOP/s).

    ``with_compiled=False`` leaves the ``torch.compile`` column empty (compiling is slow).
    """
    import torch

    dtype = getattr(torch, dtype_name)
    m, n = shape
    entry = factory(m, n, dtype, device)
    row: dict[str, Any] = {"kernel": name, "shape": f"{m}x{n}", "dtype": dtype_name,
                           "correct": _agrees(entry["triton"](), entry["expected"](), dtype_name)}
    if "flops" in entry:
        row["unit"] = "TFLOP/s"
        work, scale = entry["flops"], 1e-9  # flops per ms -> TFLOP/s
    else:
        row["unit"] = "GB/s"
        work, scale = entry["bytes"], 1e-6  # bytes per ms -> GB/s
        src = torch.empty(m * n, dtype=dtype, device=device)
        dst = torch.empty_like(src)
        row["copy"] = round(2 * src.numel() * src.element_size() / timer(lambda: dst.copy_(src)) * 1e-6, 1)
    for contender in CONTENDERS:
        fn = entry.get(contender)
        row[contender] = None
        if fn is None or (contender == "compiled" and not with_compiled):
            continue
        try:
            row[contender] = round(work / timer(fn) * scale, 2 if row["unit"] == "TFLOP/s" else 1)
        except Exception as exc:  # a baseline out of memory must not sink the other rows
            if contender == "triton":
                raise
            row.setdefault("errors", {})[contender] = f"{type(exc).__name__}: {str(exc)[:200]}"
    if row.get("copy") and row["triton"]:
        row["triton_of_copy"] = round(row["triton"] / row["copy"], 3)
    if row.get("compiled") and row["triton"]:
        row["triton_vs_compiled"] = round(row["triton"] / row["compiled"], 3)
    return row


def run(names: list[str], shapes: list[tuple[int, int]], dtypes: list[str], device: str,
        timer: Timer, with_compiled: bool = True, folder: Path | None = None) -> list[dict[str, Any]]:
    """Measure every named benchmark at every shape and dtype; rows in that order."""
    table = benchmarks(folder)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"unknown kernel benchmark(s) {unknown}; known: {', '.join(table)}")
    rows = []
    for name in names:
        for shape in shapes:
            for dt in dtypes:
                rows.append(measure(name, table[name], shape, dt, device, timer, with_compiled))
                if device.startswith("cuda"):
                    import torch

                    torch.cuda.empty_cache()  # the next row starts from free memory
    return rows


def _cell(v: Any) -> str:
    return "-" if v is None else f"{v:g}" if isinstance(v, float) else str(v)


def print_table(rows: list[dict[str, Any]]) -> None:
    """The rows as an aligned text table."""
    heads = ["kernel", "shape", "dtype", "unit", "copy", *CONTENDERS, "triton_of_copy",
             "triton_vs_compiled", "correct"]
    cells = [heads] + [[_cell(r.get(h)) for h in heads] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(heads))]
    for line in cells:
        print("  ".join(c.rjust(w) if i > 3 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))))


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How many memory-bound rows reach 90% of copy bandwidth and match or beat torch.compile."""
    bound = [r for r in rows if r["unit"] == "GB/s"]
    return {"rows": len(rows), "memory_bound": len(bound),
            "at_90pct_of_copy": sum(1 for r in bound if (r.get("triton_of_copy") or 0) >= 0.9),
            "at_or_above_compiled": sum(1 for r in bound if (r.get("triton_vs_compiled") or 0) >= 1.0),
            "all_correct": all(r["correct"] for r in rows)}


def _allow_recompiles() -> None:
    """Let torch.compile specialise to every shape and dtype of the run.

    Past its recompile limit (8 per function) it would quietly run eager code,
    and the "compiled" column would not be what it says.
    """
    import torch._dynamo

    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, 256)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m atlas_quiz.bench kernels",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--shapes", default=",".join(f"{m}x{n}" for m, n in SHAPES),
                        help="comma-separated MxN (default: %(default)s)")
    parser.add_argument("--dtypes", default=",".join(DTYPES), help="default: %(default)s")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile column")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the kernel benchmark on the GPU, or say clearly that there is none and exit 0."""
    args = _parse(argv or [])
    import torch

    if not torch.cuda.is_available():
        reason = "no CUDA device: the kernel benchmark measures GPU memory bandwidth and needs a GPU"
        print(f"kernels benchmark skipped: {reason}.")
        print(json.dumps({"benchmark": "kernels", "skipped": True, "reason": reason}))
        return 0
    import triton

    _allow_recompiles()
    names = [s for s in args.only.split(",") if s] or list(benchmarks())
    shapes = [tuple(int(x) for x in s.lower().split("x")) for s in args.shapes.split(",") if s]
    dtypes = [s for s in args.dtypes.split(",") if s]
    rows = run(names, shapes, dtypes, "cuda", _cuda_timer(), with_compiled=not args.no_compile)
    device = torch.cuda.get_device_name()
    print(f"Triton kernels on {device} (torch {torch.__version__}, triton {triton.__version__}); "
          "GB/s = bytes an ideal kernel moves / median time; copy = device-to-device copy_")
    print_table(rows)
    print(json.dumps({"benchmark": "kernels", "device": device, "torch": torch.__version__,
                      "triton": triton.__version__, "summary": summary(rows), "rows": rows}))
    return 0
