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
  padding, which carries another payload) and any write into an input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Guards", "KernelFault"]

_SPARE_ROWS = 8  # guard rows before and after each leading dimension


class KernelFault(Exception):
    """The kernel broke a rule the launcher checks: a store outside its output, a write to an input."""


_INPUT, _OUTPUT = False, True
_NAN_BITS = {  # (plain quiet NaN, marked NaN) as integers of the float's width; all positive
    torch.float64: (0x7FF8000000000000, 0x7FF800000000BEEF),
    torch.float32: (0x7FC00000, 0x7FC0BEEF),
    torch.float16: (0x7E00, 0x7E5A),
    torch.bfloat16: (0x7FC0, 0x7FD5),
}
_INT_VIEW = {8: torch.int64, 4: torch.int32, 2: torch.int16}


@dataclass
class Guards:
    """The padded tensors of one launch, checked after it: guards intact, inputs unchanged."""

    outputs: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    inputs: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)

    def padded(self, t: torch.Tensor) -> torch.Tensor:
        """A copy of ``t`` whose rows sit in a NaN-filled buffer with guards around them."""
        buf, view = _guarded(t.shape, t.dtype, t.device, _INPUT)
        view.copy_(t.detach())
        self.inputs.append((buf, buf.clone()))
        return view

    def padded_empty(self, *shape: Any, like: torch.Tensor | None = None,
                     dtype: torch.dtype | None = None, device: Any = None) -> torch.Tensor:
        """An output of ``shape`` (ints, or one tuple) whose guards are checked after the launch."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
            shape = tuple(shape[0])
        size = torch.Size(int(s) for s in shape)
        dtype = dtype or (like.dtype if like is not None else torch.float32)
        device = device or (like.device if like is not None else "cpu")
        buf, view = _guarded(size, dtype, device, _OUTPUT)
        inside = torch.zeros(buf.shape, dtype=torch.bool, device=buf.device)
        _window(inside, size).fill_(True)
        self.outputs.append((buf, inside))
        return view

    def check(self) -> None:
        """Raise :class:`KernelFault` if a guard was written or an input changed."""
        for buf, inside in self.outputs:
            marked = _filled(buf.shape, buf.dtype, buf.device, _OUTPUT)
            if not torch.equal(_bits(buf)[~inside], _bits(marked)[~inside]):
                raise KernelFault("the kernel stored outside its output (past the end of a row, or "
                                  "a row out of range): is a store missing its mask, or an offset "
                                  "off by one?")
        for buf, before in self.inputs:
            if not torch.equal(_bits(buf), _bits(before)):
                raise KernelFault("the kernel wrote into one of its inputs; here a kernel writes "
                                  "only its outputs")

    def clear(self) -> None:
        """Forget the previous launch's tensors."""
        self.outputs.clear()
        self.inputs.clear()


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
    # Wider than any overrun of a row by one block (a block is at most the next power of two).
    return max(16, 1 << max(n - 1, 0).bit_length())


def _guarded(shape: torch.Size, dtype: torch.dtype, device: Any,
             output: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """A guard-filled buffer and the view of ``shape`` inside it."""
    last = shape[-1] if shape else 1
    outer = [s + 2 * _SPARE_ROWS for s in shape[:-1]]
    buf = _filled((*outer, last + 2 * _row_guard(last)), dtype, device, output)
    return buf, _window(buf, shape)


def _window(buf: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The part of a guarded buffer that holds the tensor of ``shape``."""
    if not shape:  # a scalar sits alone in the middle of its guard
        return buf[_row_guard(1)]
    index = [slice(_SPARE_ROWS, _SPARE_ROWS + s) for s in shape[:-1]]
    g = _row_guard(shape[-1])
    return buf[(*index, slice(g, g + shape[-1]))]
