"""The ``own``-mode runner: one warm worker process that has imported torch, restarted when it dies.

A hang is killed at the time limit, a crash (segfault, ``os._exit``) is seen as
a closed channel; either way the worker is replaced and the caller gets an
:class:`AnswerTimeout` or :class:`AnswerCrashed`, never a dead engine.

The caps on what an answer sends back live here too, on the grader's side: the
runner applies them to honest output, but an answer shares its process and can
write a frame of its own, so the grader reads no more than :func:`response_caps`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import framing

__all__ = ["MAX_RESULT_BYTES", "MAX_STDOUT_CHARS", "AnswerCrashed", "AnswerTimeout", "AnswerTooLarge",
           "OwnRunner", "RunnerUnavailable", "StaleResponse", "check_seq", "child_env",
           "response_caps", "too_large"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
MAX_RESULT_BYTES = 64 << 20  # the tensor bytes of one request's results, all trials together
MAX_STDOUT_CHARS = 2000  # what one trial's printing keeps
# JSON text per trial: the printed text (at most 12 bytes a character once escaped), the error
# line, digests and the value's description, with room to spare; plus the response's own keys.
_HEADER_PER_TRIAL = 256 << 10
_HEADER_BASE = 64 << 10


class AnswerTimeout(Exception):
    """The answer ran past its time limit; its process was killed."""


class AnswerCrashed(Exception):
    """The process running the answer died (a segfault, ``os._exit``, the memory limit)."""


class AnswerTooLarge(AnswerCrashed):
    """The answer's process sent more than an honest runner can (it wrote a frame of its own)."""


class StaleResponse(AnswerCrashed):
    """The reply does not carry the request's sequence number: the answer wrote frames of its
    own, and what it wrote (or its real reply, after a forged one) would answer the next request."""

    def __init__(self, got: Any, expected: int) -> None:
        super().__init__("the answer wrote to the grader's channel (its process sent a reply "
                         "that was not the runner's)")
        self.got, self.expected = got, expected

    @property
    def leftover(self) -> bool:
        """Whether the reply belongs to an earlier request: then the current request is not at
        fault and deserves one more try on a fresh process."""
        return type(self.got) is int and self.got < self.expected


class RunnerUnavailable(RuntimeError):
    """The runner cannot start (strict mode says why: no sandbox, no bubblewrap, ...)."""


def check_seq(response: dict[str, Any], seq: int) -> None:
    """Raise :class:`StaleResponse` unless ``response`` answers request number ``seq``."""
    if response.get("seq") != seq:
        raise StaleResponse(response.get("seq"), seq)


def response_caps(header: dict[str, Any]) -> tuple[int, int]:
    """``(max_header, max_payload)`` for the response to ``header``: what an honest runner can
    send for its number of trials, so that a forged frame cannot make the grader read more."""
    trials = len(header.get("trials") or ())
    return _HEADER_BASE + trials * _HEADER_PER_TRIAL, MAX_RESULT_BYTES


def too_large(header: dict[str, Any]) -> AnswerTooLarge:
    """The error for a response over :func:`response_caps`, in the learner's words."""
    max_header, max_payload = response_caps(header)
    return AnswerTooLarge(f"the answer's output is larger than the grader accepts "
                          f"({max_payload >> 20} MB of tensors and {max_header >> 10} kB of text "
                          f"for {len(header.get('trials') or ())} trials)")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: ours, with this package importable and no stray threads."""
    env = dict(os.environ)
    parts = [_PACKAGE_ROOT, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def describe_exit(code: int | None) -> str:
    """A sentence for how a process ended."""
    if code is None:
        return "the process running the answer stopped answering"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        what = {"SIGSEGV": " (a segmentation fault)", "SIGKILL": " (killed: memory or CPU limit)",
                "SIGXCPU": " (CPU time limit)", "SIGSYS": " (a forbidden system call)"}.get(name, "")
        return f"the process running the answer died with {name}{what}"
    return f"the process running the answer exited with status {code} (sys.exit or os._exit?)"


class OwnRunner:
    """A warm worker for your own answers; ``run`` sends one request and waits for its result."""

    def __init__(self, device: str = "cpu", memory_mb: int = 2048, python: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.device = device
        self.memory_mb = memory_mb
        self.python = python or sys.executable
        self.env = env
        self.restarts = 0
        self.info: dict[str, Any] = {}
        self._proc: subprocess.Popen | None = None
        self._tmp: str | None = None
        self._ready = False
        self._seq = itertools.count(1)
        self._spawn()

    def _spawn(self) -> None:
        # A temp dir per worker (kernel sources, Triton's and torch's caches), removed by whoever
        # outlives the other: we, after a SIGKILL or an os._exit; the worker, if we die first.
        self._tmp = tempfile.mkdtemp(prefix="atlas-quiz-worker-")
        cmd = [self.python, "-m", "atlas_quiz.grading.runner", "--device", self.device,
               "--memory-mb", str(self.memory_mb), "--tmp-dir", self._tmp]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL,
                                          env=child_env({**(self.env or {}), "TMPDIR": self._tmp}),
                                          start_new_session=True)
        except BaseException:
            self._remove_tmp()
            raise
        self._ready = False

    def _remove_tmp(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()
        self._proc = None
        self._remove_tmp()

    def restart(self) -> None:
        """Replace the worker with a fresh one (it imports torch in the background)."""
        self._kill()
        self.restarts += 1
        self._spawn()

    def wait_ready(self, timeout: float = 180.0) -> dict[str, Any]:
        """Block until the worker has imported torch; return what it reported."""
        if self._ready:
            return self.info
        assert self._proc is not None and self._proc.stdout is not None
        try:
            self.info, _ = framing.recv(self._proc.stdout.fileno(), deadline=time.monotonic() + timeout)
        except (TimeoutError, framing.FrameError) as exc:
            code = self._proc.poll()
            self._kill()
            raise RunnerUnavailable(f"the grading worker did not start: {describe_exit(code)}") from exc
        self._ready = True
        return self.info

    def run(self, header: dict[str, Any], payload: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        """Send one request; raise :class:`AnswerTimeout` or :class:`AnswerCrashed` on failure
        (:class:`AnswerTooLarge` for a response over :func:`response_caps`).

        Each request carries a sequence number the reply must echo. A reply for an earlier
        request (a frame an earlier answer forged, then its real reply) costs the worker, and
        this request runs once more on a fresh one."""
        try:
            return self._exchange({**header, "seq": next(self._seq)}, payload, timeout)
        except StaleResponse as exc:
            self.restart()  # what else that answer wrote is still in the pipe
            if not exc.leftover:
                raise
        return self._exchange({**header, "seq": next(self._seq)}, payload, timeout)

    def _exchange(self, header: dict[str, Any], payload: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        """One request and its checked reply (see :meth:`run`)."""
        if self._proc is None:
            self._spawn()
        self.wait_ready()
        assert self._proc is not None and self._proc.stdin and self._proc.stdout
        max_header, max_payload = response_caps(header)
        try:
            framing.send(self._proc.stdin.fileno(), header, payload)
            response, data = framing.recv(self._proc.stdout.fileno(), deadline=time.monotonic() + timeout,
                                          max_header=max_header, max_payload=max_payload)
        except TimeoutError:
            self.restart()
            raise AnswerTimeout(f"the answer ran longer than {timeout:g} s") from None
        except framing.FrameTooLarge:
            self.restart()  # the rest of that frame is still in the pipe
            raise too_large(header) from None
        except framing.FrameError:
            try:
                code = self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
            self.restart()
            raise AnswerCrashed(describe_exit(code)) from None
        check_seq(response, header["seq"])
        if response.get("restart"):
            self.restart()
        return response, data

    def close(self) -> None:
        """Stop the worker."""
        self._kill()
