"""Rotary position embedding, RoPE (000 §15.3), on adjacent pairs as in 000's rotation matrix.

    (x_{2i}, x_{2i+1}) at position m  ->  (x_{2i} cos mθ_i - x_{2i+1} sin mθ_i,
                                            x_{2i} sin mθ_i + x_{2i+1} cos mθ_i)
    θ_i = base^(-2i/d),  i = 0 .. d/2 - 1

Layout: spec -> kernel -> launcher -> tests -> benchmark.

``x`` is ``(B, S, H, D)``; ``cos`` and ``sin`` are ``(S, D/2)`` tables. One
program per token (b, s) rotates all its heads: it loads the ``(H, D)`` tile
contiguously, views it as ``(H, D/2, 2)`` and splits the pairs, so loads and
stores stay coalesced. (LLaMA's Hugging Face code pairs ``x_i`` with
``x_{i + D/2}`` instead, "rotate half": a different layout of the same idea.)
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from atlas_quiz.bench.kernels import compiled

# --- spec ------------------------------------------------------------------------------------

def rope_tables(seq_len: int, dim: int, base: float = 10000.0,
                device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """``cos`` and ``sin`` of m·θ_i, each ``(seq_len, dim // 2)`` fp32 (computed in fp64)."""
    theta = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    angle = torch.arange(seq_len, dtype=torch.float64)[:, None] * theta
    return angle.cos().float().to(device), angle.sin().float().to(device)


def spec(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """The trusted value: the pairs of x's last dim rotated in fp32, rounded to x's dtype."""
    return naive(x.float(), cos, sin).to(x.dtype)


def naive(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE in torch ops on ``(B, S, H, D)`` (the benchmark's "eager")."""
    pairs = x.unflatten(-1, (-1, 2))
    x0, x1 = pairs[..., 0], pairs[..., 1]
    c, s = cos[:, None, :].to(x.dtype), sin[:, None, :].to(x.dtype)  # (S, 1, D/2): every head
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


# --- kernel ----------------------------------------------------------------------------------

@triton.jit
def rope_kernel(x_ptr, cos_ptr, sin_ptr, out_ptr, seq_len, n_heads, head_dim,
                x_b_stride, x_s_stride, out_b_stride, out_s_stride, table_stride,
                BLOCK_H: tl.constexpr, BLOCK_D: tl.constexpr):
    """One program rotates every head of one token: one read of x and of its cos/sin row."""
    token = tl.program_id(0)
    b = (token // seq_len).to(tl.int64)
    s = (token % seq_len).to(tl.int64)
    heads = tl.arange(0, BLOCK_H)[:, None]
    dims = tl.arange(0, BLOCK_D)[None, :]
    mask = (heads < n_heads) & (dims < head_dim)
    tile = heads * head_dim + dims  # (H, D) are contiguous inside a token
    x = tl.load(x_ptr + b * x_b_stride + s * x_s_stride + tile, mask=mask, other=0.0)
    x0, x1 = tl.split(tl.reshape(x.to(tl.float32), (BLOCK_H, BLOCK_D // 2, 2)))
    half = tl.arange(0, BLOCK_D // 2)
    half_mask = half < head_dim // 2
    c = tl.load(cos_ptr + s * table_stride + half, mask=half_mask, other=0.0)[None, :]
    sn = tl.load(sin_ptr + s * table_stride + half, mask=half_mask, other=0.0)[None, :]
    out = tl.reshape(tl.join(x0 * c - x1 * sn, x0 * sn + x1 * c), (BLOCK_H, BLOCK_D))
    tl.store(out_ptr + b * out_b_stride + s * out_s_stride + tile,
             out.to(out_ptr.dtype.element_ty), mask=mask)


# --- launcher --------------------------------------------------------------------------------

def rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE on ``x`` of shape ``(B, S, H, D)`` (D even) with ``(S, D/2)`` tables."""
    bsz, seq_len, n_heads, head_dim = x.shape
    if head_dim % 2:
        raise ValueError(f"RoPE rotates pairs: the head dim must be even, got {head_dim}")
    if x.stride(-1) != 1 or x.stride(-2) != head_dim:
        x = x.contiguous()
    cos, sin = cos.contiguous(), sin.contiguous()
    out = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    if x.numel() == 0:
        return out
    block_h = triton.next_power_of_2(n_heads)
    block_d = max(2, triton.next_power_of_2(head_dim))
    warps = 4 if block_h * block_d <= 2048 else 8
    rope_kernel[(bsz * seq_len,)](x, cos, sin, out, seq_len, n_heads, head_dim,
                                  x.stride(0), x.stride(1), out.stride(0), out.stride(1),
                                  cos.stride(0), BLOCK_H=block_h, BLOCK_D=block_d,
                                  num_warps=warps)
    return out


# --- tests (collected by kernels/conftest.py) ---------------------------------------------------

def test_rope_matches_spec_on_awkward_shapes(device, dtype, close):
    for shape in [(1, 1, 1, 2), (2, 5, 3, 6), (1, 7, 4, 64), (3, 4, 5, 10)]:
        x = torch.randn(shape, device=device, dtype=dtype)
        cos, sin = rope_tables(shape[1], shape[3], device=device)
        close(rope(x, cos, sin), spec(x, cos, sin))


def test_position_zero_is_left_unrotated(device):
    x = torch.randn(2, 3, 4, 8, device=device)
    cos, sin = rope_tables(3, 8, device=device)
    assert torch.equal(rope(x, cos, sin)[:, 0], x[:, 0])


def test_rotation_keeps_each_pairs_length(device, close):
    x = torch.randn(1, 9, 2, 16, device=device)
    cos, sin = rope_tables(9, 16, device=device)
    norms = rope(x, cos, sin).unflatten(-1, (-1, 2)).norm(dim=-1)
    close(norms, x.unflatten(-1, (-1, 2)).norm(dim=-1))


def test_a_strided_batch_is_read_by_its_strides(device, close):
    x = torch.randn(4, 6, 3, 8, device=device)[::2]  # every other sequence of the batch
    cos, sin = rope_tables(6, 8, device=device)
    close(rope(x, cos, sin), spec(x, cos, sin))


# --- benchmark (python -m atlas_quiz.bench kernels) -------------------------------------------

def bench_rope(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """``m`` tokens of ``n`` features as 128-wide heads; ``bytes``: read x, write the rotation."""
    head_dim = 128 if n % 128 == 0 else n
    x = torch.randn(1, m, n // head_dim, head_dim, device=device, dtype=dtype)
    cos, sin = rope_tables(m, head_dim, device=device)
    return {"triton": lambda: rope(x, cos, sin), "eager": lambda: naive(x, cos, sin),
            "functional": None, "compiled": lambda: compiled(naive)(x, cos, sin),
            "expected": lambda: spec(x, cos, sin), "bytes": 2 * x.numel() * x.element_size()}


BENCHMARKS = {"rope": bench_rope}
