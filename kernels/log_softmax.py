"""Log-softmax over the last dimension (000 §9.1: the ``LogSoftmax`` under ``NLLLoss``).

    log_softmax(x)_i = x_i - m - log(sum_j exp(x_j - m)),   m = max_j x_j

Layout: spec -> kernel -> launcher -> tests -> benchmark.

Why not ``log(softmax(x))``: a probability that underflows to 0 gives ``-inf``,
while ``x_i - m - log d`` stays finite. The structure is softmax's: one program
per row; a row of up to ``MAX_FUSED`` elements is one block in registers, a
longer one is walked twice (an online pass for ``m`` and ``d``, then the writes).
Launch settings: ``atlas_quiz/bench/kernels.py``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from atlas_quiz.bench.kernels import as_rows, compiled, row_block

# --- spec ------------------------------------------------------------------------------------

def spec(x: torch.Tensor) -> torch.Tensor:
    """The trusted value: torch's log_softmax in fp32, rounded to the input's dtype."""
    return torch.log_softmax(x.float(), dim=-1).to(x.dtype)


def naive(x: torch.Tensor) -> torch.Tensor:
    """Log-softmax written out in torch ops (the benchmark's "eager")."""
    shifted = x - x.amax(dim=-1, keepdim=True)
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


# --- kernel ----------------------------------------------------------------------------------

@triton.jit
def log_softmax_kernel(x_ptr, y_ptr, x_row_stride, y_row_stride, n_cols,
                       BLOCK: tl.constexpr, ONE_BLOCK: tl.constexpr):
    """One program writes one row's ``x - m - log d``: in one block, or after an online pass."""
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_row_stride
    y_row = y_ptr + row * y_row_stride
    if ONE_BLOCK:
        cols = tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(x_row + cols, mask=mask, other=-float("inf")).to(tl.float32)
        shifted = x - tl.max(x, axis=0)
        y = shifted - tl.log(tl.sum(tl.exp(shifted), axis=0))
        tl.store(y_row + cols, y.to(y_ptr.dtype.element_ty), mask=mask)
    else:
        m = -float("inf")
        d = 0.0
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(x_row + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
            m_new = tl.maximum(m, tl.max(x, axis=0))
            shift = tl.where(m_new == -float("inf"), 0.0, m_new)
            d = d * tl.exp(m - shift) + tl.sum(tl.exp(x - shift), axis=0)
            m = m_new
        log_d = tl.log(d)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < n_cols
            x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
            # (x - m) - log d, not x - (m + log d): m + log d would round at the scale of m
            tl.store(y_row + cols, ((x - m) - log_d).to(y_ptr.dtype.element_ty), mask=mask)


# --- launcher --------------------------------------------------------------------------------

def log_softmax(x: torch.Tensor, block: int | None = None) -> torch.Tensor:
    """``log_softmax(x, dim=-1)``; ``block`` forces the block size (tests walk long rows with it)."""
    rows = as_rows(x)
    out = torch.empty(rows.shape, dtype=x.dtype, device=x.device)
    n_rows, n_cols = rows.shape
    if out.numel() == 0:
        return out.reshape(x.shape)
    block, warps = row_block(n_cols, block)
    log_softmax_kernel[(n_rows,)](rows, out, rows.stride(0), out.stride(0), n_cols,
                                  BLOCK=block, ONE_BLOCK=block >= n_cols, num_warps=warps)
    return out.reshape(x.shape)


# --- tests (collected by kernels/conftest.py) ---------------------------------------------------

def test_log_softmax_matches_spec_on_awkward_rows(device, dtype, close):
    for shape in [(1, 1), (3, 7), (5, 100), (2, 3, 129), (4, 1000)]:
        x = torch.randn(shape, device=device).mul(3).to(dtype)
        close(log_softmax(x), spec(x), scale=4)  # values near -10 carry the ulp of 10


def test_long_rows_walked_in_blocks_match_spec(device, dtype, close):
    x = torch.randn(3, 300, device=device).mul(3).to(dtype)
    close(log_softmax(x, block=64), spec(x), scale=4)


def test_tiny_probabilities_stay_finite(device, close):
    # exp(-1e4) underflows: log(softmax(x)) would be -inf here, log_softmax is not
    x = torch.randn(3, 50, device=device) * 1e4
    for block in (None, 16):
        out = log_softmax(x, block=block)
        assert torch.isfinite(out).all()
        close(out, spec(x))


# --- benchmark (python -m atlas_quiz.bench kernels) -------------------------------------------

def bench_log_softmax(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """Contenders for one shape; ``bytes`` is what an ideal kernel moves (read x, write y)."""
    x = torch.randn(m, n, device=device, dtype=dtype)
    return {"triton": lambda: log_softmax(x), "eager": lambda: naive(x),
            "functional": lambda: torch.log_softmax(x, dim=-1), "compiled": lambda: compiled(naive)(x),
            "expected": lambda: spec(x), "bytes": 2 * x.numel() * x.element_size()}


BENCHMARKS = {"log_softmax": bench_log_softmax}
