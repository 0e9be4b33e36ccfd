"""Strict mode, engine side: a zygote under bubblewrap, and one sandboxed child per answer.

:class:`StrictRunner` offers what ``OwnRunner`` offers (``run``, ``wait_ready``,
``close``) for other people's answers. It starts ``zygote.py`` inside
bubblewrap with no network, its own pid/ipc/uts namespaces, no capabilities but
the two it needs to drop children to their own uids, and a read-only view of
only the Python install, the virtualenv, the ``atlas_quiz`` package and the
dynamic loader's cache: no ``/etc``, no home, no database. For each answer it
makes a socketpair and passes one end to the zygote, which forks a confined
child that owns it (see zygote.py); the request and the result cross that
channel as raw bytes, never through the zygote.

It fails closed: without bubblewrap, without seccomp, or when the zygote's
self-test shows a guarantee missing, it raises :class:`RunnerUnavailable`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from . import framing
from .bwrap import UID_BASE, bwrap_args, hidden_paths, judge_checks
from .confine import SETUP_FAILED
from .worker import (
    AnswerCrashed,
    AnswerTimeout,
    RunnerUnavailable,
    StaleResponse,
    check_seq,
    child_env,
    describe_exit,
    response_caps,
    too_large,
)

__all__ = ["CUDA_START_S", "UID_BASE", "StrictRunner", "StrictSession", "bwrap_args", "judge_checks"]

GRACE_S = 1.0  # the zygote's deadline trails the engine's, so the engine's timeout speaks first
CUDA_START_S = 15.0  # what a session child may spend initialising CUDA before its first answer


class StrictRunner:
    """Runs each answer in a fresh child of a zygote under bubblewrap; thread-safe for ``jobs``."""

    def __init__(self, device: str = "cpu", memory_mb: int = 2048, jobs: int = 1, *,
                 bwrap: str | None = None, python: str | None = None) -> None:
        if not sys.platform.startswith("linux"):
            raise RunnerUnavailable("strict mode needs Linux (bubblewrap, seccomp)")
        self.bwrap = bwrap or shutil.which("bwrap")
        if not self.bwrap:
            raise RunnerUnavailable("strict mode needs bubblewrap: install it (apt-get install "
                                    "bubblewrap) or grade in own mode")
        self.device = device
        self.memory_mb = memory_mb
        self.rootless = os.geteuid() != 0
        # Without root every child shares one uid, so only one may run at a time.
        self.jobs = 1 if self.rootless else max(1, jobs)
        self.python = python or sys.executable
        self.restarts = 0
        self.info: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._cond = threading.Condition()
        self._exits: dict[int, int | None] = {}
        self._watch: set[int] = set()
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._spawn()

    def _uids(self) -> list[int]:
        """The pool of child uids: two per parallel job, so a dying child never holds one up."""
        uids = [UID_BASE + i for i in range(2 * self.jobs)]
        for uid in uids:
            try:
                pwd.getpwuid(uid)
            except KeyError:
                continue
            raise RunnerUnavailable(f"uid {uid}, meant for sandbox children, belongs to an account")
        return uids

    def _spawn(self) -> None:
        uids = "" if self.rootless else ",".join(map(str, self._uids()))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [self.bwrap, *bwrap_args(self.device, rootless=self.rootless, python=self.python),
               "--", self.python,
               "-m", "atlas_quiz.grading.zygote", "--control-fd", str(theirs.fileno()),
               "--device", self.device, "--memory-mb", str(self.memory_mb), "--uids", uids]
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - read when the start fails
        try:
            self._proc = subprocess.Popen(cmd, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=self._stderr,
                                          env=child_env(), start_new_session=True)
        except OSError as exc:
            raise RunnerUnavailable(f"bubblewrap could not be started: {exc}") from exc
        finally:
            theirs.close()
        with contextlib.suppress(OSError):  # a sandbox that died at once is reported by wait_ready
            ours.send(json.dumps({"hidden": hidden_paths()}).encode())  # what the self-test seeks
        self._control = ours
        self._ready = False

    def _startup_error(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def wait_ready(self, timeout: float = 180.0) -> dict[str, Any]:
        """Block until the zygote has imported torch and passed its self-test; return its report."""
        with self._start_lock:
            if self._ready:
                return self.info
            if self._control is None:
                self._stop()  # reap a zygote that died
                self._spawn()
            assert self._control is not None
            ready, _, _ = select.select([self._control], [], [], timeout)
            try:
                message = self._control.recv(1 << 20) if ready else b""
            except OSError:  # reset: the sandbox died before reading what we sent it
                message = b""
            info = json.loads(message) if message else {}
            reason = info.get("error") or (judge_checks(info["checks"], self.rootless)
                                           if "checks" in info else None)
            if not message:
                reason = f"the sandbox did not start ({self._startup_error()})"
            if reason:
                self._stop()
                raise RunnerUnavailable(f"strict mode refuses to run: {reason}")
            self.info = info
            self._ready = True
            threading.Thread(target=self._read_control, args=(self._control,), daemon=True,
                             name="atlas-quiz-zygote").start()
            return info

    def _read_control(self, control: socket.socket) -> None:
        """Collect the exit statuses the zygote reports, for crash messages."""
        while True:
            try:
                message = control.recv(65536)
            except OSError:
                message = b""
            if not message:
                break
            report = json.loads(message)
            with self._cond:
                if report.get("op") == "exit" and report.get("job") in self._watch:
                    self._exits[report["job"]] = report.get("status")
                    self._cond.notify_all()
        with self._cond:
            if self._control is control:  # the zygote died: start a fresh one on the next answer
                self._ready = False
                self._control = None
                self.restarts += 1
                control.close()
            self._cond.notify_all()

    def _send(self, message: dict[str, Any], fds: list[int] = ()) -> None:
        self.wait_ready()
        with self._send_lock:
            control = self._control
            if control is None:
                raise RunnerUnavailable("the sandbox stopped")
            socket.send_fds(control, [json.dumps(message).encode()], list(fds))

    def open_channel(self, wall: float, session: bool = False) -> tuple[socket.socket, int]:
        """A socket to a new sandboxed child (a job), which has ``wall`` seconds to live."""
        job = next(self._ids)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with self._cond:
            self._watch.add(job)
        try:
            try:
                self._send({"op": "run", "job": job, "wall": wall, "session": session}, [theirs.fileno()])
            except OSError:  # the zygote died between answers: one fresh start, then fail closed
                self._stop()
                self._send({"op": "run", "job": job, "wall": wall, "session": session}, [theirs.fileno()])
        except BaseException:
            ours.close()
            self.forget(job)
            raise
        finally:
            theirs.close()
        return ours, job

    def exchange(self, channel: socket.socket, job: int, header: dict[str, Any], payload: bytes,
                 timeout: float) -> tuple[dict[str, Any], bytes]:
        """One request and its response over a child's channel; timeouts and crashes raise, and so
        does a response over :func:`~.worker.response_caps` (the answer wrote a frame itself)."""
        max_header, max_payload = response_caps(header)
        header = {**header, "seq": next(self._ids)}
        try:
            framing.send(channel.fileno(), header, payload)
            response, data = framing.recv(channel.fileno(), deadline=time.monotonic() + timeout,
                                          max_header=max_header, max_payload=max_payload)
            check_seq(response, header["seq"])  # a session child answers several requests
            return response, data
        except StaleResponse:
            self.kill(job)  # the child wrote frames of its own: what follows is not to be trusted
            raise
        except TimeoutError:
            self.kill(job)
            raise AnswerTimeout(f"the answer ran longer than {timeout:g} s") from None
        except framing.FrameTooLarge:
            self.kill(job)  # it may still be writing; the caller drops the channel
            raise too_large(header) from None
        except (framing.FrameError, ConnectionError):
            status = self._exit_status(job)
            if status == SETUP_FAILED:
                raise AnswerCrashed("the sandbox could not set up a process for the answer") from None
            raise AnswerCrashed(describe_exit(status)) from None

    def run(self, header: dict[str, Any], payload: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        """Run one request in a fresh child; raise :class:`AnswerTimeout` or :class:`AnswerCrashed`."""
        channel, job = self.open_channel(timeout + GRACE_S)
        try:
            return self.exchange(channel, job, header, payload, timeout)
        finally:
            channel.close()
            self.forget(job)

    def session(self, wall: float) -> StrictSession:
        """One child for several requests in turn (a whole submission on CUDA), ``wall`` s at most."""
        return StrictSession(self, wall)

    def kill(self, job: int) -> None:
        """Ask the zygote to kill a job's child now."""
        with contextlib.suppress(OSError, RunnerUnavailable):
            self._send({"op": "kill", "job": job})

    def forget(self, job: int) -> None:
        """Stop collecting a job's exit status."""
        with self._cond:
            self._watch.discard(job)
            self._exits.pop(job, None)

    def _exit_status(self, job: int, wait: float = 2.0) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: job in self._exits or self._control is None, wait)
            return self._exits.get(job)

    def _stop(self) -> None:
        with self._cond:
            control, self._control = self._control, None
            self._ready = False
        if control is not None:
            with contextlib.suppress(OSError):  # wakes the reader thread; the zygote sees the end
                control.shutdown(socket.SHUT_RDWR)
            control.close()
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def close(self) -> None:
        """Stop the zygote and every child."""
        self._stop()
        self._stderr.close()


class StrictSession:
    """A child that answers several requests in turn: one student's items share its CUDA start-up.

    A timeout or crash ends the child; the next request starts a fresh one.
    """

    def __init__(self, runner: StrictRunner, wall: float) -> None:
        self.runner = runner
        self.wall = wall
        self._channel: socket.socket | None = None
        self._job = 0

    def run(self, header: dict[str, Any], payload: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        """Like :meth:`StrictRunner.run`, in this session's child."""
        try:
            return self._exchange(header, payload, timeout)
        except StaleResponse as exc:
            if not exc.leftover:
                raise
        return self._exchange(header, payload, timeout)  # an earlier item's leftovers: a fresh child

    def _exchange(self, header: dict[str, Any], payload: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        """One request in this session's child, started if need be; a failure ends the child."""
        if self._channel is None:
            self._channel, self._job = self.runner.open_channel(self.wall, session=True)
        try:
            return self.runner.exchange(self._channel, self._job, header, payload, timeout)
        except (AnswerTimeout, AnswerCrashed):
            self.close()
            raise

    def close(self) -> None:
        """End the child (it sees its channel close and exits)."""
        if self._channel is not None:
            self._channel.close()
            self.runner.forget(self._job)
            self._channel = None

    def __enter__(self) -> StrictSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
