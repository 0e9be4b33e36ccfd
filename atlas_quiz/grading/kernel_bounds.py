"""Every load and store of a kernel card's launch stays inside the tensors it was given.

The guard bands (:mod:`.kernel_guards`) see what a kernel stored, and a NaN it read
from the padding only when that NaN reaches the output. A load past the end whose
values a masked store then drops (``x = tl.load(x_ptr + offs)`` ...
``tl.store(out_ptr + offs, x, mask=offs < n)``) leaves no trace in memory, yet on a
GPU that read can fault (illegal address) or read another tensor.

Under Triton's interpreter (``TRITON_INTERPRET=1``: kernel cards without a GPU) each
``tl.load`` reaches ``InterpreterBuilder.create_masked_load(ptrs, mask, other, ...)``
with the address of every lane (``ptrs.data``, a numpy uint64 array) and the mask
(``mask.data``); a load without a mask comes through ``create_load``, which calls
``self.create_masked_load`` with an all-true mask, and the interpreter's atomic and
tensor-descriptor loads go the same way. Stores mirror this through
``create_masked_store`` (Triton 3.x, ``triton/runtime/interpreter.py``).

:func:`bounds_checked` wraps the kernel a launcher sees. While one ``kernel[grid](...)``
launch runs, it shadows those two methods on the interpreter's single builder instance
(an instance attribute; the class is untouched) with a check of the active lanes
(mask true) against the elements of the launch's tensor arguments, then calls the
original. A lane outside them (a guard band, the padding between rows, or no tensor at
all) raises :class:`KernelFault` before the memory is touched, so such a read cannot
crash the worker either. The methods are removed after the launch, however it ended.

Where there is no check: a compiled kernel (on a GPU) runs no Python per load, so
there the guard bands stay the only check, as before; likewise when a tensor of the
launch is not on the CPU (the interpreter then works on host copies at other
addresses), or when the installed Triton's builder lacks these methods.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .kernel_guards import Guards, KernelFault, _outside_fault, _Padded, _relative

__all__ = ["LaunchBounds", "bounds_checked"]

_HOOKED = ("create_masked_load", "create_masked_store")
_ABSENT = object()


@dataclass
class _Arg:
    """One tensor argument of a launch, and the guarded buffer it sits in, if any."""

    name: str
    tensor: torch.Tensor
    part: _Padded | None
    output: bool

    def span(self) -> tuple[int, int]:
        """The bytes of its guarded buffer, or of the tensor itself: the memory it answers for."""
        t = self.part.buf if self.part is not None else self.tensor
        start = t.data_ptr()
        return start, start + max(_extent(t), 1) * t.element_size()


class LaunchBounds:
    """The elements a launch may touch, as byte intervals, and how to name a lane outside them."""

    def __init__(self, tensors: dict[str, torch.Tensor], guards: Guards) -> None:
        self.args = [_arg(name, t, guards) for name, t in tensors.items()]
        pieces = [_intervals(a.tensor) for a in self.args]
        starts = np.concatenate([p[0] for p in pieces] or [np.zeros(0, np.int64)])
        ends = np.concatenate([p[1] for p in pieces] or [np.zeros(0, np.int64)])
        order = np.argsort(starts, kind="stable")
        self.starts = starts[order]
        # reach[k]: the furthest end of the first k intervals (reach[0] ends before any address).
        # A lane [a, a + w) lies inside some interval exactly when a + w <= reach[k], k the
        # number of intervals starting at or before a: one searchsorted for a whole block.
        self.reach = np.concatenate(([np.iinfo(np.int64).min], np.maximum.accumulate(ends[order])))

    def check(self, ptrs: Any, mask: Any, store: bool) -> None:
        """Raise :class:`KernelFault` at the first active lane outside every tensor's elements."""
        data = np.asarray(ptrs.data)
        addresses = (data.view(np.int64) if data.dtype == np.uint64 else data.astype(np.int64)).ravel()
        width = max(int(ptrs.get_element_ty().primitive_bitwidth) // 8, 1)
        bad = addresses + width > self.reach[self.starts.searchsorted(addresses, side="right")]
        active = np.asarray(mask.data, dtype=bool)
        bad &= (active if active.shape == data.shape else np.broadcast_to(active, data.shape)).ravel()
        if bad.any():
            raise self.fault(int(addresses[int(np.argmax(bad))]), store)

    def fault(self, address: int, store: bool) -> KernelFault:
        """The fault for a lane at ``address``, named by the tensor whose memory it is in."""
        for arg in self.args:
            start, end = arg.span()
            if arg.part is not None and start <= address < end:
                buf = arg.part.buf
                flat = (address - start) // buf.element_size()
                pos = tuple(int(i) for i in np.unravel_index(flat, tuple(buf.shape)))
                if store and arg.output:  # the guard bands' own words, as their check says it
                    return _outside_fault(arg.part.shape, pos)
                return _fault(arg, _relative(arg.part.shape, pos), store, beyond=False)
        if not self.args:
            verb = "store wrote" if store else "load read"
            return KernelFault(f"a {verb} memory, but the kernel was given no tensor",
                               _where("", [], store))
        # Which pointer the address came from is not known here: the nearest tensor is the
        # likely one (a store's among the outputs), and the message says it lies outside them all.
        outputs = [a for a in self.args if a.output] if store else []
        nearest = min(outputs or self.args, key=lambda a: _distance(address, a.span()))
        start, end = nearest.span()
        return _fault(nearest, _decompose(nearest.tensor, address), store,
                      beyond=not start <= address < end)


def bounds_checked(kernel: Any, guards: Guards) -> Any:
    """The kernel as a launcher should see it: interpreted launches bounds-checked, else itself.

    The guard bands come from ``guards``, filled by the launcher before it launches.
    """
    # An interpreted kernel's class lives in this module, so a process without it has none
    # (a compiled kernel on a GPU: nothing to hook, nothing imported for it).
    interpreter = sys.modules.get("triton.runtime.interpreter")
    if interpreter is None or not isinstance(kernel, interpreter.InterpretedFunction):
        return kernel
    if not all(callable(getattr(interpreter.InterpreterBuilder, n, None)) for n in _HOOKED):
        return kernel  # a Triton whose interpreter routes memory otherwise: the guard bands remain
    return _CheckedKernel(kernel, guards)


class _CheckedKernel:
    """``kernel[grid](*args)`` with every load and store checked while that launch runs."""

    def __init__(self, kernel: Any, guards: Guards) -> None:
        self.kernel = kernel
        self.guards = guards

    def __getitem__(self, grid: Any) -> Callable[..., Any]:
        launch = self.kernel[grid]

        def run(*args: Any, **kwargs: Any) -> Any:
            named = {**dict(zip(self.kernel.arg_names, args)), **kwargs}
            tensors = dict(_tensors(named))
            if any(t.device.type != "cpu" for t in tensors.values()):
                return launch(*args, **kwargs)  # the interpreter copies it: other addresses
            with _hooked(LaunchBounds(tensors, self.guards)):
                return launch(*args, **kwargs)

        return run

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kernel, name)  # anything else of the kernel, unchecked


@contextmanager
def _hooked(bounds: LaunchBounds) -> Iterator[None]:
    """Check every load and store of the interpreter's builder against ``bounds`` until exit."""
    from triton.runtime.interpreter import interpreter_builder as builder

    saved = {name: vars(builder).get(name, _ABSENT) for name in _HOOKED}
    load, store = builder.create_masked_load, builder.create_masked_store

    def create_masked_load(ptrs: Any, mask: Any, *rest: Any, **kwargs: Any) -> Any:
        bounds.check(ptrs, mask, store=False)
        return load(ptrs, mask, *rest, **kwargs)

    def create_masked_store(ptrs: Any, value: Any, mask: Any, *rest: Any, **kwargs: Any) -> Any:
        bounds.check(ptrs, mask, store=True)
        return store(ptrs, value, mask, *rest, **kwargs)

    builder.create_masked_load = create_masked_load
    builder.create_masked_store = create_masked_store
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is _ABSENT:
                vars(builder).pop(name, None)
            else:
                setattr(builder, name, value)


def _tensors(named: dict[str, Any]) -> Iterator[tuple[str, torch.Tensor]]:
    """The tensors among a launch's arguments, by name: a tuple's as ``name[i]``, and the
    tensor under a ``triton.reinterpret`` wrapper."""
    for name, value in named.items():
        if isinstance(value, tuple):
            yield from _tensors({f"{name}[{i}]": v for i, v in enumerate(value)})
        elif isinstance(value, torch.Tensor):
            yield name, value
        elif isinstance(getattr(value, "base", None), torch.Tensor):
            yield name, value.base  # a TensorWrapper: the same memory read as another dtype


def _arg(name: str, t: torch.Tensor, guards: Guards) -> _Arg:
    """``t`` with the guarded buffer it is a window of (None for a tensor of its own)."""
    storage = t.untyped_storage().data_ptr()
    for output, parts in ((True, guards.outputs), (False, guards.inputs)):
        for part in parts:
            if part.buf.untyped_storage().data_ptr() == storage:
                return _Arg(name, t, part, output)
    return _Arg(name, t, None, False)


def _extent(t: torch.Tensor) -> int:
    """Elements from the tensor's first to one past its last (its strides may leave gaps)."""
    if t.numel() == 0:
        return 0
    return 1 + sum((s - 1) * st for s, st in zip(t.shape, t.stride()))


def _intervals(t: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The tensor's elements as byte intervals [start, end): one per row of contiguous elements
    (one per element when its last dimension is strided). They may overlap (a stride of 0)."""
    if t.numel() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    shape, strides, run = tuple(t.shape), t.stride(), 1
    if t.dim() and strides[-1] == 1:
        shape, strides, run = shape[:-1], strides[:-1], shape[-1]
    offsets = np.zeros((), np.int64)
    for size, stride in zip(shape, strides):
        offsets = np.add.outer(offsets, np.arange(size, dtype=np.int64) * stride)
    first = offsets.ravel()
    size = t.element_size()
    return t.data_ptr() + first * size, t.data_ptr() + (first + run) * size


def _distance(address: int, span: tuple[int, int]) -> int:
    return 0 if span[0] <= address < span[1] else min(abs(address - span[0]), abs(address - span[1]))


def _decompose(t: torch.Tensor, address: int) -> list[int]:
    """``address`` as an index of ``t`` by its strides (it may lie outside the tensor)."""
    rest = (address - t.data_ptr()) // t.element_size()
    index = []
    for stride in t.stride()[:-1]:
        row = rest // stride if stride > 0 else 0
        index.append(row)
        rest -= row * stride
    last = t.stride()[-1] if t.dim() else 1
    return [*index, rest // last if last > 0 else rest]


def _where(name: str, index: list[int], store: bool) -> str:
    """``x_ptr[0, 20] (load, program 1)``: the element, the access and the running program.

    The grader matches known mistakes on the text up to the fault's first colon, so all three
    are part of a mistake's identity: a load and a store of the same element, or the same
    element read by another program (a wrong row stride), are different mistakes.
    """
    from triton.runtime.interpreter import interpreter_builder as builder

    dims = max([i + 1 for i, n in enumerate(builder.grid_dim) if n > 1], default=1)
    idx = builder.grid_idx[:dims]
    program = str(idx[0]) if dims == 1 else "(" + ", ".join(map(str, idx)) + ")"
    element = f"{name}[{', '.join(map(str, index))}] " if name else ""
    return f"{element}({'store' if store else 'load'}, program {program})"


def _fault(arg: _Arg, index: list[int], store: bool, beyond: bool) -> KernelFault:
    """The fault for a lane at ``index`` of ``arg`` (outside it); ``beyond``: outside every
    tensor of the launch, not in a guard band."""
    shape = tuple(arg.tensor.shape) or (1,)
    what = "a store wrote" if store else "a load read"
    name = f"the tensor at {arg.name}"
    last, col = shape[-1], index[-1]
    if not all(0 <= i < s for i, s in zip(index[:-1], shape[:-1])):
        where = f"outside the rows of {name} (shape {shape})"
        advice = "is a row index, a row stride or the grid wrong?"
    elif col >= last:
        where = (f"past the end of a row of {name} (a row has {last} elements)" if len(shape) > 1
                 else f"past the end of {name} ({last} elements)")
        advice = ("mask every load, not only the store, or is an offset off by one?" if not store
                  else "mask every store, or is an offset off by one?")
        if len(shape) > 1:
            advice += "; and is the row stride this tensor's?"
    elif col < 0:
        where = f"before the start of {'a row of ' if len(shape) > 1 else ''}{name}"
        advice = "is an offset off by one, or the row stride another tensor's?"
    else:
        where = f"between the elements of {name}"
        advice = "is an offset or a stride wrong?"
    if beyond:
        where += ", outside every tensor the kernel was given"
    if store and not arg.output:
        where += ", an input"
        advice = "a kernel here writes only its outputs; " + advice
    return KernelFault(f"{what} {where}: {advice}", _where(arg.name, index, store))
