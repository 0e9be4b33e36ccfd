"""Softmax over the last dimension (000 §4.1.4; the Triton example of 004 §6.5).

    softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m),   m = max_j x_j

Layout: spec -> kernel -> launcher -> tests -> benchmark.

One program owns one row. A row of up to ``MAX_FUSED`` elements is one block:
read once, kept in registers, written once (one read and one write is all a
memory-bound op can hope for). Rows, blocks and warps are chosen as for every
row-wise kernel here (``atlas_quiz/bench/kernels.py``). A longer row is walked in blocks twice: an
online pass keeps the running max ``m`` and the running sum ``d`` (rescaled by
``exp(m_old - m_new)`` whenever the max grows), then a second pass writes
``exp(x - m) / d``. Subtracting the max keeps ``exp`` from overflowing.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from atlas_quiz.bench.kernels import as_rows, compiled, row_block

# --- spec ------------------------------------------------------------------------------------

def spec(x: torch.Tensor) -> torch.Tensor:
    """The trusted value: torch's softmax computed in fp32, rounded to the input's dtype."""
    return torch.softmax(x.float(), dim=-1).to(x.dtype)


def naive(x: torch.Tensor) -> torch.Tensor:
    """Softmax written out in torch ops, as one would in eager code (the benchmark's "eager")."""
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


# --- kernel ----------------------------------------------------------------------------------

@triton.jit
def softmax_kernel(x_ptr, y_ptr, x_row_stride, y_row_stride, n_cols,
                   BLOCK: tl.constexpr, ONE_BLOCK: tl.constexpr):
    """One program softmaxes one row: in registers if it fits one block, else online in blocks."""
    row = tl.program_id(0).to(tl.int64)  # int64: row * stride can pass 2**31 on big tensors
    x_row = x_ptr + row * x_row_stride
    y_row = y_ptr + row * y_row_stride
    if ONE_BLOCK:
        cols = tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(x_row + cols, mask=mask, other=-float("inf")).to(tl.float32)
        num = tl.exp(x - tl.max(x, axis=0))
        y = num / tl.sum(num, axis=0)
        tl.store(y_row + cols, y.to(y_ptr.dtype.element_ty), mask=mask)
    else:
        m = -float("inf")
        d = 0.0
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(x_row + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
            m_new = tl.maximum(m, tl.max(x, axis=0))
            shift = tl.where(m_new == -float("inf"), 0.0, m_new)  # a block of -inf adds nothing
            d = d * tl.exp(m - shift) + tl.sum(tl.exp(x - shift), axis=0)
            m = m_new
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < n_cols
            x = tl.load(x_row + cols, mask=mask, other=-float("inf")).to(tl.float32)
            y = tl.exp(x - m) / d
            tl.store(y_row + cols, y.to(y_ptr.dtype.element_ty), mask=mask)


# --- launcher --------------------------------------------------------------------------------

def softmax(x: torch.Tensor, block: int | None = None) -> torch.Tensor:
    """``softmax(x, dim=-1)``; ``block`` forces the block size (tests use it to walk long rows)."""
    rows = as_rows(x)
    out = torch.empty(rows.shape, dtype=x.dtype, device=x.device)
    n_rows, n_cols = rows.shape
    if out.numel() == 0:
        return out.reshape(x.shape)
    block, warps = row_block(n_cols, block)
    softmax_kernel[(n_rows,)](rows, out, rows.stride(0), out.stride(0), n_cols,
                              BLOCK=block, ONE_BLOCK=block >= n_cols, num_warps=warps)
    return out.reshape(x.shape)


# --- tests (collected by kernels/conftest.py; small shapes for the interpreter) ------------

def test_softmax_matches_spec_on_awkward_rows(device, dtype, close):
    for shape in [(1, 1), (3, 7), (5, 100), (2, 3, 129), (4, 1000)]:
        x = torch.randn(shape, device=device).mul(3).to(dtype)
        close(softmax(x), spec(x))


def test_long_rows_walked_in_blocks_match_spec(device, dtype, close):
    x = torch.randn(3, 300, device=device).mul(3).to(dtype)
    close(softmax(x, block=64), spec(x))  # four full blocks and a ragged tail of 44


def test_large_logits_do_not_overflow(device, close):
    x = torch.randn(3, 50, device=device) * 1e4
    for block in (None, 16):
        out = softmax(x, block=block)
        assert torch.isfinite(out).all()
        close(out, spec(x))


def test_a_leading_block_of_minus_inf_adds_nothing(device, close):
    x = torch.randn(2, 100, device=device)
    x[:, :40] = -float("inf")
    close(softmax(x, block=32), spec(x))


def test_strided_input_rows_are_read_by_their_stride(device, close):
    wide = torch.randn(4, 50, device=device)
    x = wide[:, 5:42]  # row stride 50, width 37
    close(softmax(x), spec(x))


# --- benchmark (python -m atlas_quiz.bench kernels) -------------------------------------------

def bench_softmax(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """Contenders for one shape; ``bytes`` is what an ideal kernel moves (read x, write y)."""
    x = torch.randn(m, n, device=device, dtype=dtype)
    return {"triton": lambda: softmax(x), "eager": lambda: naive(x),
            "functional": lambda: torch.softmax(x, dim=-1), "compiled": lambda: compiled(naive)(x),
            "expected": lambda: spec(x), "bytes": 2 * x.numel() * x.element_size()}


BENCHMARKS = {"softmax": bench_softmax}
