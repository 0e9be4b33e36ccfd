"""Causal attention forward, flash-style and tiled (000 §13.1; 004 §6.2 on why tiling).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + causal mask) V

Layout: spec -> kernel -> launcher -> tests -> benchmark.

One program owns a tile of ``BLOCK_M`` queries of one (batch, head) and walks
the keys in tiles of ``BLOCK_N``, never writing the ``N x N`` scores to memory:
it keeps, per query, the running max ``m`` and running sum ``l`` of the
softmax and an unnormalised output ``acc``; when the max grows, ``l`` and
``acc`` are rescaled by ``exp(m_old - m_new)``. Key tiles wholly below the
diagonal need no mask; only the tiles on the diagonal are masked, and tiles
above it are never visited. Scores are kept in base 2 (``exp2`` is the
hardware's instruction): ``qk_scale = log2(e) / sqrt(d)``. The log-sum-exp per
query is stored too (what a backward pass would need).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from atlas_quiz.bench.kernels import compiled

LOG2_E = 1.4426950408889634


# --- spec ------------------------------------------------------------------------------------

def spec(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The trusted value: ``F.scaled_dot_product_attention(is_causal=True)`` in fp32."""
    return F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=True).to(q.dtype)


def naive(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal attention written out in torch ops, scores in memory (the benchmark's "eager")."""
    n = q.shape[-2]
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)
    return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v


# --- kernel ----------------------------------------------------------------------------------

@triton.jit
def _attend_tile(acc, m_i, l_i, q, k_base, v_base, start_n, offs_m, offs_n, offs_d, d_mask,
                 k_row_stride, v_row_stride, n_ctx, qk_scale,
                 ON_DIAGONAL: tl.constexpr, PRECISION: tl.constexpr):
    """Fold one tile of keys into the running max, sum and output (masked on the diagonal)."""
    keys = start_n + offs_n
    kv_mask = (keys[:, None] < n_ctx) & d_mask[None, :]
    k = tl.load(k_base + keys[:, None] * k_row_stride + offs_d[None, :], mask=kv_mask, other=0.0)
    s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    if ON_DIAGONAL:  # a query sees its own key and earlier ones, never later ones
        s = tl.where(offs_m[:, None] >= keys[None, :], s, -float("inf"))
    m_new = tl.maximum(m_i, tl.max(s, axis=1))
    p = tl.exp2(s - m_new[:, None])
    alpha = tl.exp2(m_i - m_new)
    l_i = l_i * alpha + tl.sum(p, axis=1)
    v = tl.load(v_base + keys[:, None] * v_row_stride + offs_d[None, :], mask=kv_mask, other=0.0)
    acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
    return acc, m_new, l_i


@triton.jit
def attention_fwd_kernel(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr,
                         q_bh_stride, q_row_stride, k_bh_stride, k_row_stride,
                         v_bh_stride, v_row_stride, o_bh_stride, o_row_stride,
                         n_ctx, head_dim, qk_scale,
                         BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
                         PRECISION: tl.constexpr):
    """One program: a tile of queries of one (batch, head), walking only the keys it may see."""
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1).to(tl.int64)
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    d_mask = offs_d < head_dim
    q_mask = (offs_m[:, None] < n_ctx) & d_mask[None, :]
    q = tl.load(q_ptr + bh * q_bh_stride + offs_m[:, None] * q_row_stride + offs_d[None, :],
                mask=q_mask, other=0.0)
    k_base = k_ptr + bh * k_bh_stride
    v_base = v_ptr + bh * v_bh_stride
    m_i = tl.full([BLOCK_M], -float("inf"), dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
    for start_n in range(0, start_m, BLOCK_N):  # wholly below the diagonal: no mask
        acc, m_i, l_i = _attend_tile(acc, m_i, l_i, q, k_base, v_base, start_n, offs_m, offs_n,
                                     offs_d, d_mask, k_row_stride, v_row_stride, n_ctx, qk_scale,
                                     False, PRECISION)
    for start_n in range(start_m, tl.minimum(start_m + BLOCK_M, n_ctx), BLOCK_N):
        acc, m_i, l_i = _attend_tile(acc, m_i, l_i, q, k_base, v_base, start_n, offs_m, offs_n,
                                     offs_d, d_mask, k_row_stride, v_row_stride, n_ctx, qk_scale,
                                     True, PRECISION)
    out = acc / l_i[:, None]
    tl.store(o_ptr + bh * o_bh_stride + offs_m[:, None] * o_row_stride + offs_d[None, :],
             out.to(o_ptr.dtype.element_ty), mask=q_mask)
    lse = (m_i + tl.log2(l_i)) / 1.4426950408889634  # back to natural log
    tl.store(lse_ptr + bh * n_ctx + offs_m, lse, mask=offs_m < n_ctx)


# --- launcher --------------------------------------------------------------------------------

def tiles_for(device_type: str, dtype: torch.dtype, head_dim: int) -> tuple[int, int, int, int]:
    """``BLOCK_M, BLOCK_N, num_warps, num_stages``: big tiles on a GPU, small ones interpreted."""
    if device_type != "cuda":
        return 16, 16, 4, 1
    if dtype == torch.float32:  # fp32 tiles take twice the shared memory
        return 64, 32, 4, 2
    return 128, 64, 8 if head_dim > 64 else 4, 3


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              config: tuple[int, int, int, int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Causal attention of ``(B, H, N, D)`` tensors: the output and the fp32 log-sum-exp ``(B, H, N)``.

    ``config`` forces ``(BLOCK_M, BLOCK_N, num_warps, num_stages)``, BLOCK_M a multiple of BLOCK_N.
    """
    if not (q.shape == k.shape == v.shape) or q.dim() != 4:
        raise ValueError("expected q, k, v of one shape (B, H, N, D)")
    bsz, heads, n_ctx, head_dim = q.shape
    q, k, v = (t if t.stride(-1) == 1 and t.stride(0) == heads * t.stride(1) else t.contiguous()
               for t in (q, k, v))
    out = torch.empty(q.shape, dtype=q.dtype, device=q.device)
    lse = torch.empty(bsz, heads, n_ctx, dtype=torch.float32, device=q.device)
    if q.numel() == 0:
        return out, lse
    block_m, block_n, warps, stages = config or tiles_for(q.device.type, q.dtype, head_dim)
    if block_m % block_n:
        raise ValueError("BLOCK_M must be a multiple of BLOCK_N")
    block_d = max(16, triton.next_power_of_2(head_dim))
    grid = (triton.cdiv(n_ctx, block_m), bsz * heads)
    attention_fwd_kernel[grid](
        q, k, v, out, lse, q.stride(1), q.stride(2), k.stride(1), k.stride(2),
        v.stride(1), v.stride(2), out.stride(1), out.stride(2), n_ctx, head_dim,
        LOG2_E / math.sqrt(head_dim), BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_D=block_d,
        PRECISION="ieee" if q.dtype == torch.float32 else "tf32",
        num_warps=warps, num_stages=stages)
    return out, lse


# --- tests (collected by kernels/conftest.py) ---------------------------------------------------

def _qkv(shape, device, dtype):
    return [torch.randn(shape, device=device, dtype=dtype) for _ in range(3)]


def test_attention_matches_spec_on_awkward_lengths(device, dtype, close):
    for shape in [(1, 1, 1, 16), (2, 3, 17, 16), (1, 2, 40, 24), (1, 1, 70, 64)]:
        q, k, v = _qkv(shape, device, dtype)
        close(attention(q, k, v)[0], spec(q, k, v), scale=5)  # p rounds to the input dtype


def test_tiles_narrower_than_the_query_tile_keep_causality(device, close):
    q, k, v = _qkv((2, 2, 45, 16), device, torch.float32)
    close(attention(q, k, v, config=(32, 16, 4, 1))[0], spec(q, k, v))  # two key tiles per diagonal


def test_log_sum_exp_is_that_of_the_scaled_causal_scores(device, close):
    q, k, v = _qkv((1, 2, 21, 16), device, torch.float32)
    scores = (q @ k.transpose(-2, -1)) / 4.0
    future = torch.ones(21, 21, dtype=torch.bool, device=device).triu(1)
    close(attention(q, k, v)[1], torch.logsumexp(scores.masked_fill(future, -float("inf")), -1))


def test_the_first_query_sees_only_the_first_value(device, close):
    q, k, v = _qkv((1, 1, 33, 16), device, torch.float32)
    close(attention(q, k, v)[0][0, 0, 0], v[0, 0, 0])


def test_large_scores_do_not_overflow(device, close):
    q, k, v = _qkv((1, 1, 30, 16), device, torch.float32)
    out = attention(q * 100, k * 100, v)[0]
    assert torch.isfinite(out).all()
    close(out, spec(q * 100, k * 100, v), scale=100)  # scores near 1e4 carry their rounding


# --- benchmark (python -m atlas_quiz.bench kernels) -------------------------------------------

def bench_attention(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """``m`` tokens of width ``n`` as 128-wide heads, batch 1; reports ``flops`` (causal: half)."""
    head_dim = 128 if n % 128 == 0 else n
    shape = (1, n // head_dim, m, head_dim)
    q, k, v = _qkv(shape, device, dtype)
    scores_bytes = shape[1] * m * m * 4
    fits = scores_bytes <= (4 << 30)  # the eager contenders hold every score in memory
    return {"triton": lambda: attention(q, k, v)[0],
            "eager": (lambda: naive(q, k, v)) if fits else None,
            "functional": lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
            "compiled": (lambda: compiled(naive)(q, k, v)) if fits else None,
            "expected": lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
            "flops": 4 * shape[0] * shape[1] * m * m * head_dim // 2}


BENCHMARKS = {"attention": bench_attention}
