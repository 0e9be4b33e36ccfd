"""Running an answer on the trials it is sent, in a process that has nothing else to lose.

This is the code on the untrusted side: the warm ``own`` worker and each
``strict`` sandbox child run :func:`handle`. It sees the answer and the trial
inputs, never the reference or the expected values, and it sends back raw
tensors and the digests of its inputs after the run.

``python -m atlas_quiz.grading.runner`` is the ``own``-mode worker.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import faulthandler
import gc
import io
import math
import operator
import os
import resource
import shutil
import signal
import sys
import threading
import warnings
import weakref
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import framing
from .program import AnswerSyntaxError, compile_answer, describe_error
from .wire import decode, digest, encode
from .worker import MAX_RESULT_BYTES, MAX_STDOUT_CHARS

__all__ = ["MAX_RESULT_BYTES", "handle", "main", "serve"]


class _CappedText(io.TextIOBase):
    """A stdout that keeps the first few thousand characters and drops the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = str(s)
        room = MAX_STDOUT_CHARS - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        if len(s) > room:
            self.dropped = True
        return len(s)

    def text(self) -> str:
        return "".join(self.parts) + ("\n[... output truncated]" if self.dropped else "")


def _build(header: dict[str, Any]):
    """The callable for this request's kind: a compiled answer, or a kernel behind its launcher."""
    if header.get("kind") == "kernel":
        from .kernel import build_kernel_answer

        return build_kernel_answer(header)
    return compile_answer(header["code"], header["argnames"])


def _inputs(trial: dict[str, Any], payload: bytes, offset: int, device: str) -> tuple[list[Any], int]:
    """One trial's arguments from the request, on the device; and the payload offset after them."""
    args = []
    for desc in trial["args"]:
        value, offset = decode(desc, payload, offset)
        if isinstance(value, torch.Tensor):
            if device != "cpu":
                value = value.to(device)
            if desc.get("requires_grad"):
                value.requires_grad_(True)
        args.append(value)
    return args, offset


def handle(header: dict[str, Any], payload: bytes, device: str = "cpu") -> tuple[dict[str, Any], bytes]:
    """Run one request (an answer over several trials); never raises for the answer's faults."""
    try:
        fn = _build(header)
    except AnswerSyntaxError as exc:
        return {"ok": True, "compile_error": exc.message, "line": exc.line}, b""
    except Exception as exc:  # an error while defining (e.g. a bad kernel signature)
        message, line = describe_error(exc)
        return {"ok": True, "compile_error": message, "line": line}, b""
    argnames = header["argnames"]
    offset = 0
    sent = 0  # result bytes so far: the grader reads at most MAX_RESULT_BYTES for all trials
    results: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for trial in header["trials"]:
        with torch._C.DisableTorchFunction():  # a mode an earlier trial left on must not make inputs
            args, offset = _inputs(trial, payload, offset, device)
        out = _CappedText()
        first = len(chunks)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                value = fn(*args)
            with torch._C.DisableTorchFunction():  # a mode the answer left on must not answer for us
                desc = encode(value, chunks)
                size = sum(len(c) for c in chunks[first:])
                if sent + size > MAX_RESULT_BYTES:
                    raise MemoryError(f"the result is larger than {MAX_RESULT_BYTES >> 20} MB "
                                      f"(all trials together)")
                digests = {name: digest(a) for name, a in zip(argnames, args)
                           if isinstance(a, torch.Tensor)}
            sent += size
            results.append({"status": "ok", "value": desc, "digests": digests, "stdout": out.text()})
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are the answer's too
            del chunks[first:]  # a value that failed half-way through encoding sends no bytes
            message, line = describe_error(exc)
            results.append({"status": "error", "error": message, "line": line, "stdout": out.text()})
    return {"ok": True, "trials": results}, b"".join(chunks)


_SIGNALS = (signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGTERM, signal.SIGINT,
            signal.SIGHUP, signal.SIGXCPU, signal.SIGSEGV, signal.SIGPIPE, signal.SIGCHLD,
            signal.SIGUSR1, signal.SIGUSR2)
_RLIMITS = (resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_DATA, resource.RLIMIT_FSIZE,
            resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC, resource.RLIMIT_STACK)
# Modules whose names an answer reaches (its scope, our own grading code) and the classes
# answers use most: patching an attribute of any of them changes the next answer's world.
# (Not grading.kernel: it keeps the last kernel file's path in a global, by design.)
_OWN_MODULES = ("__main__", "atlas_quiz.grading.runner", "atlas_quiz.grading.program",
                "atlas_quiz.grading.wire", "atlas_quiz.grading.framing")


class _Namespaces:
    """The names of the modules and classes an answer could monkeypatch for the next one, with
    their values as they were (about 0.3 ms to check). The values are held and compared by
    identity: a freed function's address is soon a new one's (ids would match), and a value's
    own ``__eq__`` could lie."""

    def __init__(self) -> None:
        self.modules = {name: sys.modules.get(name) for name in _OWN_MODULES}
        spaces = [torch, F, nn, torch.Tensor, nn.Module, torch.linalg, torch.fft, torch.special,
                  torch.autograd, torch.testing, nn.init, builtins, math, sys,
                  *(v for v in vars(nn).values() if isinstance(v, type)),
                  *filter(None, self.modules.values())]
        self.saved = [(space, dict(vars(space))) for space in spaces]

    def unchanged(self) -> bool:
        """Whether every saved name still has its saved value, and no name was added."""
        if any(sys.modules.get(name) is not module for name, module in self.modules.items()):
            return False
        for space, saved in self.saved:
            now = vars(space)
            if len(now) != len(saved) or not all(map(operator.is_, map(now.get, saved), saved.values())):
                return False
        return True


def _switches() -> tuple:
    """The process-wide settings an answer can flip for the next one, each cheap to read:
    torch's modes and defaults, active function/dispatch modes and operator overrides,
    the interpreter's hooks and limits, signal handlers, resource limits."""
    b = torch.backends
    return (
        torch.get_default_dtype(), str(torch.get_default_device()), torch.is_grad_enabled(),
        torch.is_inference_mode_enabled(), torch.is_autocast_enabled("cpu"),
        torch.is_autocast_enabled("cuda"), torch.get_num_threads(),
        torch.are_deterministic_algorithms_enabled(), torch.get_float32_matmul_precision(),
        torch.is_anomaly_enabled(), torch._C._len_torch_function_stack(),
        torch._C._len_torch_dispatch_stack(), len(torch.library._impls), len(torch.library._defs),
        # a live torch.library.Library (an operator overridden) holds a finalizer until it goes
        len(torch.library._keep_alive), len(weakref.finalize._registry),
        b.cuda.matmul.allow_tf32, b.cuda.matmul.allow_fp16_reduced_precision_reduction,
        b.cuda.matmul.allow_bf16_reduced_precision_reduction, b.cudnn.enabled,
        b.cudnn.allow_tf32, b.cudnn.deterministic, b.cudnn.benchmark, b.mkldnn.enabled,
        sys.getrecursionlimit(), sys.gettrace(), sys.getprofile(), threading.gettrace(),
        threading.getprofile(), gc.isenabled(), tuple(warnings.filters), tuple(sys.path),
        tuple(map(id, sys.meta_path)), os.getcwd(), tuple(sorted(os.environ.items())),
        tuple(map(id, map(signal.getsignal, _SIGNALS))), tuple(map(resource.getrlimit, _RLIMITS)),
    )


def _reset_timers() -> None:
    """Cancel what an answer may have set to go off during the next one: alarms and interval
    timers (the default action of their signals ends the worker), a delayed faulthandler exit,
    and flush-to-zero of denormals (a switch torch cannot read back)."""
    for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
        signal.setitimer(timer, 0)
    faulthandler.cancel_dump_traceback_later()
    torch.set_flush_denormal(False)


def _tainted(threads: int, switches: tuple, baseline: _Namespaces) -> bool:
    """Whether the last answer left something behind for the next one: threads still running,
    patched modules or flipped switches (timers it set are cancelled instead)."""
    try:
        with torch._C.DisableTorchFunction():  # a function mode it left on could answer for torch
            _reset_timers()
            return (threading.active_count() > threads or _switches() != switches
                    or not baseline.unchanged())
    except Exception:  # whatever it broke, a fresh worker has it whole
        return True


def serve(fd_in: int, fd_out: int, device: str) -> None:
    """Answer requests until the channel closes; exit after an answer that left state behind."""
    baseline, switches = _Namespaces(), _switches()
    threads = threading.active_count()
    pid = os.getpid()
    framing.send(fd_out, {"ready": True, "pid": os.getpid(), "torch": torch.__version__,
                          "device": device})
    while True:
        try:
            header, payload = framing.recv(fd_in)
        except framing.FrameError:
            return
        if header.get("op") == "run":
            response, data = handle(header, payload, device)
        else:
            response, data = {"ok": True}, b""
        if os.getpid() != pid:  # a copy the answer forked must not answer in the worker's place
            os._exit(0)
        tainted = _tainted(threads, switches, baseline)
        response["restart"] = tainted
        response["seq"] = header.get("seq")  # the engine knows this reply from a stale or forged one
        framing.send(fd_out, response, data)
        if tainted:
            os._exit(0)


def _forbid_processes() -> None:
    """Keep a fork bomb or ``os.system`` in an answer from reaching the machine (threads still work).

    Only on the CPU: on a GPU, Triton compiles kernels by running ptxas and a C
    compiler. Without libseccomp the worker runs unguarded, as ``own`` mode is for
    one's own answers; ``strict`` mode is the one that fails closed.
    """
    try:
        from .confine import build_filter

        build_filter(processes_only=True).load()
    except Exception:
        pass


def warm_up() -> None:
    """Pay the first-call costs an answer would otherwise hit (seconds for ``torch.func``).

    ``torch.func``'s first transform and the first distribution build lazily
    loaded machinery; without this, a learner's first such answer could run
    past the time limit on a busy machine.
    """
    import torch.distributions as D
    import torch.func

    x = torch.ones(3, requires_grad=True)
    torch.func.grad(lambda t: (t * t).sum())(x.detach())
    torch.func.jacrev(torch.sin)(x.detach())
    torch.autograd.grad((x * x).sum(), x)
    D.MultivariateNormal(torch.zeros(2), torch.eye(2)).log_prob(torch.zeros(2))
    D.Categorical(probs=torch.ones(3) / 3).entropy()
    torch.linalg.svd(torch.eye(3))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``own``-mode worker: protocol on the original stdin/stdout."""
    parser = argparse.ArgumentParser(description="atlas-quiz answer worker (own mode)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--tmp-dir", help="this worker's own temp dir, removed when the engine goes")
    args = parser.parse_args(argv)
    fd_in, fd_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # an answer writing to fd 1 must not corrupt the protocol
        os.dup2(null, fd)
    sys.stdout = sys.stderr = io.TextIOWrapper(open(os.devnull, "wb"))  # noqa: SIM115
    torch.set_num_threads(1)
    # Triton picks interpreter or compiler when it is imported, and torch.func's warm-up
    # imports it: kernel cards need the choice made first.
    from .kernel import select_interpreter

    select_interpreter(args.device)
    warm_up()
    if args.device.startswith("cuda"):
        torch.zeros(1, device=args.device)  # pay CUDA's start-up before saying ready
    else:
        _forbid_processes()
        if args.memory_mb:
            with open("/proc/self/statm") as f:
                current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limit = current + (args.memory_mb << 20)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    serve(fd_in, fd_out, args.device)
    if args.tmp_dir:  # the engine closed the channel or died: it cannot remove the dir now
        shutil.rmtree(args.tmp_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
