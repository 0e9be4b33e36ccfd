"""Strict mode's runner: it grades through the sandbox, refuses to run without one, and keeps
children apart. The sandbox itself is proved against attacks in tests/adversarial/."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import torch
from sandbox_helpers import run_in_child

from atlas_quiz.cards import load_deck
from atlas_quiz.grading import Engine, RunnerUnavailable
from atlas_quiz.grading import sandbox as sandbox_mod
from atlas_quiz.grading.confine import wipe
from atlas_quiz.grading.framing import FrameError, recv, send
from atlas_quiz.grading.sandbox import UID_BASE, StrictRunner, bwrap_args, judge_checks
from atlas_quiz.grading.wire import encode
from atlas_quiz.grading.worker import AnswerCrashed

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None,
                                 reason="strict mode needs bubblewrap (bwrap), which is not installed")

DECK = '''
[deck]
name = "Sandbox tests"

[[card]]
id = "sbx.relu"
kind = "expr"
title = "ReLU"
title_zh = "ReLU"
source = "000 §3"
prompt = "Apply ReLU to x."
inputs = { x = "randn(B, n)" }
reference = "torch.relu(x)"
accept = ["x.clamp(min=0)"]
reject = ["x.abs()"]

[[card]]
id = "sbx.shape"
kind = "shape"
title = "Shape"
title_zh = "形状"
source = "000 §3"
prompt = "Shape?"
code = "torch.randn(2, 3).T"
'''


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    """The test deck's cards by id."""
    path = tmp_path_factory.mktemp("deck") / "sandbox.toml"
    path.write_text(DECK)
    return {c.id: c for c in load_deck(path).cards}


# --- judging the self-test (no sandbox needed) ------------------------------------------------

def _good_checks() -> dict:
    return {"interfaces": ["lo"], "visible": [], "child": {
        "uid": UID_BASE, "capabilities": 0, "open a socket": False, "fork": False,
        "run a program": False, "write to /tmp": False, "own temp dir": True}}


def test_a_sound_self_test_is_accepted():
    assert judge_checks(_good_checks(), rootless=False) is None


@pytest.mark.parametrize("change, words", [
    (lambda c: c.update(interfaces=["lo", "eth0"]), "network"),
    (lambda c: c.update(visible=["/etc/passwd"]), "/etc/passwd"),
    (lambda c: c["child"].update({"open a socket": True}), "open a socket"),
    (lambda c: c["child"].update({"write to /tmp": True}), "write to /tmp"),
    (lambda c: c["child"].update(uid=0), "uid 0"),
    (lambda c: c["child"].update(capabilities=1 << 7), "capabilities"),
    (lambda c: c["child"].update({"own temp dir": False}), "temp dir"),
    (lambda c: c.update(child={"error": "OSError: seccomp"}), "seccomp"),
])
def test_a_self_test_that_shows_a_missing_guarantee_is_refused(change, words):
    checks = _good_checks()
    change(checks)
    reason = judge_checks(checks, rootless=False)
    assert reason is not None and words in reason


def test_without_root_the_sandbox_is_a_user_namespace_without_capabilities():
    args = bwrap_args("cpu", rootless=True)
    assert "--unshare-user" in args and "--cap-add" not in args
    assert args[args.index("--cap-drop") + 1] == "ALL"


def test_as_root_children_keep_only_the_capabilities_to_change_uid():
    args = bwrap_args("cpu", rootless=False)
    added = [args[i + 1] for i, a in enumerate(args) if a == "--cap-add"]
    assert sorted(added) == ["CAP_SETGID", "CAP_SETUID"]
    assert "--unshare-net" in args and "--unshare-user" not in args


@needs_bwrap
@pytest.mark.sandbox
@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="no system Python in /usr/bin")
def test_a_python_outside_the_bound_directories_starts_in_the_sandbox():
    args = bwrap_args("cpu", python="/usr/bin/python3")
    run = subprocess.run(["bwrap", *args, "--", "/usr/bin/python3", "-c", "print('started')"],
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "started", run.stderr


# --- failing closed ---------------------------------------------------------------------------

def test_strict_mode_refuses_to_run_without_bubblewrap(monkeypatch):
    monkeypatch.setattr(sandbox_mod.shutil, "which", lambda name: None)
    with pytest.raises(RunnerUnavailable, match="bubblewrap"):
        StrictRunner("cpu")


def test_strict_mode_refuses_to_run_when_bubblewrap_fails():
    runner = StrictRunner("cpu", bwrap="/bin/false")
    try:
        with pytest.raises(RunnerUnavailable, match="did not start"):
            runner.wait_ready(timeout=30)
    finally:
        runner.close()


@needs_bwrap
@pytest.mark.sandbox
def test_strict_mode_refuses_a_sandbox_that_shares_the_network(monkeypatch):
    if [name for _, name in socket.if_nameindex()] == ["lo"]:
        pytest.skip("this machine has no network interface but lo, so sharing it shows nothing")
    real = sandbox_mod.bwrap_args
    monkeypatch.setattr(sandbox_mod, "bwrap_args",
                        lambda *a, **k: [x for x in real(*a, **k) if x != "--unshare-net"])
    runner = StrictRunner("cpu")
    try:
        with pytest.raises(RunnerUnavailable, match="network interfaces"):
            runner.wait_ready()
    finally:
        runner.close()


@needs_bwrap
@pytest.mark.sandbox
def test_strict_mode_refuses_a_sandbox_that_shows_the_home(monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("private")
    monkeypatch.setenv("HOME", str(home))
    real = sandbox_mod.bwrap_args
    monkeypatch.setattr(sandbox_mod, "bwrap_args",
                        lambda *a, **k: [*real(*a, **k)[:-2], "--ro-bind", str(home), str(home),
                                         *real(*a, **k)[-2:]])
    runner = StrictRunner("cpu")
    try:
        with pytest.raises(RunnerUnavailable, match="notes.txt"):
            runner.wait_ready()
    finally:
        runner.close()


@needs_bwrap
@pytest.mark.sandbox
def test_strict_mode_refuses_to_run_without_seccomp(monkeypatch, tmp_path):
    fake = tmp_path / "no-seccomp"
    fake.mkdir()
    (fake / "pyseccomp.py").write_text("raise RuntimeError('Unable to find libseccomp')\n")
    real = sandbox_mod.bwrap_args
    package_parent = str(Path(sandbox_mod.__file__).resolve().parents[2])
    monkeypatch.setattr(sandbox_mod, "bwrap_args", lambda *a, **k: [
        *real(*a, **k)[:-2], "--ro-bind", str(fake), str(fake),
        "--setenv", "PYTHONPATH", f"{fake}:{package_parent}", *real(*a, **k)[-2:]])
    runner = StrictRunner("cpu")
    try:
        with pytest.raises(RunnerUnavailable, match="seccomp is unavailable"):
            runner.wait_ready()
    finally:
        runner.close()


@needs_bwrap
@pytest.mark.sandbox
def test_a_user_namespace_sandbox_that_cannot_limit_threads_is_refused(monkeypatch):
    # As root, a user namespace maps the children to root outside, for whom the kernel does
    # not enforce RLIMIT_NPROC: the self-test sees the thread start and strict mode refuses.
    if os.geteuid() != 0:
        pytest.skip("this simulates the non-root sandbox as root")
    monkeypatch.setattr(sandbox_mod.os, "geteuid", lambda: 1000)
    runner = StrictRunner("cpu", jobs=2)
    try:
        assert runner.jobs == 1  # one shared uid: one child at a time
        with pytest.raises(RunnerUnavailable, match="start a thread"):
            runner.wait_ready()
    finally:
        runner.close()


# --- grading through the sandbox --------------------------------------------------------------

@pytest.mark.sandbox
def test_strict_mode_grades_a_right_and_a_wrong_answer(strict, cards):
    card = cards["sbx.relu"]
    assert strict.grade(card, "x.clamp(min=0)").correct
    wrong = strict.grade(card, "x.abs()")
    assert wrong.verdict == "wrong" and "Known mistake" in wrong.feedback


@pytest.mark.sandbox
def test_grade_many_runs_in_parallel_and_keeps_the_input_order(strict, cards):
    card = cards["sbx.relu"]
    answers = ["x.relu()", "x", "torch.relu(x)", "x.abs()", "x.clamp(min=0)", "-x", "F.relu(x)"]
    results = strict.grade_many([(card, a, seed) for seed, a in enumerate(answers)])
    assert [r.correct for r in results] == [True, False, True, False, True, False, True]


@pytest.mark.sandbox
def test_a_submission_on_the_cpu_is_graded_like_grade_many(strict, cards):
    items = [(cards["sbx.relu"], "x.relu()", 0), (cards["sbx.shape"], "(3, 2)", 0),
             (cards["sbx.relu"], "x * 2", 1)]
    assert [r.verdict for r in strict.grade_submission(items)] == ["correct", "correct", "wrong"]


@pytest.mark.sandbox
def test_each_child_runs_under_an_unprivileged_uid_from_the_pool(strict):
    uid = int(run_in_child(strict.runner, "torch.tensor(__import__('os').getuid())"))
    assert UID_BASE <= uid < UID_BASE + 2 * strict.runner.jobs


@pytest.mark.sandbox
def test_two_children_running_at_once_have_different_uids(strict):
    code = "import os, time\ntime.sleep(0.5)\nreturn torch.tensor(os.getuid())"
    out: list[int] = []
    threads = [threading.Thread(target=lambda: out.append(int(run_in_child(strict.runner, code))))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 2 and out[0] != out[1]


@pytest.mark.sandbox
def test_a_session_child_answers_requests_in_turn_and_is_replaced_after_a_crash(strict):
    pid = "torch.tensor(__import__('os').getpid())"
    with strict.runner.session(wall=30) as child:
        first, second = int(run_in_child(child, pid)), int(run_in_child(child, pid))
        with pytest.raises(AnswerCrashed):
            run_in_child(child, "__import__('os')._exit(5)")
        third = int(run_in_child(child, pid))
    assert first == second != third


@pytest.mark.sandbox
def test_the_zygote_kills_a_child_past_its_wall_clock_deadline(strict):
    runner = strict.runner
    channel, job = runner.open_channel(wall=0.5)
    try:
        chunks: list[bytes] = []
        arg = encode(torch.zeros(1), chunks)
        send(channel.fileno(), {"op": "run", "kind": "expr", "code": "while True:\n    pass\nreturn x",
                                "argnames": ["x"], "trials": [{"args": [arg]}]}, b"".join(chunks))
        with pytest.raises(FrameError):  # no engine-side deadline here: only the zygote's
            recv(channel.fileno(), deadline=time.monotonic() + 60)
        assert runner._exit_status(job, wait=10) == -signal.SIGKILL
    finally:
        channel.close()
        runner.forget(job)


@pytest.mark.sandbox
def test_the_engine_starts_a_fresh_sandbox_when_the_zygote_dies(cards):
    if shutil.which("bwrap") is None:
        pytest.skip("strict mode needs bubblewrap (bwrap), which is not installed")
    with Engine("strict", "cpu", timeout=3.0) as engine:
        engine.start()
        os.killpg(engine.runner._proc.pid, signal.SIGKILL)
        engine.runner._proc.wait()
        deadline = time.monotonic() + 30
        while engine.runner.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the control reader notices the closed socket
        assert engine.grade(cards["sbx.relu"], "x.relu()").correct
        assert engine.runner.restarts == 1


@pytest.mark.gpu
@pytest.mark.sandbox
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_on_cuda_one_child_grades_a_whole_submission(cards):
    with Engine("strict", "cuda", timeout=10.0) as engine:
        engine.start()
        items = [(cards["sbx.relu"], "x.relu()", 0), (cards["sbx.relu"], "x", 1),
                 (cards["sbx.relu"], "F.relu(x)", 2)]
        results = engine.grade_submission(items)
        assert [r.verdict for r in results] == ["correct", "wrong", "correct"]
        pid = "torch.tensor(__import__('os').getpid() + 0 * x.sum().item())"
        with engine.runner.session(wall=60) as child:
            assert int(run_in_child(child, pid)) == int(run_in_child(child, pid))


# --- the zygote's bookkeeping (no sandbox needed) ---------------------------------------------

def test_emptying_a_temp_dir_removes_a_tree_too_deep_to_walk_and_follows_no_link(tmp_path):
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "keep.txt").write_text("not the child's")
    for i in range(2000):
        (work / f"f{i}").touch()
    os.symlink(outside, work / "link")
    fd = os.open(work, os.O_RDONLY)
    for _ in range(1500):  # 1500 levels of 40 characters: 60 kB as one path, past PATH_MAX
        os.mkdir("d" * 40, dir_fd=fd)
        os.close(os.open("f", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
        deeper = os.open("d" * 40, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = deeper
    os.symlink(outside, "link", dir_fd=fd)
    os.close(fd)
    os.chmod(work / ("d" * 40), 0)
    wipe(str(work))
    assert list(work.iterdir()) == []
    assert (outside / "keep.txt").read_text() == "not the child's"


def test_a_spare_that_gets_ready_clears_the_count_of_setup_failures():
    from atlas_quiz.grading.zygote import Zygote, _Child

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    zygote = Zygote(control=None, device="cpu", memory_mb=64, uids=[None], filt=None)
    zygote.setup_failures = 2  # two spares in a row failed to confine themselves...
    zygote.starting[ours.fileno()] = _Child(pid=0, uid=None, link=ours)
    theirs.send(b"ready")  # ...then one got ready
    zygote.spare_ready(ours.fileno())
    assert list(zygote.spares) == [_Child(pid=0, uid=None, link=ours)]
    assert zygote.setup_failures == 0
    ours.close()
    theirs.close()
