"""``python -m atlas_quiz.bench startup``: from launching ``atlas-quiz review`` to the first card drawn.

The app runs in a real pseudo-terminal with the hidden ``--first-card-mark``
flag: it writes the wall time once the first card has been painted, then
exits. Baselines, same run: ``python -c pass`` (the interpreter) and
``python -c "import textual"`` (the floor of any Textual app). Also timed:
how long the grading service takes to be ready (torch, in the background)
beside ``python -c "import torch"``. Target: first card under 0.5 s.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

__all__ = ["main", "time_first_card", "time_process"]

TARGET_S = 0.5


def time_process(argv: list[str]) -> float:
    """Wall seconds of one process from launch to exit."""
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _drain(fd: int) -> None:
    """Read the terminal's output so the app never blocks on a full pty."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def time_first_card(db: Path, mark: Path, size: tuple[int, int] = (110, 40),
                    timeout: float = 120.0) -> tuple[float, float]:
    """(seconds to the first card painted, seconds to process exit) for one review launch.

    An app that has not exited within ``timeout`` seconds is killed and its
    terminal closed before the error is raised: a failed run leaves nothing behind.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    mark.unlink(missing_ok=True)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])}
    cmd = [sys.executable, "-m", "atlas_quiz", "review", "--db", str(db), "--device", "cpu",
           "--first-card-mark", str(mark)]
    reader = threading.Thread(target=_drain, args=(master,), daemon=True)
    reader.start()
    t_wall, t0 = time.time(), time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    try:
        proc.wait(timeout=timeout)
        total = time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the review app did not exit within {timeout:g} s") from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the app and its process group
            proc.wait()
        reader.join(timeout=5)  # it stops when the terminal's last writer has gone
        os.close(master)
    if proc.returncode != 0 or not mark.exists():
        raise RuntimeError(f"the review app exited with {proc.returncode} without drawing a card")
    return float(mark.read_text()) - t_wall, total


def _grader_ready_s() -> float:
    from ..grading.client import GradingClient

    t0 = time.perf_counter()
    with GradingClient("cpu") as client:
        client.wait_ready()
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Time first-card latency (best, median of ``--repeat``) beside the baselines."""
    parser = argparse.ArgumentParser(prog="python -m atlas_quiz.bench startup")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-grader", action="store_true", help="skip timing the grading service")
    args = parser.parse_args(argv)
    py = sys.executable
    # As on an ordinary install, Python keeps the bytecode it compiles: the warm-up launch writes
    # atlas_quiz's, later launches read it. Where the environment forbids that (some sandboxes
    # and CI images set PYTHONDONTWRITEBYTECODE), every launch would time the compiler (~90 ms).
    no_bytecode = os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None
    with tempfile.TemporaryDirectory() as tmp:
        db, mark = Path(tmp) / "bench.db", Path(tmp) / "mark"
        subprocess.run([py, "-m", "atlas_quiz", "deck", "build", "--db", str(db)], check=True,
                       stdout=subprocess.DEVNULL)
        time_first_card(db, mark)  # warm the page cache and sync the decks once
        runs = {"python -c pass": [], "python -c 'import textual'": [], "first card": [],
                "review launch to exit": []}
        for _ in range(args.repeat):
            runs["python -c pass"].append(time_process([py, "-c", "pass"]))
            runs["python -c 'import textual'"].append(time_process([py, "-c", "import textual"]))
            first, total = time_first_card(db, mark)
            runs["first card"].append(first)
            runs["review launch to exit"].append(total)
    if not args.no_grader:
        runs["python -c 'import torch'"] = [time_process([py, "-c", "import torch"])]
        runs["grader ready (service + worker)"] = [_grader_ready_s()]
    print(f"{args.repeat} runs; target: first card under {TARGET_S * 1000:.0f} ms"
          + ("; PYTHONDONTWRITEBYTECODE was set: unset for these runs" if no_bytecode else "") + "\n")
    print(f"{'what':34} {'best ms':>9} {'median ms':>10}")
    for name, values in runs.items():
        print(f"{name:34} {min(values) * 1000:9.0f} {statistics.median(values) * 1000:10.0f}")
    med = {k: round(statistics.median(v) * 1000, 1) for k, v in runs.items()}
    first = med["first card"]
    print(json.dumps({"benchmark": "startup", "runs": args.repeat, "first_card_ms": first,
                      "first_card_best_ms": round(min(runs["first card"]) * 1000, 1),
                      "python_pass_ms": med["python -c pass"],
                      "import_textual_ms": med["python -c 'import textual'"],
                      "launch_to_exit_ms": med["review launch to exit"],
                      "import_torch_ms": med.get("python -c 'import torch'"),
                      "grader_ready_ms": med.get("grader ready (service + worker)"),
                      "target_ms": TARGET_S * 1000, "under_target": first < TARGET_S * 1000}))
    return 0
