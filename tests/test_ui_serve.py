"""``atlas-quiz serve``: the review app in a browser through textual-serve, bound to localhost."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ui_helpers import build_ui_db

pytest.importorskip("aiohttp")  # textual-serve's own dependency
from test_quiz_serve import Browser, free_port  # noqa: E402  (the browser's websocket protocol)

pytestmark = pytest.mark.slow
CTRL_S = "\x13"


@pytest.fixture
def served(tmp_path):
    """``atlas-quiz serve`` over a database holding the UI test deck; yields (port, db path)."""
    db_path = tmp_path / "serve.db"
    build_ui_db(db_path).close()
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "atlas_quiz", "serve", "--port", str(port),
                             "--db", str(db_path), "--deck", "ui_deck"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield port, db_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_a_card_reviewed_in_the_browser_is_graded_and_saved(served):
    port, db_path = served
    browser = Browser(port)
    asyncio.run(browser.run([("wait", "ReLU"), ("wait", "grader ready"), "torch.relu(x)",
                             ("wait", "torch.relu(x)"), CTRL_S, ("wait", "correct")]))
    from atlas_quiz.store import open_db

    rows = [(r["card_id"], r["verdict"], r["answer"]) for r in open_db(db_path)["reviews"].rows]
    assert rows == [("uitest.relu", "correct", "torch.relu(x)")]


def test_serve_listens_on_localhost_only_by_default(served):
    port = f"{served[0]:04X}"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and local.endswith(f":{port}"):
                listening.append(local.split(":")[0])
    assert listening and set(listening) <= {"0100007F"}
