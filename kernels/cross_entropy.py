"""Fused cross-entropy with an online log-sum-exp (000 §9.1).

    loss = -log softmax(x)_t = logsumexp(x) - x_t
    dloss/dx = (softmax(x) - onehot(t)) / n_valid          (mean over the rows not ignored)

Layout: spec -> kernel -> launcher -> tests -> benchmark.

One program per row of logits (a row is a whole vocabulary: it can be far
longer than a block). One pass over the row keeps the running max ``m`` and the
running sum ``d`` of ``exp(x - m)``, rescaling ``d`` by ``exp(m_old - m_new)``
when the max grows: ``logsumexp = m + log d`` without ever holding the row or
the probabilities. With ``WITH_GRAD`` a second pass writes the gradient, so
training never materialises the softmax (the idea of Liger-Kernel's fused
cross-entropy). Rows whose target is ``ignore_index`` add nothing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from atlas_quiz.bench.kernels import as_rows, compiled, row_block

BLOCK = 4096


# --- spec ------------------------------------------------------------------------------------

def spec(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """The trusted value: the per-row loss of ``F.cross_entropy`` in fp32."""
    return F.cross_entropy(logits.float(), target, ignore_index=ignore_index, reduction="none")


def naive(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The per-row loss in torch ops (the benchmark's "eager"): logsumexp minus the target's logit."""
    return torch.logsumexp(logits, dim=-1) - logits.gather(-1, target[:, None])[:, 0]


# --- kernel ----------------------------------------------------------------------------------

@triton.jit
def cross_entropy_kernel(x_ptr, target_ptr, loss_ptr, lse_ptr, grad_ptr, x_row_stride,
                         grad_row_stride, n_cols, ignore_index, grad_scale,
                         BLOCK: tl.constexpr, WITH_GRAD: tl.constexpr):
    """One program: one row's loss and logsumexp in one online pass, then its gradient if asked."""
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_row_stride
    m = -float("inf")
    d = 0.0
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(x_row + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(x, axis=0))
        shift = tl.where(m_new == -float("inf"), 0.0, m_new)
        d = d * tl.exp(m - shift) + tl.sum(tl.exp(x - shift), axis=0)
        m = m_new
    lse = m + tl.log(d)
    target = tl.load(target_ptr + row)
    valid = target != ignore_index
    in_range = (target >= 0) & (target < n_cols)
    # A target outside [0, C) reads nothing and makes the loss NaN rather than garbage.
    x_t = tl.load(x_row + target, mask=valid & in_range, other=float("nan")).to(tl.float32)
    tl.store(loss_ptr + row, tl.where(valid, lse - x_t, 0.0))
    tl.store(lse_ptr + row, lse)
    if WITH_GRAD:
        scale = tl.where(valid, grad_scale, 0.0)
        g_row = grad_ptr + row * grad_row_stride
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < n_cols
            x = tl.load(x_row + cols, mask=mask, other=-float("inf")).to(tl.float32)
            p = tl.exp(x - m) / d
            g = (p - tl.where(cols == target, 1.0, 0.0)) * scale
            tl.store(g_row + cols, g.to(grad_ptr.dtype.element_ty), mask=mask)


# --- launcher --------------------------------------------------------------------------------

def cross_entropy_forward(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100,
                          grad_scale: float | None = None, block: int | None = None
                          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-row ``loss`` and ``lse`` (fp32); with ``grad_scale`` also ``grad`` = scale * dloss/dx."""
    if logits.dim() != 2 or target.shape != logits.shape[:1]:
        raise ValueError("expected logits (N, C) and target (N,)")
    logits = as_rows(logits)
    n_rows, n_cols = logits.shape
    loss = torch.empty(n_rows, dtype=torch.float32, device=logits.device)
    lse = torch.empty(n_rows, dtype=torch.float32, device=logits.device)
    grad = torch.empty_like(logits) if grad_scale is not None else None
    if n_rows == 0:
        return loss, lse, grad
    # Every row is walked in blocks (a vocabulary rarely fits one): at most BLOCK at a time.
    block, warps = row_block(n_cols, block, max_fused=BLOCK, loop_block=BLOCK)
    cross_entropy_kernel[(n_rows,)](
        logits, target, loss, lse, grad if grad is not None else logits, logits.stride(0),
        grad.stride(0) if grad is not None else 0, n_cols, ignore_index, grad_scale or 0.0,
        BLOCK=block, WITH_GRAD=grad is not None, num_warps=warps)
    return loss, lse, grad


class CrossEntropyFunction(torch.autograd.Function):
    """Mean cross-entropy whose gradient is written by the forward kernel's second pass."""

    @staticmethod
    def forward(ctx, logits, target, ignore_index):
        n_valid = int((target != ignore_index).sum())  # one sync: the mean's divisor
        scale = 1.0 / n_valid if n_valid else 0.0
        loss, _, grad = cross_entropy_forward(logits, target, ignore_index,
                                              grad_scale=scale if logits.requires_grad else None)
        ctx.save_for_backward(grad if grad is not None else logits.new_empty(0))
        return loss.sum() / n_valid if n_valid else loss.sum() * float("nan")

    @staticmethod
    def backward(ctx, dloss):
        (grad,) = ctx.saved_tensors
        return grad * dloss.to(grad.dtype), None, None


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """``F.cross_entropy(logits, target, ignore_index=...)`` (mean), differentiable in ``logits``."""
    return CrossEntropyFunction.apply(logits, target, ignore_index)


# --- tests (collected by kernels/conftest.py) ---------------------------------------------------

def test_loss_matches_spec_on_awkward_vocabularies(device, dtype, close):
    for rows, vocab, block in [(1, 1, None), (3, 7, None), (5, 100, 32), (4, 1000, 128)]:
        x = torch.randn(rows, vocab, device=device).mul(4).to(dtype)
        t = torch.randint(vocab, (rows,), device=device)
        loss, lse, _ = cross_entropy_forward(x, t, block=block)
        close(loss, spec(x, t), scale=4)
        close(lse, torch.logsumexp(x.float(), -1), scale=4)


def test_ignored_rows_add_nothing(device, close):
    x = torch.randn(6, 50, device=device)
    t = torch.tensor([3, -100, 7, -100, 0, 49], device=device)
    close(cross_entropy_forward(x, t, block=16)[0], spec(x, t))
    close(cross_entropy(x, t), F.cross_entropy(x, t))


def test_huge_logits_do_not_overflow(device, close):
    x = torch.randn(4, 70, device=device) * 1e4
    t = torch.randint(70, (4,), device=device)
    loss = cross_entropy_forward(x, t, block=16)[0]
    assert torch.isfinite(loss).all()
    close(loss, spec(x, t))


def test_fused_gradient_matches_autograd(device, dtype, close):
    x = torch.randn(5, 90, device=device).mul(3).to(dtype)
    t = torch.tensor([0, 89, -100, 45, 12], device=device)
    xr = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(cross_entropy(xr, t) * 2.0, xr)
    xs = x.float().requires_grad_(True)
    (expected,) = torch.autograd.grad(F.cross_entropy(xs, t) * 2.0, xs)
    close(grad, expected.to(dtype), scale=4)


def test_target_out_of_range_gives_nan_not_garbage(device):
    x = torch.randn(2, 10, device=device)
    loss = cross_entropy_forward(x, torch.tensor([3, 10], device=device))[0]
    assert torch.isfinite(loss[0]) and torch.isnan(loss[1])


# --- benchmark (python -m atlas_quiz.bench kernels) -------------------------------------------

def bench_forward(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """Per-row loss of ``m`` rows over a vocabulary of ``n``; ``bytes``: read the logits once."""
    x = torch.randn(m, n, device=device, dtype=dtype)
    t = torch.randint(n, (m,), device=device)
    return {"triton": lambda: cross_entropy_forward(x, t)[0], "eager": lambda: naive(x, t),
            "functional": lambda: F.cross_entropy(x, t, reduction="none"),
            "compiled": lambda: compiled(naive)(x, t), "expected": lambda: spec(x, t),
            "bytes": x.numel() * x.element_size()}


def bench_with_grad(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """Loss and gradient; ``bytes``: read the logits twice, write the gradient."""
    x = torch.randn(m, n, device=device, dtype=dtype)
    t = torch.randint(n, (m,), device=device)
    xg = x.clone().requires_grad_(True)

    def torch_grad(loss_fn):
        return lambda: torch.autograd.grad(loss_fn(xg, t), xg)[0]

    return {"triton": lambda: cross_entropy_forward(x, t, grad_scale=1.0 / m)[2],
            "eager": torch_grad(lambda x, t: (torch.logsumexp(x, -1) - x.gather(-1, t[:, None])[:, 0]).mean()),
            "functional": torch_grad(F.cross_entropy), "compiled": torch_grad(lambda x, t: compiled(F.cross_entropy)(x, t)),
            "expected": torch_grad(lambda x, t: F.cross_entropy(x.float(), t)),
            "bytes": 3 * x.numel() * x.element_size()}


BENCHMARKS = {"cross_entropy": bench_forward, "cross_entropy_grad": bench_with_grad}
