"""A stand-in grading service that says ready, then takes requests and never answers them.

It speaks the real service's protocol (``framing`` frames on stdin/stdout), so a
real :class:`GradingClient` started with ``python=silent_service(folder)`` behaves
as it does while a grade is taking long: the answer waits. It starts in a tenth
of a second (no torch). Each request's ``op`` is appended to ``requests.log`` in
the same folder, so a test knows when the answer has arrived.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SCRIPT = """
import os, sys
from pathlib import Path
from atlas_quiz.grading import framing

log = Path(__file__).with_name("requests.log")
framing.send(1, {"event": "ready", "device": "silent", "torch": "none", "pid": os.getpid()})
while True:
    try:
        header, _ = framing.recv(0)
    except framing.FrameError:
        sys.exit(0)
    if header.get("op") == "close":
        sys.exit(0)
    with log.open("a") as f:
        f.write(str(header.get("op")) + "\\n")
"""


def silent_service(folder: Path) -> str:
    """Write the stand-in service into ``folder``; return the path to pass as ``python=``."""
    path = folder / "silent-service"
    path.write_text(f"#!{sys.executable}\n{_SCRIPT}")
    path.chmod(0o755)
    return str(path)


def requests_seen(folder: Path) -> list[str]:
    """The ops the stand-in service has received so far."""
    log = folder / "requests.log"
    return log.read_text().split() if log.exists() else []
