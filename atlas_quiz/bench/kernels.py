"""``python -m atlas_quiz.bench kernels``: the reference Triton kernels against their baselines.

For each kernel of ``kernels/`` (its ``BENCHMARKS`` table), each shape and
dtype, in one run: the device-to-device copy bandwidth of a tensor of that
size (the ceiling of a memory-bound op), then the GB/s of the Triton kernel,
torch eager, the ``torch.nn.functional`` op where there is one, and
``torch.compile``. Attention reports TFLOP/s against
``F.scaled_dot_product_attention`` instead. Each kernel's output is checked
against its spec before it is timed. A table, then one line of JSON.

The kernel files import from here what they share: ``compiled`` (the
``torch.compile`` column) and the launch settings of the row-wise kernels
(``row_block``, ``as_rows``).

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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["CONTENDERS", "LOOP_BLOCK", "MAX_FUSED", "as_rows", "benchmarks", "compiled",
           "kernel_files", "load_kernel_file", "main", "num_warps_for", "row_block", "run"]

SHAPES = ((4096, 4096), (16384, 4096))
DTYPES = ("float32", "bfloat16")
CONTENDERS = ("triton", "eager", "functional", "compiled")
_TOLERANCE = {"float32": 1e-3, "float16": 1e-2, "bfloat16": 5e-2}  # a sanity check, not grading

Timer = Callable[[Callable[[], Any]], float]  # a function's time in milliseconds


# --- shared by the kernel files ------------------------------------------------------------------
# Softmax, log-softmax, LayerNorm, RMSNorm and cross-entropy give one program one row. A row of
# up to MAX_FUSED elements is one power-of-two block held in registers (read once); a longer one
# is walked in LOOP_BLOCK steps. Warps grow with the block, so each thread holds a handful of its
# elements. torch and Triton are the caller's: importing this module loads neither.

MAX_FUSED = 16384  # the longest row kept in registers as one block
LOOP_BLOCK = 4096  # the step a longer row is walked in


def num_warps_for(block: int) -> int:
    """Warps per program: enough threads that each holds a handful of a block's elements."""
    return 4 if block <= 1024 else 8 if block <= 4096 else 16


def row_block(n_cols: int, block: int | None = None, *, max_fused: int = MAX_FUSED,
              loop_block: int = LOOP_BLOCK) -> tuple[int, int]:
    """``(BLOCK, num_warps)`` for rows of ``n_cols``: the whole row rounded up to a power of two
    when it is at most ``max_fused`` long, else ``loop_block``. ``block`` forces the size (the
    tests walk short rows in small blocks with it)."""
    if block is None:
        import triton

        block = triton.next_power_of_2(n_cols) if n_cols <= max_fused else loop_block
    return block, num_warps_for(block)


def as_rows(x: torch.Tensor) -> torch.Tensor:
    """``x`` as ``(rows, last dim)`` with consecutive elements in a row (copied only if they are
    not): what a kernel that steps through a row by 1 needs. A 0-d tensor is one row of one."""
    rows = x.reshape(-1, x.shape[-1]) if x.dim() else x.reshape(1, 1)
    return rows.contiguous() if rows.numel() and rows.stride(-1) != 1 else rows


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
