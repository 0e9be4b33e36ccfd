"""LayerNorm forward over the last dimension (000 §7.2).

    y = (x - mean) * rstd * w + b,   rstd = 1 / sqrt(var + eps)   (biased variance, per row)

Layout: spec -> kernel -> launcher -> tests -> benchmark.

One program per row. The variance is computed from ``x - mean`` (two passes over
the row), not as ``E[x**2] - mean**2``, which cancels catastrophically when the
mean is large. The padded lanes of the last block must be zeroed after the
subtraction (``tl.where(mask, x - mean, 0)``): loaded as 0 they would otherwise
add ``mean**2`` each to the variance. A row of up to ``MAX_FUSED`` elements is
one block kept in registers; a longer one is read three times (launch settings:
``atlas_quiz/bench/kernels.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from atlas_quiz.bench.kernels import as_rows, compiled, row_block

# --- spec ------------------------------------------------------------------------------------

def spec(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """The trusted value: ``F.layer_norm`` over the last dim in fp32, rounded to x's dtype."""
    return F.layer_norm(x.float(), (x.shape[-1],), w.float(), b.float(), eps).to(x.dtype)


def naive(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """LayerNorm written out in torch ops (the benchmark's "eager")."""
    mean = x.mean(dim=-1, keepdim=True)
    var = (x - mean).pow(2).mean(dim=-1, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps) * w + b


# --- kernel ----------------------------------------------------------------------------------

@triton.jit
def layernorm_fwd_kernel(x_ptr, w_ptr, b_ptr, y_ptr, mean_ptr, rstd_ptr, x_row_stride,
                         y_row_stride, n_cols, eps, BLOCK: tl.constexpr, ONE_BLOCK: tl.constexpr):
    """One program normalizes one row (two-pass variance) and saves its mean and rstd."""
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_row_stride
    y_row = y_ptr + row * y_row_stride
    if ONE_BLOCK:
        cols = tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
        mean = tl.sum(x, axis=0) / n_cols
        xc = tl.where(mask, x - mean, 0.0)
        rstd = tl.rsqrt(tl.sum(xc * xc, axis=0) / n_cols + eps)
        w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + cols, mask=mask, other=0.0).to(tl.float32)
        tl.store(y_row + cols, (xc * rstd * w + b).to(y_ptr.dtype.element_ty), mask=mask)
    else:
        total = 0.0
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            total += tl.sum(tl.load(x_row + cols, mask=cols < n_cols, other=0.0).to(tl.float32), axis=0)
        mean = total / n_cols
        sq = 0.0
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < n_cols
            x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
            xc = tl.where(mask, x - mean, 0.0)
            sq += tl.sum(xc * xc, axis=0)
        rstd = tl.rsqrt(sq / n_cols + eps)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < n_cols
            x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
            w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            b = tl.load(b_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            tl.store(y_row + cols, ((x - mean) * rstd * w + b).to(y_ptr.dtype.element_ty), mask=mask)
    tl.store(mean_ptr + row, mean)
    tl.store(rstd_ptr + row, rstd)


# --- launcher --------------------------------------------------------------------------------

def layernorm_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-5,
                      block: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``y`` (x's shape and dtype), and ``mean`` and ``rstd`` per row (fp32, for a backward pass)."""
    rows = as_rows(x)
    n_rows, n_cols = rows.shape
    y = torch.empty(rows.shape, dtype=x.dtype, device=x.device)
    mean = torch.empty(n_rows, dtype=torch.float32, device=x.device)
    rstd = torch.empty(n_rows, dtype=torch.float32, device=x.device)
    if n_rows and n_cols:
        block, warps = row_block(n_cols, block)
        layernorm_fwd_kernel[(n_rows,)](rows, w, b, y, mean, rstd, rows.stride(0), y.stride(0),
                                        n_cols, eps, BLOCK=block, ONE_BLOCK=block >= n_cols,
                                        num_warps=warps)
    return y.reshape(x.shape), mean, rstd


def layer_norm(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """LayerNorm over the last dim (forward only)."""
    return layernorm_forward(x, w, b, eps)[0]


# --- tests (collected by kernels/conftest.py) ---------------------------------------------------

def test_layernorm_matches_spec_on_awkward_rows(device, dtype, close):
    for shape in [(1, 1), (3, 7), (5, 100), (2, 3, 129), (4, 1000)]:
        x = torch.randn(shape, device=device).add(2.0).to(dtype)  # a mean far from 0
        w = torch.randn(shape[-1], device=device, dtype=dtype)
        b = torch.randn(shape[-1], device=device, dtype=dtype)
        close(layer_norm(x, w, b), spec(x, w, b))


def test_long_rows_walked_in_blocks_match_spec(device, dtype, close):
    x = torch.randn(3, 300, device=device).add(2.0).to(dtype)
    w = torch.randn(300, device=device, dtype=dtype)
    b = torch.randn(300, device=device, dtype=dtype)
    close(layernorm_forward(x, w, b, block=64)[0], spec(x, w, b))


def test_saved_statistics_are_the_rows_mean_and_rstd(device, close):
    x = torch.randn(6, 77, device=device) + 5.0
    _, mean, rstd = layernorm_forward(x, torch.ones(77, device=device), torch.zeros(77, device=device))
    close(mean, x.mean(-1))
    close(rstd, torch.rsqrt(x.var(-1, unbiased=False) + 1e-5))


def test_large_mean_does_not_cancel(device):
    # At a mean of 1e3, E[x^2] - mean^2 in fp32 loses about two digits of the variance;
    # the two-pass variance keeps them. Both are measured against fp64.
    x = torch.randn(4, 50, device=device) + 1e3
    w, b = torch.ones(50, device=device), torch.zeros(50, device=device)
    truth = spec(x.double(), w.double(), b.double())
    kernel_error = (layer_norm(x, w, b).double() - truth).abs().max().item()
    var_by_squares = x.pow(2).mean(-1, keepdim=True) - x.mean(-1, keepdim=True).pow(2)
    by_squares = (x - x.mean(-1, keepdim=True)) * torch.rsqrt(var_by_squares + 1e-5)
    squares_error = (by_squares.double() - truth).abs().max().item()
    assert kernel_error < 2e-3 < squares_error


# --- benchmark (python -m atlas_quiz.bench kernels) -------------------------------------------

def bench_layernorm(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """Contenders for one shape; ``bytes``: read x, write y."""
    x = torch.randn(m, n, device=device, dtype=dtype)
    w = torch.randn(n, device=device, dtype=dtype)
    b = torch.randn(n, device=device, dtype=dtype)
    return {"triton": lambda: layer_norm(x, w, b), "eager": lambda: naive(x, w, b),
            "functional": lambda: F.layer_norm(x, (n,), w, b, 1e-5),
            "compiled": lambda: compiled(naive)(x, w, b), "expected": lambda: spec(x, w, b),
            "bytes": 2 * x.numel() * x.element_size()}


BENCHMARKS = {"layernorm": bench_layernorm}
