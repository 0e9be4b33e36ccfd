"""A spare: the child the zygote forks in advance for one uid of its pool.

It confines itself (uid, rlimits, no new privileges, non-dumpable), walks the common path
once with a synthetic answer so its copy-on-write faults are paid before the real one,
loads the seccomp filter, says it is ready, then waits for a job: a socket end passed by the
zygote, on which it answers one request (or, for a session, each until the socket closes)
with :func:`runner.handle`, and exits.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from typing import Any, NoReturn

import torch

from . import framing, runner
from .confine import SETUP_FAILED, Limits, confine, limit_cpu
from .wire import encode

__all__ = ["CHANNEL_FD", "run_spare"]

CHANNEL_FD = 3
LINK_FD = 4


def _warm_request() -> tuple[dict[str, Any], bytes]:
    """A synthetic answer that walks the common path once (compile, decode, run, encode, digest),
    so a spare pays its copy-on-write page faults before the real answer arrives."""
    chunks: list[bytes] = []
    x = encode(torch.linspace(-1, 1, 12).reshape(4, 3), chunks)
    code = "h = torch.softmax(x @ x.T, -1) @ x\nreturn F.relu(h * torch.rsqrt(h.pow(2).mean(-1, True) + 1e-6))"
    return {"op": "run", "kind": "expr", "code": code, "argnames": ["x"],
            "trials": [{"args": [x]}, {"args": [x]}]}, b"".join(chunks * 2)


def _serve_channel(device: str, session: bool) -> NoReturn:
    """Answer requests on the channel (one, or until it closes for a session), then exit."""
    while True:
        try:
            header, payload = framing.recv(CHANNEL_FD)
        except framing.FrameError:
            os._exit(0)
        response, data = runner.handle(header, payload, device)
        response["seq"] = header.get("seq")  # the engine knows this reply from a forged one
        try:
            framing.send(CHANNEL_FD, response, data)
        except framing.FrameError:
            os._exit(0)
        if not session:
            os._exit(0)


def _become_spare(link: int, uid: int | None, workdir: str, limits: Limits, filt: Any,
                  device: str) -> None:
    """In a fresh fork: keep only the link to the zygote, confine, warm up, load the filter."""
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    if link != LINK_FD:
        os.dup2(link, LINK_FD)
    os.closerange(LINK_FD + 1, 2**31 - 1)  # the control socket, queued channels, other links
    os.closerange(0, LINK_FD)
    null = os.open(os.devnull, os.O_RDWR)  # fd 0, then copies: an answer's prints reach nothing
    os.dup2(null, 1)
    os.dup2(null, 2)
    confine(uid, workdir, limits)
    if device.startswith("cuda"):
        torch.zeros(1, device=device)  # CUDA starts here, per child, never in the zygote
    runner.handle(*_warm_request(), device)
    filt.load()  # last: it forbids the set*id calls above (and any new process) from here on


def run_spare(link: int, uid: int | None, workdir: str, limits: Limits, filt: Any, device: str) -> NoReturn:
    """Body of a spare child: get ready, wait for a job's channel, answer it, exit."""
    try:
        _become_spare(link, uid, workdir, limits, filt, device)
        control = socket.socket(fileno=LINK_FD)
        control.send(b"ready")
    except BaseException:
        os._exit(SETUP_FAILED)
    message, fds, _, _ = socket.recv_fds(control, 4096, 1)
    if not message or len(fds) != 1:
        os._exit(0)
    job = json.loads(message)
    try:
        os.dup2(fds[0], CHANNEL_FD)
        if fds[0] != CHANNEL_FD:
            os.close(fds[0])
        control.close()
        limit_cpu(float(job["wall"]))
    except BaseException:
        os._exit(SETUP_FAILED)
    _serve_channel(device, bool(job.get("session")))
