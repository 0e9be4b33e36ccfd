"""The process inside the sandbox: a data-blind zygote that forks one confined child per answer.

``StrictRunner`` (sandbox.py) starts ``python -m atlas_quiz.grading.zygote``
under bubblewrap. The zygote imports torch and everything an answer may need,
proves the jail holds (a probe child), then serves a control socket:

- For each uid of its pool it keeps a *spare* (spare.py): a child forked in advance that
  has already dropped to that uid, set its rlimits, made itself non-dumpable,
  run a synthetic warm-up request and loaded the seccomp filter. Forking and
  confining thus happen between answers, not while the engine waits.
- For each answer the engine sends a fresh socket end (SCM_RIGHTS); the zygote
  passes it on to a spare and never reads it, so no answer's data ever passes
  through the zygote. The spare sets its CPU budget, answers the request with
  :func:`runner.handle`, and exits.
- The zygote kills a child past its wall-clock deadline, reaps it, reports its
  exit status, has the uid's temp dir emptied, and forks a new spare for the
  freed uid. Two children never share a uid at once, so they cannot signal or read
  each other, and none ever sees (or must remove) what an earlier one left.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import select
import signal
import socket
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import torch

from . import runner
from .confine import (
    SETUP_FAILED,
    Limits,
    as_uid,
    build_filter,
    confine,
    empty_as,
    limit_cpu,
    probe,
    set_dumpable,
)
from .spare import run_spare

__all__ = ["SETUP_FAILED", "Zygote", "main"]

_MAX_SETUP_FAILURES = 3


@dataclass
class _Child:
    pid: int
    uid: int | None
    link: socket.socket | None  # to a spare; None once it has its job
    job: int | None = None
    deadline: float = float("inf")
    cleaner: bool = False  # empties the uid's temp dir (see Zygote.release)


@dataclass
class Zygote:
    """The fork server: spares per free uid, a queue of jobs, children with their deadlines."""

    control: socket.socket
    device: str
    memory_mb: int
    uids: list[int | None]
    filt: Any
    free: deque = field(default_factory=deque)
    starting: dict = field(default_factory=dict)  # link fd -> a spare still getting ready
    spares: deque = field(default_factory=deque)  # spares ready for a job
    queue: deque = field(default_factory=deque)
    children: dict[int, _Child] = field(default_factory=dict)
    setup_failures: int = 0

    def __post_init__(self) -> None:
        self.free.extend(self.uids)

    @staticmethod
    def workdir(uid: int | None) -> str:
        """The private temp dir of a uid's children (the one writable place they have)."""
        return "/tmp/work" if uid is None else f"/tmp/u{uid}"

    def make_workdirs(self) -> None:
        """``/tmp/u<uid>``: owner root, group ``uid``, mode 0770. The child writes there but
        cannot chmod it open, and no other uid may enter."""
        for uid in self.uids:
            if uid is None:
                continue
            os.setegid(uid)  # a new dir takes our effective gid: no CAP_CHOWN needed
            try:
                os.mkdir(self.workdir(uid), 0o770)
            finally:
                os.setegid(0)
            os.chmod(self.workdir(uid), 0o770)

    def limits(self) -> Limits:
        """A child's limits on this device."""
        if self.device.startswith("cuda"):  # CUDA maps huge address ranges and starts threads
            return Limits(memory_bytes=None, threads=64)
        return Limits(memory_bytes=self.memory_mb << 20, threads=0)

    def spawn_spare(self, uid: int | None) -> None:
        """Fork a spare child for a free uid."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            run_spare(theirs.fileno(), uid, self.workdir(uid), self.limits(), self.filt, self.device)
        theirs.close()
        child = _Child(pid, uid, ours)
        self.children[pid] = child
        self.starting[ours.fileno()] = child

    def spare_ready(self, fd: int) -> None:
        """A starting spare spoke: it is ready (or, on end of file, dead and soon reaped)."""
        child = self.starting.pop(fd)
        assert child.link is not None
        try:
            ready = child.link.recv(16) == b"ready"
        except OSError:
            ready = False
        if ready:
            self.spares.append(child)
            self.setup_failures = 0  # only failures in a row mean the sandbox is broken

    def fill(self) -> None:
        """Fork spares for every free uid and wait until they are ready (before the first job)."""
        while self.free:
            self.spawn_spare(self.free.popleft())
        while self.starting:
            ready, _, _ = select.select(list(self.starting), [], [])
            for fd in ready:
                self.spare_ready(fd)

    def assign(self, job: tuple[int, int, float, bool], spare: _Child) -> None:
        """Hand a job's channel to a spare; the wall-clock deadline starts now."""
        job_id, fd, wall, session = job
        assert spare.link is not None
        try:
            socket.send_fds(spare.link, [json.dumps({"wall": wall, "session": session}).encode()], [fd])
        except OSError:  # the spare died; it will be reaped, the job waits for the next one
            self.queue.appendleft(job)
            return
        finally:
            spare.link.close()
            spare.link = None
        os.close(fd)
        spare.job, spare.deadline = job_id, time.monotonic() + wall

    def command(self, message: dict[str, Any], fds: list[int]) -> None:
        """Act on one control message: queue a job, or kill one."""
        if message.get("op") == "run" and len(fds) == 1:
            self.queue.append((int(message["job"]), fds[0], float(message["wall"]),
                               bool(message.get("session"))))
            return
        for fd in fds:
            os.close(fd)
        if message.get("op") == "kill":
            for child in self.children.values():
                if child.job == message.get("job"):
                    self.kill(child)
            for job in [j for j in self.queue if j[0] == message.get("job")]:
                self.queue.remove(job)
                os.close(job[1])

    @staticmethod
    def kill(child: _Child) -> None:
        """SIGKILL a child (not yet reaped, so its pid is still its own).

        Without CAP_KILL, root may signal only processes of its own uid: take the
        child's uid for the call (CAP_SETUID allows it), then back.
        """
        with as_uid(child.uid), contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)

    def release(self, uid: int | None) -> None:
        """Give a uid back to its pool once its child is gone and its temp dir is empty.

        Most answers leave nothing: the uid is free at once. Otherwise a cleaner
        process empties the dir first (:func:`~.confine.empty_as`), so that a tree
        of a million files never holds up the other children's jobs.
        """
        with os.scandir(self.workdir(uid)) as entries:  # root owns the dir itself
            left = next(entries, None) is not None
        if not left:
            self.free.append(uid)
            return
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            os.closerange(3, 2**31 - 1)  # the control socket, links to spares: none of its business
            empty_as(uid, self.workdir(uid))
        self.children[pid] = _Child(pid, uid, None, cleaner=True)

    def reap(self) -> None:
        """Collect exited children, report each job's exit status, empty and free their uids."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if child.cleaner:
                if code != 0:  # one answer's files would reach the next: fail closed
                    raise SystemExit("a sandbox child's temp dir could not be emptied")
                self.free.append(child.uid)
                continue
            if child.job is not None:
                self.report({"op": "exit", "job": child.job, "status": code})
            else:  # a spare that died before its job
                if child in self.spares:
                    self.spares.remove(child)
                if child.link is not None:
                    self.starting.pop(child.link.fileno(), None)
                    child.link.close()
                if code == SETUP_FAILED:
                    self.setup_failures += 1
                    if self.setup_failures >= _MAX_SETUP_FAILURES:  # fail closed: the engine restarts us
                        raise SystemExit("sandbox children cannot confine themselves")
            self.release(child.uid)

    def tick(self) -> float | None:
        """Kill children past their deadline, refill spares, start queued jobs;
        return the seconds until the next deadline."""
        now = time.monotonic()
        for child in self.children.values():
            if child.deadline <= now:
                self.kill(child)
                child.deadline = float("inf")
        while self.free:
            self.spawn_spare(self.free.popleft())
        while self.queue and self.spares:
            self.assign(self.queue.popleft(), self.spares.popleft())
        deadlines = [c.deadline for c in self.children.values() if c.deadline != float("inf")]
        return max(0.0, min(deadlines) - now) if deadlines else None

    def report(self, message: dict[str, Any]) -> None:
        """Send a message to the engine."""
        self.control.send(json.dumps(message).encode())

    def serve(self) -> None:
        """Run until the engine closes the control socket, then kill every child."""
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        try:
            while True:
                timeout = self.tick()
                ready, _, _ = select.select([self.control, wake_r, *self.starting], [], [], timeout)
                for fd in ready:
                    if fd in self.starting:
                        self.spare_ready(fd)
                if wake_r in ready:
                    os.read(wake_r, 4096)
                if self.control in ready:
                    message, fds, _, _ = socket.recv_fds(self.control, 65536, 4)
                    if not message:
                        break
                    self.command(json.loads(message), list(fds))
                self.reap()
        finally:
            for child in self.children.values():
                self.kill(child)

    def self_test(self, hidden: list[str]) -> dict[str, Any]:
        """Check, inside the sandbox, what strict mode promises; the engine judges the result."""
        checks: dict[str, Any] = {
            "interfaces": [name for _, name in socket.if_nameindex()],
            "visible": [p for p in hidden if os.path.lexists(p)],
        }
        places = ["/", "/tmp", "/dev", "/dev/shm", os.path.dirname(runner.__file__), sys.prefix]
        read_fd, write_fd = os.pipe()
        uid = self.uids[0]
        pid = os.fork()
        if pid == 0:
            try:
                confine(uid, self.workdir(uid), self.limits())
                limit_cpu(10.0)
                self.filt.load()
                result = probe(places, threads_expected=self.device.startswith("cuda"))
            except BaseException as exc:
                result = {"error": f"{type(exc).__name__}: {exc}"}
            os.write(write_fd, json.dumps(result).encode())
            os._exit(0)
        os.close(write_fd)
        data = b""
        while chunk := os.read(read_fd, 65536):
            data += chunk
        os.close(read_fd)
        os.waitpid(pid, 0)
        checks["child"] = json.loads(data or b'{"error": "the probe child died"}')
        return checks


def main(argv: list[str] | None = None) -> None:
    """Entry point inside bubblewrap: import, self-test, report ready, serve."""
    parser = argparse.ArgumentParser(description="atlas-quiz strict-mode zygote (started by StrictRunner)")
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--uids", default="", help="comma-separated child uids; empty: no uid drop "
                        "(the sandbox is a user namespace: one child at a time)")
    args = parser.parse_args(argv)
    control = socket.socket(fileno=args.control_fd)
    # The host paths to look for come over the socket, not argv: children may read our cmdline.
    hidden = json.loads(control.recv(1 << 20) or b"{}").get("hidden", [])
    torch.set_num_threads(1)  # NPROC=0 forbids the OpenMP pool's threads in CPU children
    # What answers may need is imported now: a filtered child could not run ldconfig, and
    # each child would pay the import again. Kernel cards pick Triton's interpreter or
    # compiler for the device before Triton is imported.
    with contextlib.suppress(ImportError):
        from .kernel import prepare

        prepare(args.device)
    runner.warm_up()  # torch.func's lazy machinery: once here, not in every child
    uids: list[int | None] = [int(u) for u in args.uids.split(",") if u] or [None]
    try:
        filt = build_filter()
    except Exception as exc:
        control.send(json.dumps({"op": "ready", "error": f"seccomp is unavailable: {exc}"}).encode())
        return
    set_dumpable(False)  # children must not read the zygote's memory either
    zygote = Zygote(control, args.device, args.memory_mb, uids, filt)
    if uids != [None]:
        zygote.make_workdirs()
    checks = zygote.self_test(hidden)
    gc.freeze()  # children then leave the zygote's objects alone: fewer copy-on-write pages
    zygote.fill()  # "ready" means a warm spare waits for each of the first answers
    if len(zygote.spares) < len(uids):
        zygote.report({"op": "ready", "error": "a sandbox child could not get ready for answers"})
        return
    zygote.report({"op": "ready", "pid": os.getpid(), "torch": torch.__version__,
                   "device": args.device, "checks": checks})
    zygote.serve()


if __name__ == "__main__":
    main()
