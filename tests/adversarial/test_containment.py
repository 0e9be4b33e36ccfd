"""Hostile answers: in strict mode each is contained and graded not correct, and the engine
grades the next honest answer correctly; in own mode the engine survives them all."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch
from attack_kit import HONEST, contained
from sandbox_helpers import run_in_child

from atlas_quiz.grading.runner import MAX_RESULT_BYTES, handle
from atlas_quiz.grading.sandbox import UID_BASE
from atlas_quiz.grading.wire import encode

PACKAGE = Path(__file__).resolve().parents[2] / "atlas_quiz"

# Each answer would be graded correct only if its attack worked (or it is the attack itself).
ATTACKS = {
    "infinite loop": "while True:\n    pass\nreturn x",
    "fork bomb": "import os\nwhile True:\n    os.fork()\nreturn x.relu()",
    "memory bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 32))\nreturn x.relu()",
    "tensor memory bomb": "return x.relu() + torch.ones(1 << 30).sum()",
    "huge output": "return torch.zeros((1 << 24) + 1)",  # just over the 64 MB cap on a result
    "print flood": "for _ in range(20000):\n    print('spam' * 100)\nreturn x",
    "raw write flood": "import os\nfor _ in range(2000):\n    os.write(1, b'spam' * 1000)\n"
                       "    os.write(2, b'spam' * 1000)\nreturn x",
    "read /etc/passwd": "return x.relu() + len(open('/etc/passwd').read())",
    "open a socket": "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 9))\nreturn x.relu()",
    "os.system": "import os\nreturn x.relu() if os.system('true') == 0 else x",
    "subprocess": "import subprocess\nsubprocess.run(['true'], check=True)\nreturn x.relu()",
    "os._exit": "import os\nos._exit(0)\nreturn x.relu()",
    "sys.exit": "import sys\nsys.exit(0)\nreturn x.relu()",
    "BaseException": "if True:\n    raise BaseException('boom')\nreturn x.relu()",
    "ignored signals": "import signal\nfor s in (signal.SIGTERM, signal.SIGALRM, signal.SIGXCPU, signal.SIGINT):\n"
                       "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\nreturn x",
    "ctypes segfault": "import ctypes\nctypes.string_at(0)\nreturn x.relu()",
    "patched comparison": "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
                          "torch.testing.assert_close = lambda *a, **k: None\n"
                          "torch.Tensor.__eq__ = lambda *a: torch.tensor(True)\nreturn x",
    "tensor subclass": "class Rigged(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
                       "return x.relu().as_subclass(Rigged)",
    "rigged __eq__": "class Always:\n    def __eq__(self, other):\n        return True\n"
                     "    __hash__ = None\nreturn Always()",
    "mutated input": "return x.relu_()",
    "lingering thread": "import threading, time\n"
                        "t = threading.Thread(target=time.sleep, args=(30,), daemon=True)\n"
                        "t.start()\nreturn x.relu()",
}



@pytest.mark.sandbox
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_strict_mode_contains_the_attack(strict, card, name):
    result = contained(strict, card, ATTACKS[name])
    assert not result.correct, f"{name} was graded correct"


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_own_mode_survives_the_attack(own, card, name):
    result = contained(own, card, ATTACKS[name])
    assert result.verdict in ("correct", "wrong", "error", "timeout")


@pytest.mark.sandbox
@pytest.mark.parametrize("name, expected", [
    ("fork bomb", "PermissionError"), ("open a socket", "PermissionError"),
    ("subprocess", "PermissionError"), ("read /etc/passwd", "FileNotFoundError"),
    ("infinite loop", "longer than"), ("ignored signals", "longer than"),
    ("ctypes segfault", "SIGSEGV"), ("os._exit", "exited with status 0"),
    ("lingering thread", "can't start new thread"), ("memory bomb", "MemoryError"),
    ("tensor memory bomb", "can't allocate memory"),
    ("huge output", "larger than"), ("mutated input", "modified its input"),
    ("tensor subclass", "subclass"), ("rigged __eq__", "Always"),
])
def test_strict_mode_says_how_the_attack_was_stopped(strict, card, name, expected):
    feedback = strict.grade(card, ATTACKS[name]).feedback
    assert expected in feedback, feedback


@pytest.mark.sandbox
def test_strict_answers_cannot_read_the_users_home(strict, card, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    secret = home / "secret.txt"
    secret.write_text("hunter2")
    monkeypatch.setenv("HOME", str(home))
    result = contained(strict, card, f"return x.relu() + len(open({str(secret)!r}).read())")
    assert result.verdict == "error" and "FileNotFoundError" in result.feedback


@pytest.mark.sandbox
@pytest.mark.parametrize("target", ["tmp_path", "package", "/tmp", "/dev/shm", "/"])
def test_strict_answers_cannot_write_outside_their_temp_dir(strict, card, tmp_path, target):
    where = {"tmp_path": tmp_path, "package": PACKAGE}.get(target, Path(target))
    path = where / "pwned-by-an-answer.py"
    result = contained(strict, card, f"open({str(path)!r}, 'w').write('x')\nreturn x.relu()")
    assert result.verdict == "error"
    assert not path.exists()


def test_own_mode_survives_an_answer_that_writes_files(own, card, tmp_path):
    path = tmp_path / "written.txt"
    contained(own, card, f"open({str(path)!r}, 'w').write('x')\nreturn x.relu()")


@pytest.mark.sandbox
def test_strict_answers_cannot_read_an_earlier_answers_files(strict, card):
    writer = textwrap.dedent("""\
        import os
        for d in ('.', '/tmp', '/dev/shm'):
            try:
                open(os.path.join(d, 'leak.txt'), 'w').write('secret')
                os.chmod(os.path.join(d, 'leak.txt'), 0o666)
            except OSError:
                pass
        return x.relu()""")
    reader = textwrap.dedent(f"""\
        import os
        places = ['.', '/tmp', '/dev/shm'] + ['/tmp/u%d' % ({UID_BASE} + i) for i in range(16)]
        found = []
        for d in places:
            try:
                found.append(open(os.path.join(d, 'leak.txt')).read())
            except OSError:
                pass
        return x.relu() if found else x""")
    for seed in range(4):  # enough runs that every uid of the pool has written once
        assert strict.grade(card, writer, seed=seed).correct
    result = contained(strict, card, reader)
    assert result.verdict == "wrong"


@pytest.mark.sandbox
def test_a_child_cannot_read_or_signal_another_running_child(strict):
    victim = "import time\nsecret = torch.full((4,), 42.0)\ntime.sleep(1.5)\nreturn secret"
    thief = textwrap.dedent("""\
        import os, signal
        seen = stolen = signalled = 0
        for pid in os.listdir('/proc'):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            seen += 1
            for name in ('environ', 'mem', 'maps'):
                try:
                    with open(f'/proc/{pid}/{name}', 'rb') as f:
                        stolen += len(f.read(64)) > 0
                except OSError:
                    pass
            try:
                os.kill(int(pid), signal.SIGKILL)
                signalled += 1
            except OSError:
                pass
        return torch.tensor([seen, stolen, signalled])""")
    values = {}
    victim_thread = threading.Thread(
        target=lambda: values.update(victim=run_in_child(strict.runner, victim, timeout=10.0)))
    victim_thread.start()
    values["thief"] = run_in_child(strict.runner, thief, timeout=10.0)
    victim_thread.join()
    seen, stolen, signalled = values["thief"].tolist()
    assert seen >= 3  # bubblewrap's init, the zygote, and other children (the victim, spares)
    assert (stolen, signalled) == (0, 0)
    assert values["victim"].tolist() == [42.0] * 4


# A tree no recursive walk can remove: deeper than Python's recursion limit, longer than
# PATH_MAX as one path, with a locked folder half-way down, plus thousands of files.
DEEP_TREE = textwrap.dedent("""\
    import os
    os.chdir(os.environ['TMPDIR'])  # the child's own temp dir; once per child, not per trial
    if not os.path.exists('f0'):
        for i in range(3000):
            open(f'f{i}', 'w').close()
        for _ in range(1500):
            os.mkdir('d' * 40)
            os.chdir('d' * 40)
            open('f', 'w').close()
        os.chmod('.', 0o500)
        for _ in range(750):
            os.chdir('..')
        os.chmod('d' * 40, 0)
    """)


@pytest.mark.sandbox
def test_a_deep_tree_of_folders_in_every_uids_temp_dir_breaks_no_later_child(strict, card):
    runner = strict.runner
    restarts, pool = runner.restarts, 2 * runner.jobs
    assert strict.grade(card, DEEP_TREE + "return x.relu()").correct
    attacked: set[int] = set()
    for _ in range(8 * pool):  # children take the uids in turn: leave the tree in each of them
        attacked.add(int(run_in_child(runner, DEEP_TREE + "return torch.tensor(os.getuid())", timeout=10.0)))
        if len(attacked) == pool:
            break
    assert len(attacked) == pool
    for seed in range(2 * pool):
        assert strict.grade(card, HONEST, seed=seed).correct
    # A uid comes back to the pool only once its cleaner has emptied its temp dir, which
    # takes a while on a slow disk: run children until every uid has been seen again.
    found: list = []
    deadline = time.monotonic() + 60.0
    while {int(uid) for uid, _ in found} != attacked and time.monotonic() < deadline:
        found.append(run_in_child(runner, "import os\nreturn torch.tensor([os.getuid(), len(os.listdir('.'))])",
                                  timeout=10.0))
    assert {int(uid) for uid, _ in found} == attacked  # every uid's temp dir was seen again...
    assert all(int(entries) == 0 for _, entries in found)  # ...and it was empty
    assert runner.restarts == restarts


def _forged_frame(header_pad: int, payload: int) -> str:
    """An answer that writes its own response frame to the grader's channel, then answers."""
    return textwrap.dedent(f"""\
        import os, stat, struct
        head = b'{{"ok": true, "trials": [], "pad": "' + b'x' * {header_pad} + b'"}}'
        frame = struct.pack('>I', len(head)) + head + struct.pack('>Q', {payload}) + bytes({payload})
        for fd in range(3, 64):  # the channel: a socket (strict) or the reply pipe (own)
            try:
                mode = os.fstat(fd).st_mode
                if stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode):
                    view = memoryview(frame)
                    while view:
                        view = view[os.write(fd, view):]
                    break
            except OSError:
                continue
        return x.relu()""")


# Under the size caps framing applies by default (256 MB, 4 MB), over what an honest runner
# sends for a card of four trials: the tensor bytes cap, or four trials' worth of text.
FORGED = {"payload": _forged_frame(0, MAX_RESULT_BYTES + (1 << 20)),
          "header": _forged_frame(3 << 20, 0)}


@pytest.mark.sandbox
@pytest.mark.parametrize("part", sorted(FORGED))
def test_strict_mode_refuses_a_forged_oversize_response(strict, card, part):
    result = contained(strict, card, FORGED[part])
    assert result.verdict == "error" and "larger than" in result.feedback, result.feedback


@pytest.mark.parametrize("part", sorted(FORGED))
def test_own_mode_refuses_a_forged_oversize_response(own, card, part):
    result = contained(own, card, FORGED[part])
    assert result.verdict == "error" and "larger than" in result.feedback, result.feedback


def test_the_results_of_all_trials_together_stay_under_the_cap():
    chunks: list[bytes] = []
    arg = encode(torch.zeros(1), chunks)
    n = (MAX_RESULT_BYTES // 4) // 4 + 1  # float32 elements: a bit over a quarter of the cap
    header = {"op": "run", "kind": "expr", "code": f"torch.zeros({n})", "argnames": ["x"],
              "trials": [{"args": [arg]} for _ in range(4)]}
    response, payload = handle(header, b"".join(chunks) * 4)
    assert [t["status"] for t in response["trials"]] == ["ok", "ok", "ok", "error"]
    assert "larger than" in response["trials"][3]["error"]
    assert len(payload) <= MAX_RESULT_BYTES
