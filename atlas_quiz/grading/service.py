"""The grading service: a process that owns a warm :class:`Engine`, for a client that must stay light.

``python -m atlas_quiz.grading.service`` imports torch, starts the engine's
warm ``own``-mode worker, says ``ready``, then grades requests one at a time
until its input closes. The review app starts it in the background (see
``client.py``) so the first card is on screen long before torch has loaded.

Messages are ``framing.py`` frames (a JSON header, no payload) on the
original stdin/stdout:

- service -> client, once: ``{"event": "ready", "device", "torch", "pid"}``
  or ``{"event": "failed", "error"}``;
- client -> service: ``{"op": "grade", "id", "card" (Card.to_dict()),
  "answer", "seed"}`` or ``{"op": "close"}``;
- service -> client: ``{"id", "result" (GradeResult.to_dict())}`` or
  ``{"id", "error"}`` when the grade itself could not be made.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from . import framing

__all__ = ["grade_request", "main", "serve"]


def grade_request(engine: Any, header: dict[str, Any]) -> dict[str, Any]:
    """Grade one request; a broken card or engine becomes an ``error`` reply, never a dead service."""
    from ..cards import Card

    reply: dict[str, Any] = {"id": header.get("id")}
    try:
        card = Card.from_dict(header["card"])
        result = engine.grade(card, str(header["answer"]), seed=int(header.get("seed", 0)))
    except Exception as exc:  # a card whose reference fails, a runner that cannot start, ...
        reply["error"] = f"{type(exc).__name__}: {exc}"
        return reply
    reply["result"] = result.to_dict()
    return reply


def serve(engine: Any, fd_in: int, fd_out: int) -> None:
    """Answer requests until the input closes (the client went away) or asks us to stop."""
    while True:
        try:
            header, _ = framing.recv(fd_in)
        except framing.FrameError:
            return
        op = header.get("op")
        if op == "close":
            return
        if op == "grade":
            reply = grade_request(engine, header)
        else:
            reply = {"id": header.get("id"), "error": f"unknown op {op!r}"}
        try:
            framing.send(fd_out, reply)
        except framing.FrameError:
            return


def _protocol_fds() -> tuple[int, int]:
    """Keep the real stdin/stdout for the protocol; stray prints (warnings, libraries) go to stderr."""
    fd_in, fd_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return fd_in, fd_out


def main(argv: list[str] | None = None) -> int:
    """Entry point: start the engine, say ready (or why not), then serve."""
    parser = argparse.ArgumentParser(description="atlas-quiz grading service (own mode)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per answer")
    parser.add_argument("--memory-mb", type=int, default=2048, help="memory limit of the answer worker")
    args = parser.parse_args(argv)
    fd_in, fd_out = _protocol_fds()
    try:
        from .engine import Engine

        engine = Engine("own", args.device, timeout=args.timeout, memory_mb=args.memory_mb)
        info = engine.start()
    except Exception as exc:
        framing.send(fd_out, {"event": "failed", "error": f"{type(exc).__name__}: {exc}"})
        return 1
    try:
        framing.send(fd_out, {"event": "ready", "device": engine.device, "torch": info.get("torch", ""),
                              "pid": os.getpid()})
        engine.warm_up()  # while the learner reads the first card; a first request waits for it
        serve(engine, fd_in, fd_out)
    except framing.FrameError:
        pass  # the client went away while we were saying ready
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
