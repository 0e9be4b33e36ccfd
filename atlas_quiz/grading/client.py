"""A torch-free client of the grading service, for processes that must start fast (the review app).

:class:`GradingClient` starts ``python -m atlas_quiz.grading.service`` in the
background and returns at once; torch loads there while the learner reads the
first card. :meth:`GradingClient.grade` waits for the service when it is not
ready yet, so an early answer is graded as soon as it can be, never lost.
Standard library only (plus the stdlib-only card model and result).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future
from typing import Any, Protocol

from ..cards import Card
from . import framing
from .result import GradeResult
from .worker import child_env, describe_exit

__all__ = ["Grader", "GraderUnavailable", "GradingClient"]

STATUSES = ("stopped", "starting", "ready", "failed")


class GraderUnavailable(RuntimeError):
    """The grading service could not start, or stopped; the message says why."""


class Grader(Protocol):
    """What the review app needs from a grader (the real client, or a fake one in tests)."""

    status: str

    def start(self) -> None:
        """Begin starting the grader, without waiting for it."""

    def wait_ready(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the grader can take answers; return what it reported."""

    def grade(self, card: Card, answer: str, *, seed: int) -> GradeResult:
        """Grade one answer (waiting for the grader if needed)."""

    def close(self) -> None:
        """Stop the grader."""


class GradingClient:
    """Runs the grading service as a child process and talks to it over its stdin/stdout."""

    def __init__(self, device: str = "auto", *, timeout: float = 5.0, python: str | None = None,
                 env: dict[str, str] | None = None, start_timeout: float = 180.0) -> None:
        self.device = device
        self.timeout = timeout
        self.python = python or sys.executable
        self.env = env
        self.start_timeout = start_timeout
        self.status = "stopped"
        self.error = ""
        self.info: dict[str, Any] = {}
        self._proc: subprocess.Popen | None = None
        self._log: Any = None
        self._ready = threading.Event()
        self._pending: dict[int, Future] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self) -> None:
        """Spawn the service unless it is running; return at once (torch loads over there)."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            self._spawn()

    def _spawn(self) -> None:
        cmd = [self.python, "-m", "atlas_quiz.grading.service", "--device", self.device,
               "--timeout", str(self.timeout)]
        # The service's stderr goes to a file: a terminal app must not be written over,
        # and the tail explains a failed start.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _reap
        self._ready.clear()
        self.status, self.error, self.info = "starting", "", {}
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._log, env=child_env(self.env),
                                      start_new_session=True)
        threading.Thread(target=self._read, args=(self._proc,), name="grading-client",
                         daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        """Read the service's frames: first ready/failed, then results, until it closes."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        try:
            hello, _ = framing.recv(fd)
            if hello.get("event") != "ready":
                raise GraderUnavailable(hello.get("error") or f"unexpected first message {hello!r}")
            self.info, self.status = hello, "ready"
            self._ready.set()
            while True:
                reply, _ = framing.recv(fd)
                future = self._pending.pop(reply.get("id"), None)
                if future is not None:
                    future.set_result(reply)
        except (framing.FrameError, OSError, GraderUnavailable) as exc:
            self._fail(proc, exc)

    def _fail(self, proc: subprocess.Popen, exc: Exception) -> None:
        if proc is not self._proc:  # an old process that we replaced or closed
            return
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        reason = str(exc) if isinstance(exc, GraderUnavailable) else \
            describe_exit(code).replace("running the answer", "grading answers")
        self.error = reason + self._log_tail()
        self.status = "failed"
        self._ready.set()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(GraderUnavailable(self.error))

    def _log_tail(self) -> str:
        try:
            self._log.seek(0)
            lines = self._log.read().decode(errors="replace").strip().splitlines()
        except (OSError, ValueError, AttributeError):
            return ""
        return ("\n" + "\n".join(lines[-5:])) if lines else ""

    def wait_ready(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the service is ready; raise :class:`GraderUnavailable` if it failed or timed out."""
        if self.status == "stopped":
            self.start()
        if not self._ready.wait(self.start_timeout if timeout is None else timeout):
            raise GraderUnavailable("the grading service is still starting")
        if self.status != "ready":
            raise GraderUnavailable(self.error or "the grading service is not running")
        return self.info

    def grade(self, card: Card, answer: str, *, seed: int) -> GradeResult:
        """Grade one answer with the trials drawn from ``seed``; wait for the service if needed.

        A service that died is started again once, so a crash costs one wait, not the session.
        """
        if self.status in ("stopped", "failed"):
            self.start()
        self.wait_ready()
        future: Future = Future()
        with self._lock:
            request_id = next(self._ids)
            self._pending[request_id] = future
            proc = self._proc
            assert proc is not None and proc.stdin is not None
            try:
                framing.send(proc.stdin.fileno(), {"op": "grade", "id": request_id,
                                                   "card": card.to_dict(), "answer": answer,
                                                   "seed": seed})
            except framing.FrameError as exc:
                self._pending.pop(request_id, None)
                raise GraderUnavailable(f"the grading service stopped: {exc}") from None
        # Generous: the engine bounds an answer's run itself and replies with a timeout verdict.
        reply = future.result(timeout=self.timeout * 4 + 60)
        if "error" in reply:
            raise GraderUnavailable(f"the grader could not grade this card: {reply['error']}")
        return GradeResult.from_dict(reply["result"])

    def close(self) -> None:
        """Ask the service to stop, then make sure it has (it stops its own answer worker)."""
        with self._lock:
            proc, self._proc = self._proc, None
        starting, self.status = self.status == "starting", "stopped"
        self.error = self.error or "the grading service was closed"
        self._ready.set()  # wake anyone still waiting for a start that will not come
        if proc is None:
            return
        try:
            if starting:  # it reads nothing until torch has loaded: no point waiting for it
                raise OSError
            if proc.stdin is not None:
                framing.send(proc.stdin.fileno(), {"op": "close"})
                proc.stdin.close()
            proc.wait(timeout=1)  # its worker exits by itself when our pipe closes
        except (framing.FrameError, OSError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> GradingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
