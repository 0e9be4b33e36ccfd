"""Hostile answers: in strict mode each is contained and graded not correct, and the engine
grades the next honest answer correctly; in own mode the engine survives them all."""

from __future__ import annotations

import shutil
import signal
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch

from atlas_quiz.cards import load_deck
from atlas_quiz.grading import Engine
from atlas_quiz.grading.runner import MAX_RESULT_BYTES, handle
from atlas_quiz.grading.sandbox import UID_BASE
from atlas_quiz.grading.wire import decode, encode

PACKAGE = Path(__file__).resolve().parents[1] / "atlas_quiz"
HONEST = "x.clamp(min=0)"

DECK = '''
[deck]
name = "Adversarial tests"

[[card]]
id = "adv.relu"
kind = "expr"
title = "ReLU"
title_zh = "ReLU"
source = "000 §3"
prompt = "Apply ReLU to x."
inputs = { x = "randn(B, n)" }
reference = "torch.relu(x)"

[[card]]
id = "adv.log"
kind = "expr"
title = "Logarithm"
title_zh = "对数"
source = "000 §3"
prompt = "The natural logarithm of x (NaN where x < 0)."
inputs = { x = "randn(B, n)" }
reference = "torch.log(x)"
'''

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


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    """The cards of a deck written for this module, by id."""
    path = tmp_path_factory.mktemp("deck") / "adversarial.toml"
    path.write_text(DECK)
    return {c.id: c for c in load_deck(path).cards}


@pytest.fixture(scope="module")
def card(cards):
    """The ReLU card."""
    return cards["adv.relu"]


@pytest.fixture(scope="module")
def strict():
    """One strict engine for the module (3 s per answer, 1 GB per child, two children at once)."""
    if shutil.which("bwrap") is None:
        pytest.skip("strict mode needs bubblewrap (bwrap), which is not installed")
    with Engine("strict", "cpu", timeout=3.0, memory_mb=1024, jobs=2) as engine:
        engine.start()
        yield engine


@pytest.fixture(scope="module")
def own():
    """One own-mode engine for the module, apart from the session's shared one."""
    with Engine("own", "cpu", timeout=2.0, memory_mb=1024) as engine:
        engine.start()
        yield engine


def _contained(engine: Engine, card, answer: str, seed: int = 0):
    """Grade a hostile answer, then check that the next honest answer is still graded correct."""
    result = engine.grade(card, answer, seed=seed)
    after = engine.grade(card, HONEST, seed=seed + 1)
    assert after.correct, f"the engine stopped serving: {after.verdict}: {after.feedback}"
    return result


@pytest.mark.sandbox
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_strict_mode_contains_the_attack(strict, card, name):
    result = _contained(strict, card, ATTACKS[name])
    assert not result.correct, f"{name} was graded correct"


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_own_mode_survives_the_attack(own, card, name):
    result = _contained(own, card, ATTACKS[name])
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
    result = _contained(strict, card, f"return x.relu() + len(open({str(secret)!r}).read())")
    assert result.verdict == "error" and "FileNotFoundError" in result.feedback


@pytest.mark.sandbox
@pytest.mark.parametrize("target", ["tmp_path", "package", "/tmp", "/dev/shm", "/"])
def test_strict_answers_cannot_write_outside_their_temp_dir(strict, card, tmp_path, target):
    where = {"tmp_path": tmp_path, "package": PACKAGE}.get(target, Path(target))
    path = where / "pwned-by-an-answer.py"
    result = _contained(strict, card, f"open({str(path)!r}, 'w').write('x')\nreturn x.relu()")
    assert result.verdict == "error"
    assert not path.exists()


def test_own_mode_survives_an_answer_that_writes_files(own, card, tmp_path):
    path = tmp_path / "written.txt"
    _contained(own, card, f"open({str(path)!r}, 'w').write('x')\nreturn x.relu()")


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
    result = _contained(strict, card, reader)
    assert result.verdict == "wrong"


def _run_value(runner, code: str):
    """Run ``code`` in a sandboxed child and return what it returned."""
    chunks: list[bytes] = []
    arg = encode(torch.zeros(1), chunks)
    header = {"op": "run", "kind": "expr", "code": code, "argnames": ["x"], "trials": [{"args": [arg]}]}
    response, payload = runner.run(header, b"".join(chunks), 10.0)
    trial = response["trials"][0]
    assert trial["status"] == "ok", trial.get("error")
    return decode(trial["value"], payload)[0]


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
    victim_thread = threading.Thread(target=lambda: values.update(victim=_run_value(strict.runner, victim)))
    victim_thread.start()
    values["thief"] = _run_value(strict.runner, thief)
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
        attacked.add(int(_run_value(runner, DEEP_TREE + "return torch.tensor(os.getuid())")))
        if len(attacked) == pool:
            break
    assert len(attacked) == pool
    for seed in range(2 * pool):
        assert strict.grade(card, HONEST, seed=seed).correct
    found = [_run_value(runner, "import os\nreturn torch.tensor([os.getuid(), len(os.listdir('.'))])")
             for _ in range(2 * pool)]
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
    result = _contained(strict, card, FORGED[part])
    assert result.verdict == "error" and "larger than" in result.feedback, result.feedback


@pytest.mark.parametrize("part", sorted(FORGED))
def test_own_mode_refuses_a_forged_oversize_response(own, card, part):
    result = _contained(own, card, FORGED[part])
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


# --- odd return values: read, judged, never graded correct, never an engine failure ---------

ODD_RETURNS = {
    "sparse": "return x.relu().to_sparse()",
    "meta": "return x.relu().to('meta')",
    "complex": "return torch.complex(x.relu(), torch.zeros_like(x))",
    "quantized": "return torch.quantize_per_tensor(x.relu(), 0.1, 0, torch.quint8)",
    "nested": "return torch.nested.nested_tensor(list(x.relu()))",
    "zero-stride view of 1e12": "return torch.zeros(1).expand(10**12)",
    "0-dim": "return x.relu().sum()",
    "_make_subclass": "class S(torch.Tensor):\n    pass\nreturn torch.Tensor._make_subclass(S, x.relu())",
    "lying __torch_function__": "class L(torch.Tensor):\n    @classmethod\n"
                                "    def __torch_function__(cls, f, t, a=(), k=None):\n"
                                "        return torch.zeros(3)\nreturn x.relu().as_subclass(L)",
    "fake __class__": "class T:\n    __class__ = property(lambda s: torch.Tensor)\nreturn T()",
    "numpy array": "return x.relu().numpy()",
    "generator": "return (row for row in x.relu())",
    "None": "return None",
    "empty 0 x 1e12": "return torch.empty(0, 10**12)",
    "float8": "return x.relu().to(torch.float8_e4m3fn)",
    "uint16": "return x.relu().to(torch.uint16)",
    "uint32": "return x.relu().to(torch.uint32)",
    "uint64": "return x.relu().to(torch.uint64)",
    "bfloat16": "return x.relu().bfloat16()",
    "bool": "return x.relu() > 0",
    "int of 100000 digits": "return 10**100000",
    "string of 1e8 characters": "return 'a' * 10**8",
    "tuple nested 100000 deep": "v = x.relu()\nfor _ in range(100000):\n    v = (v,)\nreturn v",
    "list of 1e7 items": "return [x.relu()] * 10**7",
    "list whose iteration never ends": "class L(list):\n    def __iter__(self):\n        while True:\n"
                                       "            yield 1\nreturn L([x.relu()])",
    "tuple that fails half-way": "return (x.relu(), x.relu().to_sparse())",
}


@pytest.mark.parametrize("mode, name", [
    *(("own", name) for name in sorted(ODD_RETURNS)),
    *(pytest.param("strict", name, marks=pytest.mark.sandbox) for name in sorted(ODD_RETURNS))])
def test_an_odd_return_value_is_graded_not_correct(request, card, mode, name):
    result = _contained(request.getfixturevalue(mode), card, ODD_RETURNS[name])
    assert result.verdict in ("wrong", "error", "timeout"), result.feedback


@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64", "float8_e4m3fn"])
def test_a_tensor_of_an_unusual_dtype_is_a_wrong_dtype(own, card, dtype):
    result = own.grade(card, f"x.relu().to(torch.{dtype})")
    assert result.verdict == "wrong" and f"got torch.{dtype}" in result.feedback, result.feedback


# Odd but right: the value is what the card asks for, whatever its layout or autograd history.
ODD_BUT_RIGHT = {
    "non-contiguous": "x.relu().T.contiguous().T",
    "requires_grad with a grad_fn": "(x.detach().requires_grad_() * 1).relu()",
    "a Parameter": "nn.Parameter(x.relu())",
    "plain tensor from _make_subclass": "torch.Tensor._make_subclass(torch.Tensor, x.relu())",
    "a view into a zero-stride expand": "x.relu().unsqueeze(0).expand(3, -1, -1)[1]",
}


@pytest.mark.parametrize("name", sorted(ODD_BUT_RIGHT))
def test_an_odd_but_right_tensor_is_graded_correct(own, card, name):
    result = own.grade(card, ODD_BUT_RIGHT[name])
    assert result.correct, result.feedback


@pytest.mark.parametrize("mode", ["own", pytest.param("strict", marks=pytest.mark.sandbox)])
def test_inf_where_the_reference_has_nan_is_wrong(request, cards, mode):
    engine = request.getfixturevalue(mode)
    answer = "y = torch.log(x)\nreturn torch.where(y.isnan(), torch.full_like(y, float('inf')), y)"
    result = engine.grade(cards["adv.log"], answer)
    assert result.verdict == "wrong" and "NaN in the wrong place" in result.feedback, result.feedback


# --- state one answer leaves for the next (own mode keeps one warm process) ------------------

BY_AUTOGRAD = "y = x.detach().requires_grad_()\nreturn torch.autograd.grad((y.clamp(min=0) ** 2).sum() / 2, y)[0]"
SLOW = "import time\ntime.sleep(0.3)\nreturn x.clamp(min=0)"  # 1.2 s over four trials
BUSY = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\nreturn x.clamp(min=0)"
FRESH = "torch.zeros(x.shape) + x.clamp(min=0)"  # a tensor made from defaults
# name -> (what the answer leaves behind, an honest answer it would break)
LEAKS = {
    "default dtype": ("torch.set_default_dtype(torch.float64)", FRESH),
    "default device": ("torch.set_default_device('meta')", FRESH),
    "grad mode off": ("torch.set_grad_enabled(False)", BY_AUTOGRAD),
    "inference mode entered": ("torch.inference_mode().__enter__()", BY_AUTOGRAD),
    "autocast entered": ("torch.autocast('cpu', dtype=torch.bfloat16).__enter__()",
                         "(x @ torch.eye(x.shape[1])).clamp(min=0)"),
    "function mode entered": ("class M(torch.overrides.TorchFunctionMode):\n"
                              "    def __torch_function__(self, f, t, a=(), k=None):\n"
                              "        return torch.zeros(1)\nM().__enter__()", HONEST),
    "dispatch mode entered": ("from torch.utils._python_dispatch import TorchDispatchMode\n"
                              "class M(TorchDispatchMode):\n"
                              "    def __torch_dispatch__(self, f, t, a=(), k=None):\n"
                              "        return torch.zeros(1)\nM().__enter__()", HONEST),
    "operator overridden": ("import sys\nlib = torch.library.Library('aten', 'IMPL')\n"
                            "lib.impl('clamp', lambda *a, **k: torch.zeros(1), 'CPU')\n"
                            "sys.modules['kept alive'] = lib", HONEST),
    "alarm set": ("import signal\nsignal.alarm(1)", SLOW.replace("0.3", "0.4")),
    "interval timer set": ("import signal\nsignal.setitimer(signal.ITIMER_REAL, 0.5)", SLOW),
    "faulthandler exit later": ("import faulthandler, sys\n"
                                "faulthandler.dump_traceback_later(0.5, exit=True, file=sys.__stderr__)", SLOW),
    "memory limit lowered": ("import resource\nwith open('/proc/self/statm') as f:\n"
                             "    now = int(f.read().split()[0]) * 4096\n"
                             "resource.setrlimit(resource.RLIMIT_AS, (now + (16 << 20), -1))",
                             "torch.ones(1 << 24).sum() * 0 + x.clamp(min=0)"),
    "CPU limit lowered": ("import resource, time\n"
                          "resource.setrlimit(resource.RLIMIT_CPU, (int(time.process_time()) + 1, -1))", BUSY),
    "answer scope patched": ("import sys\nsys.modules['atlas_quiz.grading.program'].scope = "
                             "lambda: {'__builtins__': {}}", HONEST),
    "warnings made errors": ("import warnings\nwarnings.simplefilter('error')",
                             "import warnings\nwarnings.warn('a note')\nreturn x.clamp(min=0)"),
    "module class patched": ("nn.ReLU.forward = lambda self, t: t", "nn.ReLU()(x)"),
    "autograd function patched": ("torch.autograd.grad = lambda *a, **k: (torch.zeros(1),)", BY_AUTOGRAD),
}


def _leaves_behind(name: str) -> str:
    return LEAKS[name][0] + "\nreturn x.relu()"


@pytest.mark.parametrize("mode, name", [
    *(("own", name) for name in sorted(LEAKS)),
    *(pytest.param("strict", name, marks=pytest.mark.sandbox) for name in sorted(LEAKS))])
def test_an_answer_leaves_nothing_behind_for_the_next(request, monkeypatch, card, mode, name):
    engine = request.getfixturevalue(mode)
    monkeypatch.setattr(engine, "timeout", 10.0)  # the slow honest answers, on a busy machine
    engine.grade(card, _leaves_behind(name))
    result = engine.grade(card, LEAKS[name][1], seed=1)
    assert result.correct, f"{result.verdict}: {result.feedback}"


def test_own_mode_answers_cannot_signal_the_app(own, card):
    received = []
    previous = signal.signal(signal.SIGUSR1, lambda *_: received.append(True))
    try:
        result = own.grade(card, "import os, signal\nos.kill(os.getppid(), signal.SIGUSR1)\nreturn x.relu()")
        time.sleep(0.2)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert received == [] and "PermissionError" in result.feedback, result.feedback


# --- frames an answer writes to the grader's channel itself ----------------------------------

def _frame_writer(make_head: str) -> str:
    """An answer that finds its request's sequence number (``seq``) up the stack, writes a frame
    whose header ``make_head`` builds from it to the grader's channel, then answers."""
    return textwrap.dedent("""\
        import json, os, stat, struct, sys
        f, seq = sys._getframe(), None
        while f is not None and seq is None:
            h = f.f_locals.get('header')
            seq = h.get('seq') if isinstance(h, dict) else None
            f = f.f_back
        head = MAKE_HEAD
        frame = struct.pack('>I', len(head)) + head + struct.pack('>Q', 0)
        for fd in range(3, 64):
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode) or stat.S_ISFIFO(os.fstat(fd).st_mode):
                    os.write(fd, frame)
                    break
            except OSError:
                continue
        return x.relu()""").replace("MAKE_HEAD", make_head)


def _forged(response: str) -> str:
    return _frame_writer(f"json.dumps(dict({response}, seq=seq)).encode()")


def _tensors(dtype: str, shape: str) -> str:
    """Four trials' worth of a tensor description with no bytes behind it."""
    tensor = f"{{'t': 'tensor', 'dtype': {dtype!r}, 'shape': {shape}, 'nbytes': 0}}"
    return _forged(f"ok=True, trials=[{{'status': 'ok', 'value': {tensor}}}] * 4")


FORGED_REPLIES = {  # each carries the request's own sequence number
    "an empty reply": _forged("ok=True, trials=[]"),
    "an unknown dtype": _tensors("no", "[0]"),
    "a negative size": _tensors("float32", "[-1, 0]"),
    "100 dimensions": _tensors("float32", "[0] * 100"),
    "digests not a mapping": _forged("ok=True, trials=[{'status': 'ok', 'value': {'t': 'none'}, "
                                     "'digests': [1]}] * 4"),
    "trials not a list": _forged("ok=True, trials=5"),
    "a value with no description": _forged("ok=True, trials=[{'status': 'ok'}] * 4"),
    "nesting deeper than decoding goes": _forged(
        "ok=True, trials=[json.loads('{\"t\": \"tuple\", \"items\": [' * 5000 + '{\"t\": \"none\"}'"
        " + ']}' * 5000)] * 4"),
    "a line that is not a number": _forged("ok=True, compile_error='x', line='L' * 100000"),
    "JSON nested past the parser's depth": _frame_writer("b'[' * 100000 + b']' * 100000"),
    "a number of 5000 digits": _frame_writer("b'{\"n\": ' + b'1' * 5000 + b'}'"),
    "a reply without a sequence number": _frame_writer("b'{\"ok\": true, \"trials\": []}'"),
}


@pytest.mark.parametrize("mode, name", [
    *(("own", name) for name in sorted(FORGED_REPLIES)),
    *(pytest.param("strict", name, marks=pytest.mark.sandbox) for name in sorted(FORGED_REPLIES))])
def test_a_forged_reply_is_judged_never_trusted(request, card, mode, name):
    result = _contained(request.getfixturevalue(mode), card, FORGED_REPLIES[name])
    assert result.verdict in ("wrong", "error") and len(result.feedback) < 3000, result.feedback


@pytest.mark.sandbox
def test_a_forged_reply_in_a_session_child_does_not_answer_the_next_item(strict, card):
    with strict.runner.session(wall=60) as child:
        strict._grade(card, FORGED_REPLIES["an empty reply"], 0, child)
        result = strict._grade(card, HONEST, 1, child)
    assert result.correct, result.feedback
