"""The browser lab: `quiz serve` behind textual-serve, driven like a browser and by headless Chromium.

The websocket test reads every byte the server sends a browser and checks that
no reference and no other student's answer is ever among them.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from ui_helpers import free_port, serving

from atlas_quiz.cli import cli
from atlas_quiz.quiz import LabState, TokenStore, load_spec, sample_dir
from atlas_quiz.ui.widgets.card_view import scope_text

aiohttp = pytest.importorskip("aiohttp")  # textual-serve's own dependency
pytestmark = pytest.mark.slow

F10, SHIFT_TAB, ENTER, CTRL_N = "\x1b[21~", "\x1b[Z", "\r", "\x0e"
_ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b.")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A served quiz with tokens for alice, bob, carol and dave; bob has saved an answer already,
    dave has handed in (each test stands alone: xdist may run them on different workers)."""
    root = tmp_path_factory.mktemp("lab")
    for name in ("quiz.toml", "deck.toml"):
        shutil.copyfile(sample_dir() / name, root / name)
    spec = load_spec(root / "quiz.toml")
    state = LabState(root / "quiz-lab")
    store = TokenStore.load(state.tokens_path, spec.hash)
    tokens = store.issue(["alice", "bob", "carol", "dave"])
    store.save()
    bob = state.login(spec, tokens["bob"])
    bob.record("relu", "BOB_SECRET_ANSWER_42 + x")
    bob.save()
    bob.close()
    dave = state.login(spec, tokens["dave"])
    dave.submit()
    dave.close()
    with serving(["quiz", "serve", "quiz.toml"], root / "serve.log", cwd=root) as port:
        yield {"root": root, "spec": spec, "state": state, "tokens": tokens, "port": port}


class Browser:
    """Speaks textual-serve's websocket protocol as its page does, and keeps all it receives."""

    def __init__(self, port: int) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws?width=120&height=40"
        self.received = bytearray()

    @property
    def text(self) -> str:
        return _ESCAPES.sub("", self.received.decode("utf-8", "replace"))

    async def run(self, steps: list[str | tuple[str, str]]) -> None:
        """Each step: keys to type, or ("wait", text) until the screen shows it (30 s at most)."""
        async with aiohttp.ClientSession() as http, http.ws_connect(self.url) as ws:
            reader = asyncio.create_task(self._read(ws))
            await ws.send_json(["resize", {"width": 120, "height": 40}])
            try:
                for step in steps:
                    if isinstance(step, tuple):
                        await self._wait(step[1])
                    else:
                        await ws.send_json(["stdin", step])
                        await asyncio.sleep(0.05)
            finally:
                reader.cancel()

    async def _read(self, ws) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.received += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.received += message.data.encode()

    async def _wait(self, text: str) -> None:
        for _ in range(600):
            if text in self.text:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the browser never showed {text!r}; it showed:\n{self.text[-2000:]}")


def identifiers(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", text))


def test_a_student_logs_in_answers_and_hands_in_without_seeing_any_reference(lab):
    spec, state = lab["spec"], lab["state"]
    browser = Browser(lab["port"])
    asyncio.run(browser.run([
        ("wait", "personal token"), lab["tokens"]["alice"], ENTER, ("wait", "Question 1 of 6"),
        "F.relu(x)", ("wait", "F.relu(x)"),
        *[step for k in range(2, 7) for step in (CTRL_N, ("wait", f"Question {k} of 6"))],  # see all
        F10, ("wait", "Hand in your answers"), SHIFT_TAB, ENTER, ("wait", "Your answers are handed in"),
    ]))
    data = json.loads((state.submissions / "alice.json").read_text())
    assert data["finished"] == "submitted" and data["answers"]["relu"]["text"] == "F.relu(x)"
    seen = identifiers(browser.text)
    questions = spec.questions_for("alice")
    visible = identifiers(" ".join([text for q in questions for text in (
        q.shown.prompt, q.shown.title, q.shown.latex, q.shown.code, q.slot, scope_text(q.shown).plain)]))
    visible |= {"return", "relu"}  # "a body ending in `return`"; alice typed F.relu(x)
    for q in questions:
        card = q.card
        secret = identifiers(" ".join([card.reference, *card.accept, *(r.answer for r in card.reject),
                                       *(r.why for r in card.reject), card.explain, card.explain_zh, card.hint, card.hint_zh]))
        leaked = (secret - visible) & seen
        assert not leaked, f"{card.id}: {leaked}"
    assert "BOB_SECRET_ANSWER_42" not in browser.text
    assert not any(h in browser.text for h in TokenStore.load(state.tokens_path, spec.hash).by_hash)
    assert str(lab["root"]) not in browser.text


def test_a_token_hands_in_once(lab):
    browser = Browser(lab["port"])
    asyncio.run(browser.run([("wait", "personal token"), lab["tokens"]["dave"], ENTER,
                             ("wait", "already been used")]))
    browser = Browser(lab["port"])
    asyncio.run(browser.run([("wait", "personal token"), "AAAA-BBBB-CCCC-DDDD", ENTER,
                             ("wait", "not valid")]))


def test_the_server_listens_on_localhost_only_by_default(lab):
    port = f"{lab['port']:04X}"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and local.endswith(f":{port}"):
                listening.append(local.split(":")[0])
    assert listening and set(listening) <= {"0100007F"}


def test_serve_refuses_to_start_without_tokens(tmp_path):
    for name in ("quiz.toml", "deck.toml"):
        shutil.copyfile(sample_dir() / name, tmp_path / name)
    out = CliRunner().invoke(cli, ["quiz", "serve", str(tmp_path / "quiz.toml")])
    assert out.exit_code == 2 and "no tokens" in out.output


class Chromium:
    """Headless Chromium driven over the DevTools protocol: a real page, real keystrokes."""

    KEYS = {"Enter": ("Enter", 13, "\r"), "F10": ("F10", 121, None), "Tab": ("Tab", 9, None)}

    def __init__(self, exe: str, profile: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([exe, "--headless=new", "--no-sandbox", "--disable-gpu",
                                      f"--remote-debugging-port={self.port}", f"--user-data-dir={profile}",
                                      "--window-size=1200,900", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.ids = itertools.count(1)

    async def connect(self, http) -> None:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{self.port}/json") as r:
                    targets = await r.json()
                break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        page = next(t for t in targets if t["type"] == "page")
        self.ws = await http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)

    async def call(self, method: str, **params):
        i = next(self.ids)
        await self.ws.send_json({"id": i, "method": method, "params": params})
        async for message in self.ws:
            reply = json.loads(message.data)
            if reply.get("id") == i:
                return reply.get("result", {})

    async def key(self, name: str, modifiers: int = 0) -> None:
        code, vk, text = self.KEYS[name]
        extra = {"text": text} if text else {}
        for kind in ("keyDown", "keyUp"):
            await self.call("Input.dispatchKeyEvent", type=kind, key=name, code=code,
                            windowsVirtualKeyCode=vk, modifiers=modifiers, **(extra if kind == "keyDown" else {}))
        await asyncio.sleep(0.3)

    async def type(self, text: str) -> None:
        await self.call("Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()")
        await self.call("Input.insertText", text=text)
        await asyncio.sleep(0.3)

    def close(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


async def until(check, what: str, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_a_student_takes_the_quiz_in_headless_chromium(lab, tmp_path):
    state = lab["state"]
    sub = state.submissions / "carol.json"

    def carol() -> dict:
        return json.loads(sub.read_text()) if sub.exists() else {}

    async def session() -> None:
        browser = Chromium(shutil.which("chromium"), tmp_path / "profile")
        try:
            async with aiohttp.ClientSession() as http:
                await browser.connect(http)
                await browser.call("Page.enable")
                await browser.call("Page.navigate", url=f"http://127.0.0.1:{lab['port']}/")
                loaded = "document.body.classList.contains('-first-byte')"

                async def first_byte() -> bool:
                    r = await browser.call("Runtime.evaluate", expression=loaded)
                    return r.get("result", {}).get("value") is True

                for _ in range(300):
                    if await first_byte():
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(1.0)  # the login screen draws after the first byte
                await browser.type(lab["tokens"]["carol"])
                await browser.key("Enter")
                await until(lambda: bool(carol()), "carol's submission file")
                await asyncio.sleep(1.0)
                await browser.type("torch.clamp(x, min=0)")
                await until(lambda: carol()["answers"]["relu"]["text"] == "torch.clamp(x, min=0)",
                            "the answer typed in the browser to be saved")
                shot = await browser.call("Page.captureScreenshot", format="png")
                (tmp_path / "exam.png").write_bytes(base64.b64decode(shot["data"]))
                await browser.key("F10")
                await browser.key("Tab", modifiers=8)
                await browser.key("Enter")
                await until(lambda: carol().get("finished") == "submitted", "the hand-in")
        finally:
            browser.close()

    asyncio.run(session())
    assert (tmp_path / "exam.png").stat().st_size > 10_000
