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
from typing import IO, Any, Protocol

from ..cards import Card
from . import framing
from .result import GradeResult
from .worker import child_env, describe_exit

__all__ = ["Grader", "GraderClosed", "GraderUnavailable", "GradingClient"]

_CLOSED = "the grading service was closed"


class GraderUnavailable(RuntimeError):
    """The grading service could not start, or stopped; the message says why."""


class GraderClosed(GraderUnavailable):
    """The client was closed while an answer waited: nothing went wrong, nobody needs telling."""


class Grader(Protocol):
    """What the review app needs from a grader (the real client, or a fake one in tests).

    ``status`` is ``stopped``, ``starting``, ``ready`` or ``failed``; ``info`` is
    what a ready grader reported (``device``, ``torch``); ``error`` says why it failed.
    """

    status: str
    info: dict[str, Any]
    error: str

    def start(self) -> None:
        """Begin starting the grader, without waiting for it."""

    def wait_ready(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the grader can take answers; return what it reported."""

    def grade(self, card: Card, answer: str, *, seed: int) -> GradeResult:
        """Grade one answer (waiting for the grader if needed)."""

    def close(self) -> None:
        """Stop the grader; an answer still waiting gets :class:`GraderClosed`."""


def _log_tail(log: IO[bytes]) -> str:
    """The last lines the service wrote to stderr: they say why it failed to start or died."""
    try:
        log.seek(0)
        lines = log.read().decode(errors="replace").strip().splitlines()
    except (OSError, ValueError):
        return ""
    return ("\n" + "\n".join(lines[-5:])) if lines else ""


def _release(proc: subprocess.Popen, log: IO[bytes]) -> None:
    """Close what we held of a service that has ended: both pipes and its stderr file."""
    for stream in (proc.stdin, proc.stdout, log):
        if stream is not None:
            with contextlib.suppress(OSError):  # a pipe the service closed first
                stream.close()


class GradingClient:
    """Runs the grading service as a child process and talks to it over its stdin/stdout.

    Each service process has a reader thread; when the process ends, that thread
    fails the answers still waiting and closes the process's pipes and log (under
    the lock, so no other thread is writing to a descriptor as it closes).
    """

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
        """Start a service process (the lock is held); answers sent to a dead one before it fail."""
        self._fail_pending(GraderUnavailable("the grading service stopped"))
        cmd = [self.python, "-m", "atlas_quiz.grading.service", "--device", self.device,
               "--timeout", str(self.timeout)]
        # The service's stderr goes to a file: a terminal app must not be written over,
        # and the tail explains a failed start. The reader thread closes it with the pipes.
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _release when the service ends
        self._ready.clear()
        self.status, self.error, self.info = "starting", "", {}
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=log, env=child_env(self.env), start_new_session=True)
        threading.Thread(target=self._read, args=(self._proc, log), name="grading-client",
                         daemon=True).start()

    def _read(self, proc: subprocess.Popen, log: IO[bytes]) -> None:
        """Read the service's frames: first ready/failed, then results, until it closes."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        try:
            hello, _ = framing.recv(fd)
            if hello.get("event") != "ready":
                raise GraderUnavailable(hello.get("error") or f"unexpected first message {hello!r}")
            with self._lock:
                if proc is self._proc:  # not when closed while it loaded torch
                    self.info, self.status = hello, "ready"
                    self._ready.set()
            while True:
                reply, _ = framing.recv(fd)
                with self._lock:
                    future = self._pending.pop(reply.get("id"), None)
                if future is not None:
                    future.set_result(reply)
        except (framing.FrameError, OSError, GraderUnavailable) as exc:
            self._ended(proc, log, exc)

    def _ended(self, proc: subprocess.Popen, log: IO[bytes], exc: Exception) -> None:
        """``proc`` stopped: if it is still ours, say why and fail what waits; then release it."""
        current = proc is self._proc  # not so once closed, or replaced by a restart
        if current:
            try:
                code = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
            reason = str(exc) if isinstance(exc, GraderUnavailable) else \
                describe_exit(code).replace("running the answer", "grading answers")
            self.error = reason + _log_tail(log)
        with self._lock:
            _release(proc, log)
            if current and proc is self._proc:
                self.status = "failed"
                self._fail_pending(GraderUnavailable(self.error))
                self._ready.set()  # whoever waits for the start learns it failed

    def _fail_pending(self, exc: GraderUnavailable) -> None:
        """Resolve every answer still waiting with ``exc`` (the lock is held)."""
        pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(exc)

    def wait_ready(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the service is ready; raise :class:`GraderUnavailable` if it failed or timed out."""
        if self.status == "stopped":
            self.start()
        if not self._ready.wait(self.start_timeout if timeout is None else timeout):
            raise GraderUnavailable("the grading service is still starting")
        if self.status == "stopped":
            raise GraderClosed(_CLOSED)
        if self.status != "ready":
            raise GraderUnavailable(self.error or "the grading service is not running")
        return self.info

    def grade(self, card: Card, answer: str, *, seed: int) -> GradeResult:
        """Grade one answer with the trials drawn from ``seed``; wait for the service if needed.

        A service that died is started again once, so a crash costs one wait, not the session.
        :meth:`close` ends the wait at once with :class:`GraderClosed`.
        """
        if self.status in ("stopped", "failed"):
            self.start()
        self.wait_ready()
        future: Future = Future()
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None:
                raise GraderClosed(_CLOSED)
            request_id = next(self._ids)
            self._pending[request_id] = future
            try:
                framing.send(proc.stdin.fileno(), {"op": "grade", "id": request_id,
                                                   "card": card.to_dict(), "answer": answer,
                                                   "seed": seed})
            except (framing.FrameError, OSError, ValueError) as exc:  # ValueError: pipe closed
                self._pending.pop(request_id, None)
                raise GraderUnavailable(f"the grading service stopped: {exc}") from None
        # Generous: the engine bounds an answer's run itself and replies with a timeout verdict.
        reply = future.result(timeout=self.timeout * 4 + 60)
        if "error" in reply:
            raise GraderUnavailable(f"the grader could not grade this card: {reply['error']}")
        return GradeResult.from_dict(reply["result"])

    def close(self) -> None:
        """Stop the service (it stops its own answer worker); answers still waiting get
        :class:`GraderClosed` at once, so no thread sits out its timeout after the app quits."""
        with self._lock:
            proc, self._proc = self._proc, None
            starting, self.status = self.status == "starting", "stopped"
            self.error = self.error or _CLOSED
            self._fail_pending(GraderClosed(_CLOSED))
            if proc is not None and not starting and proc.stdin is not None:
                # Under the lock: the reader thread closes this pipe under it when the service ends.
                with contextlib.suppress(framing.FrameError, OSError, ValueError):
                    framing.send(proc.stdin.fileno(), {"op": "close"})
                    proc.stdin.close()
        self._ready.set()  # wake anyone still waiting for a start that will not come
        if proc is None:
            return
        if not starting:  # a loading service reads nothing until torch is in: no point waiting
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)  # its worker exits by itself when our pipe closes
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the service and its answer worker
            proc.wait()

    def __enter__(self) -> GradingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
