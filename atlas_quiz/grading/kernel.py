"""Kernel cards on the answer's side: the learner's body becomes a ``@triton.jit`` kernel.

A ``kernel`` card gives the learner a signature (the ``def`` line; ``@triton.jit``
is implied) and a launcher, and asks for the body. :func:`build_kernel_answer`
turns a request's ``signature`` + ``code`` into a real kernel and returns
``f(*args)``, which runs the card's launcher with that kernel in scope.

Why a file: Triton reads a kernel's source with ``inspect.getsource``, so the
module is written to a file of its own in ``tempfile.gettempdir()`` and loaded
from there; the last answer's file is removed when the next is written. Errors
raised inside the body are reported at the body's own line numbers. No exit
hook removes the last file (a worker is killed with SIGKILL): the temp dir does.
The ``own`` worker's is private to it and removed with it (worker.py), a
sandboxed child's is emptied by the zygote (zygote.py).

On the CPU the kernel runs under Triton's interpreter (``TRITON_INTERPRET=1``,
chosen here before Triton is imported); on a GPU it is compiled. Either way a
kernel computes raw addresses. Under the interpreter every load and store is
checked before it touches memory (:mod:`.kernel_bounds`): an active lane outside
the tensors of the launch is a :class:`KernelFault`. A compiled kernel cannot be
hooked: there only the launcher's guard bands (:mod:`.kernel_guards`) turn the
usual out-of-bounds mistakes into a clear error; an unmasked load whose lanes a
masked store drops goes unseen, and a store far outside every tensor can still
crash the worker, which is then restarted.

The launcher sees the card's names plus ``torch``, ``F``, ``nn``, ``math``,
``triton``, ``tl``, the kernel by its name, and ``padded`` / ``padded_empty``
(see :mod:`.kernel_guards`).
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import sys
import tempfile
import textwrap
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..cards import AnswerSyntaxError, answer_function
from .kernel_bounds import bounds_checked
from .kernel_guards import Guards, KernelFault
from .program import scope

__all__ = [
    "LAUNCHER_FILE",
    "Guards",
    "KernelFault",
    "LoadedKernel",
    "build_kernel_answer",
    "compile_launcher",
    "load_kernel",
    "prepare",
    "select_interpreter",
]

LAUNCHER_FILE = "<launcher>"
_counter = itertools.count()
_previous: Path | None = None


def select_interpreter(device: str) -> bool:
    """Run kernels under Triton's CPU interpreter when answers run on the CPU; True if so.

    A CPU tensor can only be interpreted. Triton reads ``TRITON_INTERPRET`` when
    it is imported (its math functions) and at each ``@triton.jit``: call this
    before the first ``import triton`` of the process. Raises RuntimeError when
    Triton is already imported uninterpreted: its own ``@jit`` helpers (``tl.max``,
    ``tl.sum``) would then fail in every kernel with a message that blames the kernel.
    """
    if not device.startswith("cuda") and os.environ.get("TRITON_INTERPRET") != "1":
        if "triton" in sys.modules:
            raise RuntimeError("Triton was imported before its interpreter was selected: call "
                               "atlas_quiz.grading.kernel.select_interpreter(device) first")
        os.environ["TRITON_INTERPRET"] = "1"
    return os.environ.get("TRITON_INTERPRET") == "1"


def prepare(device: str) -> None:
    """Choose compiled or interpreted kernels for ``device``, then import Triton.

    For a process that must import everything up front (a sandboxed child
    before it drops its privileges).
    """
    select_interpreter(device)
    import triton  # noqa: F401
    import triton.language  # noqa: F401


@dataclass
class LoadedKernel:
    """A kernel defined from a signature and a body, and where its body sits in its file."""

    name: str
    fn: Any  # a triton JITFunction, or an InterpretedFunction under the interpreter
    path: str
    body_start: int  # the file line of the body's first line
    def_lines: int  # lines of the ``def`` signature (Triton counts compile errors from it)

    def body_line(self, exc: BaseException) -> int | None:
        """The body line an exception was raised at, or None when it was not in the body."""
        line = None
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == self.path and frame.lineno is not None:
                line = frame.lineno - self.body_start + 1
        node = getattr(exc, "node", None)
        if line is None and hasattr(exc, "src") and getattr(node, "lineno", None):
            line = node.lineno - self.def_lines  # a CompilationError counts from the ``def`` line
        return line if line is not None and line >= 1 else None


def _signature(signature: str) -> tuple[str, str, int]:
    """The ``def`` text, the kernel's name and its line count; a card error if it is not one def."""
    text = textwrap.dedent(signature).strip()
    try:
        tree = ast.parse(text + "\n    pass\n")
    except SyntaxError as exc:
        raise ValueError(f"the card's kernel signature does not parse: {exc.msg}") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise ValueError("the card's kernel signature must be one `def name(...):` "
                         "(@triton.jit is implied)")
    fn = tree.body[0]
    if fn.decorator_list:
        raise ValueError("the card's kernel signature must not carry decorators: @triton.jit is implied")
    return text, fn.name, len(text.splitlines())


def load_kernel(signature: str, body: str) -> LoadedKernel:
    """Write ``@triton.jit`` + signature + body to a file of its own and load the kernel from it.

    Raises :class:`AnswerSyntaxError` (at the body's line) when the body is not valid Python.
    """
    global _previous
    sig, name, def_lines = _signature(signature)
    head = f"import triton\nimport triton.language as tl\n\n\n@triton.jit\n{sig}\n"
    body_start = head.count("\n") + 1
    text = textwrap.dedent(body.strip("\n"))
    if not text.strip():
        raise AnswerSyntaxError("the kernel body is empty")
    source = head + textwrap.indent(text, "    ", lambda _line: True) + "\n"
    try:
        compile(source, "<kernel>", "exec")
    except SyntaxError as exc:
        line = (exc.lineno or body_start) - body_start + 1
        raise AnswerSyntaxError(f"SyntaxError: {exc.msg}", line if line >= 1 else None) from None
    index = next(_counter)
    fd, file_name = tempfile.mkstemp(prefix="atlas-kernel-", suffix=".py")  # new name: no stale cache
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(source)
    path = Path(file_name)
    if _previous is not None:  # the last answer is done with its file: keep one at a time
        _previous.unlink(missing_ok=True)
    _previous = path
    spec = importlib.util.spec_from_file_location(f"_atlas_kernel_{index}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return LoadedKernel(name, getattr(module, name), str(path), body_start, def_lines)


def compile_launcher(launcher: str, argnames: Sequence[str], kernel: LoadedKernel,
                     guards: Guards) -> Callable[..., Any]:
    """The card's launcher as ``f(*args)``, with the kernel and the padding helpers in scope."""
    import triton
    import triton.language as tl

    module = answer_function(launcher, list(argnames))
    code = compile(module, LAUNCHER_FILE, "exec")  # not "<answer>": its lines are not the learner's
    namespace = scope()
    # Under the interpreter every load and store of the launch is bounds-checked (kernel_bounds);
    # a compiled kernel (a GPU) cannot be hooked, and there the guard bands are the only check.
    namespace.update({"triton": triton, "tl": tl, kernel.name: bounds_checked(kernel.fn, guards),
                      "padded": guards.padded, "padded_empty": guards.padded_empty})
    exec(code, namespace)
    fn: Callable[..., Any] = namespace["__answer__"]
    return fn


def build_kernel_answer(header: dict[str, Any]) -> Callable[..., Any]:
    """The callable a runner runs for a ``kernel`` request: the launcher over the learner's kernel.

    ``header`` carries ``code`` (the body), ``signature``, ``launcher``, ``argnames``
    and ``device``. An exception raised in the body keeps its type and message and
    gains ``answer_line`` (the body's line), which the runner reports.
    """
    select_interpreter(str(header.get("device", "cpu")))
    kernel = load_kernel(header["signature"], header["code"])
    guards = Guards()
    launch = compile_launcher(header["launcher"], header["argnames"], kernel, guards)

    def run(*args: Any) -> Any:
        guards.clear()
        try:
            with warnings.catch_warnings():
                # The interpreter's numpy says "overflow in exp" from its own file: noise in the
                # learner's output, and a GPU would say nothing. The values are compared anyway.
                warnings.filterwarnings("ignore", category=RuntimeWarning,
                                        module=r"triton\.runtime\.interpreter")
                out = launch(*args)
            if torch.is_tensor(out) and out.is_cuda:
                torch.cuda.synchronize(out.device)  # a fault surfaces here, not in the next trial
            guards.check()
        except BaseException as exc:
            cause = _unwrapped(exc)
            _explain(cause, kernel)
            if cause is exc:
                raise
            raise cause from None
        return out

    return run


def _unwrapped(exc: BaseException) -> BaseException:
    """The learner's own error inside the interpreter's wrapper (it hides the type and the line)."""
    while type(exc).__name__ == "InterpreterError" and exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def _explain(exc: BaseException, kernel: LoadedKernel) -> None:
    """Point the exception at the body's line; give a compile error its own message."""
    line = kernel.body_line(exc)
    if line is not None:
        exc.answer_line = line  # type: ignore[attr-defined]
    if hasattr(exc, "error_message") and hasattr(exc, "node"):  # Triton's CompilationError
        cause = exc.__cause__
        text = (exc.error_message or (f"{type(cause).__name__}: {cause}" if cause else "")).strip()
        first = text.splitlines()[0] if text else "the kernel does not compile"
        exc.answer_message = f"{type(exc).__name__}: {first}"  # type: ignore[attr-defined]
