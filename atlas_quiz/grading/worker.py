"""The ``own``-mode runner: one warm worker process that has imported torch, restarted when it dies.

A hang is killed at the time limit, a crash (segfault, ``os._exit``) is seen as
a closed channel; either way the worker is replaced and the caller gets an
:class:`AnswerTimeout` or :class:`AnswerCrashed`, never a dead engine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import framing

__all__ = ["AnswerCrashed", "AnswerTimeout", "OwnRunner", "RunnerUnavailable", "child_env"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class AnswerTimeout(Exception):
    """The answer ran past its time limit; its process was killed."""


class AnswerCrashed(Exception):
    """The process running the answer died (a segfault, ``os._exit``, the memory limit)."""


class RunnerUnavailable(RuntimeError):
    """The runner cannot start (strict mode says why: no sandbox, no bubblewrap, ...)."""


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
        self._ready = False
        self._spawn()

    def _spawn(self) -> None:
        cmd = [self.python, "-m", "atlas_quiz.grading.runner", "--device", self.device,
               "--memory-mb", str(self.memory_mb)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, env=child_env(self.env),
                                      start_new_session=True)
        self._ready = False

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
        """Send one request; raise :class:`AnswerTimeout` or :class:`AnswerCrashed` on failure."""
        if self._proc is None:
            self._spawn()
        self.wait_ready()
        assert self._proc is not None and self._proc.stdin and self._proc.stdout
        try:
            framing.send(self._proc.stdin.fileno(), header, payload)
            response, data = framing.recv(self._proc.stdout.fileno(),
                                          deadline=time.monotonic() + timeout)
        except TimeoutError:
            self.restart()
            raise AnswerTimeout(f"the answer ran longer than {timeout:g} s") from None
        except framing.FrameError:
            try:
                code = self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
            self.restart()
            raise AnswerCrashed(describe_exit(code)) from None
        if response.get("restart"):
            self.restart()
        return response, data

    def close(self) -> None:
        """Stop the worker."""
        self._kill()
