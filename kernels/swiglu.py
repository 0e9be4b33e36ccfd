"""SwiGLU's gate: ``silu(a) * b`` elementwise (000 §15.2).

    SwiGLU(x, W, V) = Swish(xW) * xV,   Swish(z) = z * sigmoid(z)   (beta = 1: SiLU)

Layout: spec -> kernel -> launcher -> tests -> benchmark.

``a = xW`` and ``b = xV`` come from matmuls; this kernel fuses what follows them
into one pass: read ``a`` and ``b`` once, write the product once (eager torch
writes ``silu(a)`` to memory and reads it back). The tensors are walked as one
flat array in blocks; the last block is masked.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from atlas_quiz.bench.kernels import compiled

BLOCK = 1024


# --- spec ------------------------------------------------------------------------------------

def spec(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The trusted value: ``F.silu(a) * b`` in fp32, rounded to a's dtype."""
    return (F.silu(a.float()) * b.float()).to(a.dtype)


def naive(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The gate written out in torch ops (the benchmark's "eager")."""
    return a * torch.sigmoid(a) * b


# --- kernel ----------------------------------------------------------------------------------

@triton.jit
def swiglu_kernel(a_ptr, b_ptr, out_ptr, n, BLOCK: tl.constexpr):
    """One program gates one block of elements: elementwise, so any flat split will do."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    a = tl.load(a_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    out = a * tl.sigmoid(a) * b
    tl.store(out_ptr + offs, out.to(out_ptr.dtype.element_ty), mask=mask)


# --- launcher --------------------------------------------------------------------------------

def swiglu(a: torch.Tensor, b: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
    """``silu(a) * b`` for two tensors of one shape (made contiguous if they are not)."""
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = a.contiguous(), b.contiguous()
    out = torch.empty_like(a)
    n = a.numel()
    if n:
        swiglu_kernel[(triton.cdiv(n, block),)](a, b, out, n, BLOCK=block, num_warps=4)
    return out


# --- tests (collected by kernels/conftest.py) ---------------------------------------------------

def test_swiglu_matches_spec_on_awkward_sizes(device, dtype, close):
    for shape in [(1,), (7,), (3, 5), (4, 1000), (2, 3, 333)]:
        a = torch.randn(shape, device=device, dtype=dtype) * 3
        b = torch.randn(shape, device=device, dtype=dtype)
        close(swiglu(a, b), spec(a, b))


def test_small_blocks_cover_a_ragged_tail(device, close):
    a, b = torch.randn(2, 45, device=device), torch.randn(2, 45, device=device)
    close(swiglu(a, b, block=16), spec(a, b))  # 90 elements: five full blocks and ten


def test_strided_inputs_are_read_in_order(device, close):
    a = torch.randn(40, 6, device=device).t()  # a transposed view
    b = torch.randn(6, 40, device=device)
    close(swiglu(a, b), spec(a, b))


def test_large_negative_gate_gives_zero_not_nan(device, close):
    a = torch.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], device=device)
    b = torch.ones(5, device=device)
    with warnings.catch_warnings():  # the interpreter's exp(1e4) overflows to inf, as it should: 1/inf is 0
        warnings.filterwarnings("ignore", "overflow encountered in exp", RuntimeWarning)
        out = swiglu(a, b)
    close(out, spec(a, b))


# --- benchmark (python -m atlas_quiz.bench kernels) -------------------------------------------

def bench_swiglu(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """Contenders for one shape; ``bytes``: read a and b, write the product."""
    a = torch.randn(m, n, device=device, dtype=dtype)
    b = torch.randn(m, n, device=device, dtype=dtype)
    return {"triton": lambda: swiglu(a, b), "eager": lambda: naive(a, b),
            "functional": lambda: F.silu(a) * b, "compiled": lambda: compiled(naive)(a, b),
            "expected": lambda: spec(a, b), "bytes": 3 * a.numel() * a.element_size()}


BENCHMARKS = {"swiglu": bench_swiglu}
