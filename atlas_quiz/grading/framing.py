"""Length-prefixed messages between the grader and the processes that run answers.

A message is a JSON header and a binary payload (tensor bytes), never pickle:
``>I`` header length, header, ``>Q`` payload length, payload. Sizes are capped
on the reading side, so an answer cannot make the grader allocate without bound.
Standard library only.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

__all__ = ["FrameError", "FrameTooLarge", "MAX_HEADER", "MAX_PAYLOAD", "recv", "send"]

MAX_HEADER = 4 << 20
MAX_PAYLOAD = 256 << 20


class FrameError(Exception):
    """The peer closed the channel, sent a malformed frame, exceeded a cap, or timed out."""


class FrameTooLarge(FrameError):
    """The peer announced a header or payload over the reader's cap (nothing of it was read)."""


def send(fd: int, header: dict[str, Any], payload: bytes = b"") -> None:
    """Write one message to a file descriptor (blocking)."""
    head = json.dumps(header, separators=(",", ":"), allow_nan=True).encode()
    data = b"".join((struct.pack(">I", len(head)), head, struct.pack(">Q", len(payload))))
    _write_all(fd, data)
    if payload:
        _write_all(fd, payload)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BrokenPipeError as exc:
            raise FrameError("the other side closed the channel") from exc
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
        chunk = os.read(fd, min(n - len(buf), 1 << 20))
        if not chunk:
            raise FrameError("the other side closed the channel")
        buf += chunk
    return bytes(buf)


def recv(fd: int, *, deadline: float | None = None, max_header: int = MAX_HEADER,
         max_payload: int = MAX_PAYLOAD) -> tuple[dict[str, Any], bytes]:
    """Read one message; ``deadline`` is a ``time.monotonic()`` value (``TimeoutError`` past it)."""
    (n_head,) = struct.unpack(">I", _read_exact(fd, 4, deadline))
    if n_head > max_header:
        raise FrameTooLarge(f"header of {n_head} bytes exceeds the cap of {max_header}")
    try:
        header = json.loads(_read_exact(fd, n_head, deadline))
    # ValueError: bad UTF-8 or JSON, or an integer of more digits than Python converts;
    # RecursionError: brackets nested deeper than the parser goes
    except (ValueError, RecursionError) as exc:
        raise FrameError(f"malformed header: {type(exc).__name__}") from exc
    if not isinstance(header, dict):
        raise FrameError("malformed header: not an object")
    (n_payload,) = struct.unpack(">Q", _read_exact(fd, 8, deadline))
    if n_payload > max_payload:
        raise FrameTooLarge(f"payload of {n_payload} bytes exceeds the cap of {max_payload}")
    payload = _read_exact(fd, n_payload, deadline) if n_payload else b""
    return header, payload
