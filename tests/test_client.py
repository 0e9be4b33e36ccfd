"""The torch-free grading client and the service process it starts."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import pytest
from silent_service import requests_seen, silent_service

from atlas_quiz.cards import Card
from atlas_quiz.grading.client import GraderClosed, GraderUnavailable, GradingClient

RELU = Card(id="t.relu", kind="expr", title="ReLU", title_zh="线性整流", source="000 §3.1",
            prompt="Apply ReLU to x.", inputs={"x": "randn(B, d)"}, reference="torch.relu(x)")
SUM_KEEPDIM = Card(id="t.sum", kind="output", title="Sum", title_zh="求和", source="002 §2",
                   prompt="What does this print?",
                   code="torch.arange(6).reshape(2, 3).sum(1, keepdim=True)")


@pytest.fixture(scope="module")
def client():
    """One real service for the module (it takes seconds to import torch)."""
    with GradingClient("cpu") as c:
        c.start()
        yield c


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); its state in /proc says it has exited.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_importing_the_client_does_not_import_torch():
    code = ("import sys, atlas_quiz.grading.client as c; c.GradingClient('cpu'); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_an_answer_sent_while_the_service_starts_is_graded_once_it_is_ready():
    with GradingClient("cpu") as c:
        c.start()
        assert c.status == "starting"
        result = c.grade(RELU, "x.clamp(min=0)", seed=3)
        assert c.status == "ready"
    assert result.verdict == "correct"


def test_expr_answers_are_graded_through_the_warm_worker(client):
    right = client.grade(RELU, "torch.maximum(x, torch.zeros_like(x))", seed=1)
    wrong = client.grade(RELU, "x.abs()", seed=1)
    assert right.correct
    assert wrong.verdict == "wrong"
    assert "error" in wrong.feedback or "expected" in wrong.feedback


def test_output_answers_keep_the_feedback_of_the_engine(client):
    result = client.grade(SUM_KEEPDIM, "tensor([3, 12])", seed=0)
    assert result.verdict == "wrong"
    assert "(2, 1)" in result.feedback or "shape" in result.feedback


def test_a_killed_service_is_restarted_by_the_next_grade(client):
    client.wait_ready()
    pid = client.info["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while client.status != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.status == "failed"
    assert "SIGKILL" in client.error
    assert client.grade(RELU, "F.relu(x)", seed=2).correct
    assert client.info["pid"] != pid


def test_a_card_whose_reference_fails_is_an_error_not_a_dead_service(client):
    broken = RELU.with_changes(id="t.broken", reference="undefined_name(x)")
    with pytest.raises(GraderUnavailable, match="could not grade"):
        client.grade(broken, "x", seed=0)
    assert client.grade(RELU, "x.relu()", seed=0).correct


def test_closing_the_client_stops_the_service_and_its_worker():
    c = GradingClient("cpu")
    c.wait_ready()
    service = c.info["pid"]
    worker = int(subprocess.run(["pgrep", "-P", str(service)], capture_output=True,
                                text=True).stdout.split()[0])
    c.close()
    deadline = time.monotonic() + 10
    while (_alive(service) or _alive(worker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(service)
    assert not _alive(worker)


def test_a_service_that_cannot_start_says_why():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: asking for cuda would succeed")
    with GradingClient("cuda") as c, pytest.raises(GraderUnavailable, match="CUDA"):
        c.wait_ready(timeout=120)
    assert c.status == "stopped"


def test_closing_while_it_starts_wakes_whoever_waits_for_it():
    import threading

    outcome: list[BaseException] = []
    c = GradingClient("cpu")
    c.start()

    def wait() -> None:
        try:
            c.wait_ready()
        except GraderUnavailable as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    c.close()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert len(outcome) == 1


def _grade_in_thread(client: GradingClient, folder) -> tuple[threading.Thread, list[BaseException]]:
    """Send one answer from a thread (as the review screen does); return once the service has it."""
    outcome: list[BaseException] = []

    def grade() -> None:
        try:
            client.grade(RELU, "x.relu()", seed=0)
        except GraderUnavailable as exc:
            outcome.append(exc)

    thread = threading.Thread(target=grade)
    thread.start()
    deadline = time.monotonic() + 10
    while "grade" not in requests_seen(folder) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert requests_seen(folder) == ["grade"]
    return thread, outcome


def test_closing_ends_a_grade_still_waiting_for_its_reply_at_once(tmp_path):
    c = GradingClient("cpu", python=silent_service(tmp_path))
    c.wait_ready()
    thread, outcome = _grade_in_thread(c, tmp_path)
    c.close()
    thread.join(timeout=10)  # not the grade's own limit of a minute and more
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], GraderClosed)


def test_a_grade_waiting_on_a_service_that_dies_says_why_and_is_not_a_close(tmp_path):
    with GradingClient("cpu", python=silent_service(tmp_path)) as c:
        c.wait_ready()
        thread, outcome = _grade_in_thread(c, tmp_path)
        os.kill(c.info["pid"], signal.SIGKILL)
        thread.join(timeout=10)
        assert not thread.is_alive()
        assert not isinstance(outcome[0], GraderClosed)
        assert "SIGKILL" in str(outcome[0])


def test_a_restart_closes_the_pipes_and_log_of_the_service_it_replaces(tmp_path):
    # A pipe or file dropped without close() is closed by the garbage collector, which says
    # so with a ResourceWarning: the client must have closed each one itself.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with GradingClient("cpu", python=silent_service(tmp_path)) as c:
            c.wait_ready()
            first = c.info["pid"]
            for _ in range(3):
                os.kill(c.info["pid"], signal.SIGKILL)
                deadline = time.monotonic() + 10
                while c.status != "failed" and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert c.status == "failed"
                c.start()
                c.wait_ready()
            assert c.info["pid"] != first
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
