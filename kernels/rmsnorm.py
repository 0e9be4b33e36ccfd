"""RMSNorm, forward and backward (000 §15.1).

    y = x * rstd * w,   rstd = 1 / sqrt(mean(x**2) + eps)        (per row: the last dim)
    dx = rstd * (g - x_hat * mean(x_hat * g)),  g = dy * w,  x_hat = x * rstd
    dw = sum over rows of dy * x_hat

Layout: spec -> kernels -> launchers -> tests -> benchmark. (000's code averages
over every element, not over the last dim; the spec follows PyTorch.)

Forward: one program per row; a row of up to ``MAX_FUSED`` elements is one block,
a longer one is read twice (sum of squares, then the writes). ``rstd`` is saved
per row for the backward pass. Rows, blocks and warps as for every row-wise
kernel here (``atlas_quiz/bench/kernels.py``).

Backward: a fixed number of programs (two per SM on a GPU), each owning a
contiguous run of rows. ``dw`` needs a sum over all rows: each program keeps
its partial sum in registers (one-block rows) or in its own row of a partial
buffer (longer rows), and the launcher adds the partials: no atomics, and the
result does not depend on scheduling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from atlas_quiz.bench.kernels import as_rows, compiled, row_block

# --- spec ------------------------------------------------------------------------------------

def spec(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """The trusted value: ``F.rms_norm`` over the last dim in fp32, rounded to x's dtype."""
    return F.rms_norm(x.float(), (x.shape[-1],), w.float(), eps).to(x.dtype)


def naive(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """RMSNorm written out in torch ops (the benchmark's "eager")."""
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * w


# --- kernels ---------------------------------------------------------------------------------

@triton.jit
def rmsnorm_fwd_kernel(x_ptr, w_ptr, y_ptr, rstd_ptr, x_row_stride, y_row_stride, n_cols, eps,
                       BLOCK: tl.constexpr, ONE_BLOCK: tl.constexpr):
    """One program normalizes one row and saves its rstd for the backward pass."""
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_row_stride
    y_row = y_ptr + row * y_row_stride
    if ONE_BLOCK:
        cols = tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
        rstd = tl.rsqrt(tl.sum(x * x, axis=0) / n_cols + eps)  # divide by n, not by BLOCK
        w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
        tl.store(y_row + cols, (x * rstd * w).to(y_ptr.dtype.element_ty), mask=mask)
    else:
        sum_sq = 0.0
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(x_row + cols, mask=cols < n_cols, other=0.0).to(tl.float32)
            sum_sq += tl.sum(x * x, axis=0)
        rstd = tl.rsqrt(sum_sq / n_cols + eps)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < n_cols
            x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
            w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            tl.store(y_row + cols, (x * rstd * w).to(y_ptr.dtype.element_ty), mask=mask)
    tl.store(rstd_ptr + row, rstd)


@triton.jit
def rmsnorm_bwd_kernel(dy_ptr, x_ptr, w_ptr, rstd_ptr, dx_ptr, dw_part_ptr, n_rows, n_cols,
                       dy_row_stride, x_row_stride, dx_row_stride, rows_per_program,
                       BLOCK: tl.constexpr, ONE_BLOCK: tl.constexpr):
    """One program writes dx for its run of rows and its row of dw partial sums (no atomics)."""
    pid = tl.program_id(0).to(tl.int64)
    first = pid * rows_per_program
    n_mine = tl.minimum(first + rows_per_program, n_rows) - first
    # Pointers advance row by row in 64 bits: row * stride can pass 2**31 on big tensors.
    dy_row = dy_ptr + first * dy_row_stride
    x_row = x_ptr + first * x_row_stride
    dx_row = dx_ptr + first * dx_row_stride
    dw_row = dw_part_ptr + pid * n_cols  # this program's row of partial sums
    if ONE_BLOCK:
        cols = tl.arange(0, BLOCK)
        mask = cols < n_cols
        w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
        dw = tl.zeros([BLOCK], dtype=tl.float32)
        for i in range(0, n_mine):
            x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
            dy = tl.load(dy_row + cols, mask=mask, other=0.0).to(tl.float32)
            rstd = tl.load(rstd_ptr + first + i)
            x_hat = x * rstd
            g = dy * w
            c = tl.sum(x_hat * g, axis=0) / n_cols
            dx = (g - x_hat * c) * rstd
            tl.store(dx_row + cols, dx.to(dx_ptr.dtype.element_ty), mask=mask)
            dw += dy * x_hat
            x_row += x_row_stride
            dy_row += dy_row_stride
            dx_row += dx_row_stride
        tl.store(dw_row + cols, dw, mask=mask)
    else:
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            tl.store(dw_row + cols, tl.zeros([BLOCK], dtype=tl.float32), mask=cols < n_cols)
        for i in range(0, n_mine):
            rstd = tl.load(rstd_ptr + first + i)
            c = 0.0
            for start in range(0, n_cols, BLOCK):
                cols = start + tl.arange(0, BLOCK)
                mask = cols < n_cols
                x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
                dy = tl.load(dy_row + cols, mask=mask, other=0.0).to(tl.float32)
                w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
                c += tl.sum(x * rstd * dy * w, axis=0)
            c = c / n_cols
            for start in range(0, n_cols, BLOCK):
                cols = start + tl.arange(0, BLOCK)
                mask = cols < n_cols
                x_hat = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32) * rstd
                dy = tl.load(dy_row + cols, mask=mask, other=0.0).to(tl.float32)
                w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
                dx = (dy * w - x_hat * c) * rstd
                tl.store(dx_row + cols, dx.to(dx_ptr.dtype.element_ty), mask=mask)
                part = tl.load(dw_row + cols, mask=mask, other=0.0)
                tl.store(dw_row + cols, part + dy * x_hat, mask=mask)
            x_row += x_row_stride
            dy_row += dy_row_stride
            dx_row += dx_row_stride


# --- launchers -------------------------------------------------------------------------------

def rmsnorm_forward(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-6,
                    block: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``y`` (x's shape and dtype) and ``rstd`` (one fp32 per row, for the backward pass)."""
    rows = as_rows(x)
    n_rows, n_cols = rows.shape
    y = torch.empty(rows.shape, dtype=x.dtype, device=x.device)
    rstd = torch.empty(n_rows, dtype=torch.float32, device=x.device)
    if n_rows and n_cols:
        block, warps = row_block(n_cols, block)
        rmsnorm_fwd_kernel[(n_rows,)](rows, w, y, rstd, rows.stride(0), y.stride(0), n_cols, eps,
                                      BLOCK=block, ONE_BLOCK=block >= n_cols, num_warps=warps)
    return y.reshape(x.shape), rstd


def programs_for(device: torch.device, n_rows: int) -> int:
    """How many programs share the rows of a backward pass: two per SM on a GPU.

    Two, so that one program's loads overlap the other's reduction; more would
    grow the partial sums of ``dw`` that the launcher then adds up.
    """
    if device.type == "cuda":
        sms = torch.cuda.get_device_properties(device).multi_processor_count
        return max(1, min(n_rows, 2 * sms))
    return max(1, min(n_rows, 4))


def rmsnorm_backward(dy: torch.Tensor, x: torch.Tensor, w: torch.Tensor, rstd: torch.Tensor,
                     block: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``dx`` and ``dw`` from the upstream gradient and the forward's saved ``rstd``."""
    rows, dys = as_rows(x), as_rows(dy)
    n_rows, n_cols = rows.shape
    dx = torch.empty(rows.shape, dtype=x.dtype, device=x.device)
    if n_rows == 0 or n_cols == 0:
        return dx.reshape(x.shape), torch.zeros_like(w)
    programs = programs_for(x.device, n_rows)
    dw_part = torch.empty(programs, n_cols, dtype=torch.float32, device=x.device)
    block, warps = row_block(n_cols, block)
    rmsnorm_bwd_kernel[(programs,)](dys, rows, w, rstd, dx, dw_part, n_rows, n_cols,
                                    dys.stride(0), rows.stride(0), dx.stride(0),
                                    triton.cdiv(n_rows, programs),
                                    BLOCK=block, ONE_BLOCK=block >= n_cols, num_warps=warps)
    return dx.reshape(x.shape), dw_part.sum(dim=0).to(w.dtype)


class RMSNormFunction(torch.autograd.Function):
    """RMSNorm with the Triton kernels for both passes."""

    @staticmethod
    def forward(ctx, x, w, eps):
        y, rstd = rmsnorm_forward(x, w, eps)
        ctx.save_for_backward(x, w, rstd)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, w, rstd = ctx.saved_tensors
        dx, dw = rmsnorm_backward(dy, x, w, rstd)
        return dx, dw, None


def rms_norm(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """RMSNorm over the last dim, differentiable in ``x`` and ``w``."""
    return RMSNormFunction.apply(x, w, eps)


# --- tests (collected by kernels/conftest.py) ---------------------------------------------------

def _spec_grads(x, w, dy, eps=1e-6):
    xf = x.float().requires_grad_(True)
    wf = w.float().requires_grad_(True)
    dx, dw = torch.autograd.grad(spec(xf, wf, eps), (xf, wf), dy.float())
    return dx.to(x.dtype), dw.to(w.dtype)


def test_forward_matches_spec_on_awkward_rows(device, dtype, close):
    for shape in [(1, 1), (3, 7), (5, 100), (2, 3, 129), (4, 1000)]:
        x = torch.randn(shape, device=device, dtype=dtype)
        w = torch.randn(shape[-1], device=device, dtype=dtype)
        close(rmsnorm_forward(x, w)[0], spec(x, w))


def test_forward_walks_long_rows_in_blocks(device, dtype, close):
    x = torch.randn(3, 300, device=device, dtype=dtype)
    w = torch.randn(300, device=device, dtype=dtype)
    close(rmsnorm_forward(x, w, block=64)[0], spec(x, w))


def test_eps_matters_for_tiny_rows(device, close):
    x = torch.randn(4, 33, device=device) * 1e-4  # mean(x**2) ~ 1e-8, far below eps
    w = torch.ones(33, device=device)
    close(rmsnorm_forward(x, w, eps=1e-6)[0], spec(x, w, 1e-6))


def test_backward_matches_autograd_of_spec(device, dtype, close):
    for shape, block in [((1, 1), None), ((9, 100), None), ((6, 129), 32), ((2, 3, 50), 16)]:
        x = torch.randn(shape, device=device, dtype=dtype)
        w = torch.randn(shape[-1], device=device, dtype=dtype)
        dy = torch.randn(shape, device=device, dtype=dtype)
        _, rstd = rmsnorm_forward(x, w)
        dx, dw = rmsnorm_backward(dy, x, w, rstd, block=block)
        ex, ew = _spec_grads(x, w, dy)
        close(dx, ex, scale=4)
        close(dw, ew, scale=4)


def test_autograd_function_gives_both_gradients(device, close):
    x = torch.randn(5, 40, device=device, requires_grad=True)
    w = torch.randn(40, device=device, requires_grad=True)
    dy = torch.randn(5, 40, device=device)
    dx, dw = torch.autograd.grad(rms_norm(x, w), (x, w), dy)
    ex, ew = _spec_grads(x.detach(), w.detach(), dy)
    close(dx, ex)
    close(dw, ew)


# --- benchmark (python -m atlas_quiz.bench kernels) -------------------------------------------

def bench_forward(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """Contenders for the forward pass of one shape; ``bytes``: read x, write y."""
    x = torch.randn(m, n, device=device, dtype=dtype)
    w = torch.randn(n, device=device, dtype=dtype)
    return {"triton": lambda: rmsnorm_forward(x, w)[0], "eager": lambda: naive(x, w),
            "functional": lambda: F.rms_norm(x, (n,), w, 1e-6), "compiled": lambda: compiled(naive)(x, w),
            "expected": lambda: spec(x, w), "bytes": 2 * x.numel() * x.element_size()}


def bench_backward(m: int, n: int, dtype: torch.dtype, device: str) -> dict:
    """Contenders for the backward pass; ``bytes``: read dy and x, write dx (dw is one row)."""
    x = torch.randn(m, n, device=device, dtype=dtype)
    w = torch.randn(n, device=device, dtype=dtype)
    dy = torch.randn(m, n, device=device, dtype=dtype)
    _, rstd = rmsnorm_forward(x, w)
    xg, wg = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    graphs = {"eager": naive(xg, wg), "functional": F.rms_norm(xg, (n,), wg, 1e-6)}

    def grads(y):
        return lambda: torch.autograd.grad(y, (xg, wg), dy, retain_graph=True)[0]

    def compiled_grads():
        if "compiled" not in graphs:  # compiling waits until the benchmark asks for it
            graphs["compiled"] = compiled(naive)(xg, wg)
        return torch.autograd.grad(graphs["compiled"], (xg, wg), dy, retain_graph=True)[0]

    return {"triton": lambda: rmsnorm_backward(dy, x, w, rstd)[0],
            "eager": grads(graphs["eager"]), "functional": grads(graphs["functional"]),
            "compiled": compiled_grads, "expected": lambda: _spec_grads(x, w, dy)[0],
            "bytes": 3 * x.numel() * x.element_size()}


BENCHMARKS = {"rmsnorm_fwd": bench_forward, "rmsnorm_bwd": bench_backward}
