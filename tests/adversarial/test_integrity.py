"""The grader's integrity: odd return values are judged, never trusted; an answer leaves nothing
behind for the next one; frames an answer writes to the grader's channel answer nothing."""

from __future__ import annotations

import signal
import textwrap
import time

import pytest
from attack_kit import HONEST, contained

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
    result = contained(request.getfixturevalue(mode), card, ODD_RETURNS[name])
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
    result = contained(request.getfixturevalue(mode), card, FORGED_REPLIES[name])
    assert result.verdict in ("wrong", "error") and len(result.feedback) < 3000, result.feedback


@pytest.mark.sandbox
def test_a_forged_reply_in_a_session_child_does_not_answer_the_next_item(strict, card):
    with strict.runner.session(wall=60) as child:
        strict._grade(card, FORGED_REPLIES["an empty reply"], 0, child)
        result = strict._grade(card, HONEST, 1, child)
    assert result.correct, result.feedback
