"""``atlas-quiz serve``: the review app in a browser through textual-serve, bound to localhost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from ui_helpers import build_ui_db, serving

pytest.importorskip("aiohttp")  # textual-serve's own dependency
from test_quiz_serve import Browser  # noqa: E402  (the browser's websocket protocol)

pytestmark = pytest.mark.slow
CTRL_S = "\x13"


@pytest.fixture
def served(tmp_path):
    """``atlas-quiz serve`` over a database holding the UI test deck; yields (port, db path)."""
    db_path = tmp_path / "serve.db"
    build_ui_db(db_path).close()
    args = ["serve", "--db", str(db_path), "--deck", "ui_deck"]
    with serving(args, tmp_path / "serve.log") as port:
        yield port, db_path


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
