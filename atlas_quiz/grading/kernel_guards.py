"""Guard bands around a kernel card's tensors: indexing mistakes become visible, not silent.

A kernel computes addresses itself. A missing mask, an offset off by one or a
wrong row stride reads or writes memory next to a tensor, and the result can
still look right. The launcher of a kernel card allocates through :class:`Guards`:

- ``padded(t)``: a copy of an input inside a bigger buffer filled with NaN. Its
  rows sit further apart than their length (row stride > row length), and
  there are spare rows before and after: a read past the end of a row, or a
  row index out of range, gives NaN.
- ``padded_empty(*shape, like=)``: an output laid out the same way, its guard
  filled with a NaN of a payload of our own. After the launch :meth:`Guards.check`
  finds any store outside the output (even of a NaN read from an input's
  padding, which carries another payload), any element of a floating-point
  output never stored (it still holds that NaN), and any write into an input.

Each tensor of one launch gets a row stride of its own, so a kernel that finds
one tensor's rows with another's stride goes wrong. Where a card promises one
stride for several tensors, its launcher says so: ``padded(k, row_stride=q.stride(0))``.

A fault is raised as :class:`KernelFault` whose message begins with where it
happened (``KernelFault at [0, 5]: ...``): the grader names a known mistake when
an answer fails with the same message up to its first colon, so two different
out-of-bounds mistakes are told apart by the first element they touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Guards", "KernelFault"]

_STRIDE_STEP = 8  # how far apart the row strides of one launch's tensors are at least


class KernelFault(Exception):
    """The kernel broke a rule the launcher checks: a store outside its output, an element
    of it never stored, a write to an input."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.where = where
        # What the learner reads, and what a known mistake is matched on (see the module doc).
        self.answer_message = f"KernelFault at {where}: {message}" if where else None


_INPUT, _OUTPUT = False, True
_NAN_BITS = {  # (plain quiet NaN, marked NaN) as integers of the float's width; all positive
    torch.float64: (0x7FF8000000000000, 0x7FF800000000BEEF),
    torch.float32: (0x7FC00000, 0x7FC0BEEF),
    torch.float16: (0x7E00, 0x7E5A),
    torch.bfloat16: (0x7FC0, 0x7FD5),
}
_INT_VIEW = {8: torch.int64, 4: torch.int32, 2: torch.int16}


@dataclass
class _Padded:
    """One guarded tensor: its buffer, the window that is the tensor, and its shape."""

    buf: torch.Tensor
    inside: torch.Tensor  # bool, buf's shape: True on the tensor's own elements
    shape: torch.Size
    before: torch.Tensor | None = None  # an input's buffer as it was handed to the kernel


@dataclass
class Guards:
    """The padded tensors of one launch, checked after it: guards intact, inputs unchanged."""

    outputs: list[_Padded] = field(default_factory=list)
    inputs: list[_Padded] = field(default_factory=list)
    widths: set[int] = field(default_factory=set)

    def padded(self, t: torch.Tensor, *, row_stride: int | None = None) -> torch.Tensor:
        """A copy of ``t`` whose rows sit in a NaN-filled buffer with guards around them.

        ``row_stride`` (elements) gives it the row stride of another padded tensor,
        for kernels that take one stride for several tensors.
        """
        part = self._allocate(t.shape, t.dtype, t.device, _INPUT, row_stride)
        _window(part.buf, part.shape).copy_(t.detach())
        part.before = part.buf.clone()
        self.inputs.append(part)
        return _window(part.buf, part.shape)

    def padded_empty(self, *shape: Any, like: torch.Tensor | None = None,
                     dtype: torch.dtype | None = None, device: Any = None,
                     row_stride: int | None = None) -> torch.Tensor:
        """An output of ``shape`` (ints, or one tuple) whose guards are checked after the launch."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
            shape = tuple(shape[0])
        size = torch.Size(int(s) for s in shape)
        dtype = dtype or (like.dtype if like is not None else torch.float32)
        device = device or (like.device if like is not None else "cpu")
        part = self._allocate(size, dtype, device, _OUTPUT, row_stride)
        self.outputs.append(part)
        return _window(part.buf, part.shape)

    def check(self) -> None:
        """Raise :class:`KernelFault` if a guard was written, an input changed or an output
        element was never stored."""
        for part in self.outputs:
            marked = _bits(_filled(part.buf.shape, part.buf.dtype, part.buf.device, _OUTPUT))
            written = (_bits(part.buf) != marked) & ~part.inside
            if written.any():
                raise _outside_fault(part.shape, _first(written))
        for part in self.inputs:
            assert part.before is not None
            changed = _bits(part.buf) != _bits(part.before)
            if changed.any():
                raise KernelFault(f"the kernel wrote into its input of shape {tuple(part.shape)}; "
                                  "here a kernel writes only its outputs",
                                  _index(part.shape, _first(changed)))
        for part in self.outputs:
            if part.buf.dtype not in _NAN_BITS:  # an int or bool output has no unique guard value
                continue
            marked = _bits(_filled(part.buf.shape, part.buf.dtype, part.buf.device, _OUTPUT))
            unwritten = (_bits(part.buf) == marked) & part.inside
            if unwritten.any():
                others = int(unwritten.sum()) - 1
                raise KernelFault(f"the kernel never stored this element of its output, nor "
                                  f"{others} other{'s' if others != 1 else ''} of "
                                  f"{part.shape.numel()}: does the grid cover every element, and "
                                  f"does each program store at its own offsets?",
                                  _index(part.shape, _first(unwritten)))

    def clear(self) -> None:
        """Forget the previous launch's tensors."""
        self.outputs.clear()
        self.inputs.clear()
        self.widths.clear()

    def _allocate(self, shape: torch.Size, dtype: torch.dtype, device: Any, output: bool,
                  row_stride: int | None) -> _Padded:
        """A guard-filled buffer for ``shape``, its rows ``row_stride`` or a width of their own."""
        last = shape[-1] if shape else 1
        least = last + 2 * _row_guard(last)
        if row_stride is None:
            width = least
            while width in self.widths:  # no two tensors of a launch share a row stride by chance
                width += _STRIDE_STEP
        elif len(shape) < 2:
            raise ValueError("row_stride is for a tensor with rows (2-D or more)")
        elif row_stride < least:
            raise ValueError(f"row_stride {row_stride} leaves no guard: at least {least} "
                             f"for rows of {last}")
        else:
            width = int(row_stride)
        self.widths.add(width)
        outer = [s + 2 * _row_guard(s) for s in shape[:-1]]
        buf = _filled((*outer, width), dtype, device, output)
        inside = torch.zeros(buf.shape, dtype=torch.bool, device=buf.device)
        _window(inside, shape).fill_(True)
        return _Padded(buf, inside, shape)


def _first(mask: torch.Tensor) -> tuple[int, ...]:
    """The first True position of ``mask`` in row-major order, as buffer coordinates."""
    return tuple(torch.nonzero(mask)[0].tolist())


def _relative(shape: torch.Size, pos: tuple[int, ...]) -> list[int]:
    """A buffer position as the tensor's own index numbers (they may lie outside it)."""
    last = shape[-1] if shape else 1
    return [p - _row_guard(s) for p, s in zip(pos[:-1], shape[:-1])] + [pos[-1] - _row_guard(last)]


def _index(shape: torch.Size, pos: tuple[int, ...]) -> str:
    """A buffer position as the tensor's own index, e.g. ``[0, 5]`` (may lie outside it)."""
    return "[" + ", ".join(str(i) for i in _relative(shape, pos)) + "]"


def _outside_fault(shape: torch.Size, pos: tuple[int, ...]) -> KernelFault:
    """The fault for a store at buffer position ``pos``, outside the output of ``shape``."""
    where = _index(shape, pos)
    if not all(0 <= p - _row_guard(s) < s for p, s in zip(pos[:-1], shape[:-1])):
        return KernelFault(f"the kernel stored outside the rows of its output (shape "
                           f"{tuple(shape)}): is a row index, a row stride or the grid wrong?", where)
    last = shape[-1] if shape else 1
    side = "past the end" if pos[-1] - _row_guard(last) >= last else "before the start"
    if len(shape) > 1:
        return KernelFault(f"the kernel stored {side} of a row of its output (a row has {last} "
                           "elements): is a store missing its mask, an offset off by one, or the "
                           "row stride another tensor's?", where)
    return KernelFault(f"the kernel stored {side} of its output ({last} elements): is a store "
                       "missing its mask, or an offset off by one?", where)


def _filled(shape: torch.Size | tuple[int, ...], dtype: torch.dtype, device: Any,
            output: bool) -> torch.Tensor:
    """A tensor of ``shape`` holding the guard value of an input's or an output's buffer."""
    if dtype in _NAN_BITS:
        width = _INT_VIEW[torch.empty((), dtype=dtype).element_size()]
        return torch.full(shape, _NAN_BITS[dtype][output], dtype=width, device=device).view(dtype)
    if dtype == torch.bool:
        return torch.full(shape, output, dtype=dtype, device=device)
    info = torch.iinfo(dtype)
    return torch.full(shape, info.min if output else info.max, dtype=dtype, device=device)


def _bits(t: torch.Tensor) -> torch.Tensor:
    """The tensor's raw bits, so that NaNs compare by their payload."""
    if t.dtype.is_floating_point and t.element_size() in _INT_VIEW:
        return t.view(_INT_VIEW[t.element_size()])
    return t


def _row_guard(n: int) -> int:
    # The guard columns of each row and the spare rows of each leading dimension: wider than
    # the overrun of one block past the end (a block is at most the next power of two, or a
    # tile of 16 over a small dimension), so the overrun lands in the guard, not in the heap.
    return max(16, 1 << max(n - 1, 0).bit_length())


def _window(buf: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The part of a guarded buffer that holds the tensor of ``shape``."""
    if not shape:  # a scalar sits alone in the middle of its guard
        return buf[_row_guard(1)]
    index = [slice(_row_guard(s), _row_guard(s) + s) for s in shape[:-1]]
    g = _row_guard(shape[-1])
    return buf[(*index, slice(g, g + shape[-1]))]
