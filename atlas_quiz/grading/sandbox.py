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
import glob
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
from pathlib import Path
from typing import Any

from . import framing
from .confine import SETUP_FAILED
from .worker import AnswerCrashed, AnswerTimeout, RunnerUnavailable, child_env, describe_exit

__all__ = ["CUDA_START_S", "UID_BASE", "StrictRunner", "StrictSession", "bwrap_args", "judge_checks"]

# Children run as UID_BASE + i: a range no account uses, so RLIMIT_NPROC (which
# counts every process of a uid on the machine) sees only that one child.
UID_BASE = 2_100_000_000
GRACE_S = 1.0  # the zygote's deadline trails the engine's, so the engine's timeout speaks first
CUDA_START_S = 15.0  # what a session child may spend initialising CUDA before its first answer
TMP_BYTES = 256 << 20  # the sandbox's /tmp is memory: cap it
_PACKAGE = Path(__file__).resolve().parents[1]  # .../atlas_quiz


def _bound_paths() -> list[str]:
    """Host directories the zygote needs, read-only: Python, the virtualenv, this package."""
    paths = [os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), str(_PACKAGE)]
    return [p for p in dict.fromkeys(paths) if not p.startswith("/usr/")]


def _parents(paths: list[str]) -> list[str]:
    """Every ancestor directory of ``paths`` (outermost first), excluding ``/`` and the paths."""
    out: dict[str, None] = {}
    for p in paths:
        parts = Path(p).parts[1:-1]
        for i in range(1, len(parts) + 1):
            out.setdefault("/" + "/".join(parts[:i]), None)
    return [p for p in out if p not in paths]


def _system_binds() -> list[str]:
    """The dynamic loader, shared libraries and ``ldconfig`` (ctypes.util.find_library runs it)."""
    binds = [d for d in ("/usr/lib", "/usr/lib64", "/usr/lib32") if os.path.isdir(d)]
    ldconfig = os.path.realpath("/sbin/ldconfig")
    binds += [ldconfig] if os.path.exists(ldconfig) else []
    args = []
    for parent in _parents(["/etc/ld.so.cache", *binds]):  # bubblewrap would make /etc 0700
        args += ["--perms", "0755", "--dir", parent]
    args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for d in binds:
        args += ["--ro-bind", d, d]
    for d in ("/lib", "/lib64", "/lib32", "/sbin"):
        if os.path.islink(d):  # merged /usr: /lib -> usr/lib
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d) and d != "/sbin":
            args += ["--ro-bind", d, d]
    return args


def _cuda_binds() -> list[str]:
    """GPU device nodes, /sys (the driver reads the PCI topology) and the driver's library dirs."""
    args = []
    for node in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind", node, node]
    args += ["--ro-bind", "/sys", "/sys"]
    for d in filter(os.path.isdir, os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep)):
        args += ["--ro-bind", d, d]
    for name in ("LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"):
        if name in os.environ:
            args += ["--setenv", name, os.environ[name]]
    return args


def bwrap_args(device: str = "cpu", *, rootless: bool = False) -> list[str]:
    """The bubblewrap options of the zygote's sandbox (everything before ``--``).

    As root the zygote keeps CAP_SETUID/CAP_SETGID so each child can drop to a uid
    of its own. Without root that is impossible: the sandbox gets a user
    namespace instead, every child shares the one mapped uid, and the runner
    runs one child at a time in a single ``/tmp/work`` that each child empties.
    """
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL"]
    if rootless:
        args += ["--unshare-user", "--disable-userns", "--uid", "65534", "--gid", "65534",
                 "--perms", "0555", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
                 "--perms", "0700", "--size", str(TMP_BYTES), "--tmpfs", "/tmp/work"]
    else:  # /tmp itself is root's; the zygote makes /tmp/u<uid> per child uid
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--perms", "0711", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    args += _system_binds() + ["--proc", "/proc", "--dev", "/dev"]
    bound = _bound_paths()
    for parent in _parents(bound):  # e.g. /root is 0700 on the host: children could not enter it
        args += ["--perms", "0755", "--dir", parent]
    for path in bound:
        args += ["--ro-bind", path, path]
    if device.startswith("cuda"):
        args += _cuda_binds()
    args += ["--setenv", "PYTHONPATH", str(_PACKAGE.parent), "--setenv", "OMP_NUM_THREADS", "1",
             "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "LANG", "C.UTF-8",
             "--chdir", "/tmp", "--remount-ro", "/"]
    if rootless:  # /dev's tmpfs belongs to the mapped uid there: make it read-only too
        args += ["--remount-ro", "/dev", "--remount-ro", "/tmp"]
    return args


def _hidden_paths() -> list[str]:
    """Host paths the self-test must not see: account files, the home's and the project's entries."""
    bound = _bound_paths()
    keep = set(bound) | set(_parents(bound))
    out = [p for p in ("/etc/passwd", "/etc/shadow", "/etc/hostname") if os.path.exists(p)]
    for folder in (Path.home(), _PACKAGE.parent):
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        out += [str(folder / e) for e in entries if str(folder / e) not in keep][:8]
    return out


def judge_checks(checks: dict[str, Any], rootless: bool) -> str | None:
    """Why the sandbox's self-test fails strict mode's promises, or None when it holds."""
    if checks.get("interfaces") != ["lo"]:
        return f"the sandbox sees network interfaces {checks.get('interfaces')}"
    if checks.get("visible"):
        return f"the sandbox can see {checks['visible'][0]}"
    child = checks.get("child", {})
    if "error" in child:
        return f"a sandbox child could not confine itself: {child['error']}"
    if child.get("uid") == 0 or (not rootless and child.get("uid", 0) < UID_BASE):
        return f"a sandbox child runs as uid {child.get('uid')}"
    if child.get("capabilities"):
        return "a sandbox child kept capabilities"
    allowed = [k for k, v in child.items() if v is True and k != "own temp dir"]
    if allowed:
        return f"a sandbox child was allowed to {allowed[0]}"
    if child.get("own temp dir") is not True:
        return "a sandbox child cannot write its private temp dir"
    return None


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
        cmd = [self.bwrap, *bwrap_args(self.device, rootless=self.rootless), "--", self.python,
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
            ours.send(json.dumps({"hidden": _hidden_paths()}).encode())  # what the self-test seeks
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
        """One request and its response over a child's channel; timeouts and crashes raise."""
        try:
            framing.send(channel.fileno(), header, payload)
            return framing.recv(channel.fileno(), deadline=time.monotonic() + timeout)
        except TimeoutError:
            self.kill(job)
            raise AnswerTimeout(f"the answer ran longer than {timeout:g} s") from None
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
