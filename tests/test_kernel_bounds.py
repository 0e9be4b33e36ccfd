"""Under Triton's interpreter every load and store of a kernel card's launch stays in bounds.

A load past the end whose lanes a masked store then drops changes nothing the guard
bands can see, yet on a GPU it can fault or read another tensor: the interpreter's
loads are checked as they run (grading/kernel_bounds.py). Grading runs in the
engine's worker; what must be seen inside a process that runs Triton (the hook is
gone after the launch) runs in a child process, as Triton is imported in one mode
per process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from atlas_quiz.cards import load_deck
from atlas_quiz.paths import builtin_decks_dir

pytest.importorskip("triton")

CARDS = {c.id: c for c in load_deck(builtin_decks_dir() / "kernels_triton.toml").cards}

UNMASKED_LOADS = """
pid = tl.program_id(0)
offs = pid * BLOCK + tl.arange(0, BLOCK)
x = tl.load(x_ptr + offs)
y = tl.load(y_ptr + offs)
tl.store(out_ptr + offs, x + y, mask=offs < n)
"""


def _trial_dims(feedback: str) -> dict[str, int]:
    """The dimension sizes of the trial a feedback reports, e.g. ``n=25``."""
    context = re.search(r"\(trial \d+ of \d+, \w+: (.*)\)", feedback)
    assert context, feedback
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", context.group(1))}


def test_an_unmasked_load_before_a_masked_store_is_a_fault_that_names_the_load(engine):
    res = engine.grade(CARDS["kernel.vector_add"], UNMASKED_LOADS, seed=0)
    assert res.verdict == "error", res.feedback
    n = _trial_dims(res.feedback)["n"]
    last = (n - 1) // 16  # the first program whose block runs past n - 1
    assert f"line 3: KernelFault at x_ptr[{n}] (load, program {last}): a load read past the end " \
           f"of the tensor at x_ptr ({n} elements): mask every load" in res.feedback
    assert res.mistake and res.mistake.startswith("the loads have no mask")


def test_a_load_masked_but_with_the_wrong_other_is_graded_on_its_values(engine):
    card = CARDS["kernel.softmax_row"]
    zero_other = card.reference.replace('other=-float("inf")', "other=0.0")
    assert zero_other != card.reference
    res = engine.grade(card, zero_other, seed=0)
    assert res.verdict == "wrong" and "KernelFault" not in res.feedback
    assert res.mistake and res.mistake.startswith("other=0.0")


def test_a_row_read_through_a_wrong_stride_is_a_fault_in_the_row_before(engine):
    card = CARDS["kernel.softmax_row"]
    packed = card.reference.replace("x_ptr + row * x_row_stride", "x_ptr + row * n_cols")
    assert packed != card.reference
    res = engine.grade(card, packed, seed=0)
    n = _trial_dims(res.feedback)["n"]
    # Program 1 reads row 1 where a packed row 1 would be: in the padding after row 0.
    assert res.verdict == "error"
    assert f"KernelFault at x_ptr[0, {n}] (load, program 1): a load read past the end of a row" \
        in res.feedback


def test_a_row_index_past_the_last_row_is_a_fault_outside_the_rows(engine):
    card = CARDS["kernel.softmax_row"]
    shifted = card.reference.replace("row = tl.program_id(0)", "row = tl.program_id(0) + 1")
    res = engine.grade(card, shifted, seed=0)
    rows = _trial_dims(res.feedback)["R"]
    assert f"KernelFault at x_ptr[{rows}, 0] (load, program {rows - 1}): a load read outside " \
           "the rows" in res.feedback


def test_a_store_far_outside_every_tensor_is_stopped_before_it_writes(engine):
    body = ("offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)\n"
            "x = tl.load(x_ptr + offs, mask=offs < n)\n"
            "tl.store(out_ptr + offs + (1 << 40), x, mask=offs < n)\n")
    res = engine.grade(CARDS["kernel.vector_add"], body, seed=0)
    assert res.verdict == "error"
    assert "(store, program 0): a store wrote past the end of the tensor at out_ptr" in res.feedback
    assert "outside every tensor the kernel was given" in res.feedback
    assert engine.grade(CARDS["kernel.vector_add"], CARDS["kernel.vector_add"].reference).correct


def test_a_store_past_the_output_keeps_the_guard_bands_wording(engine):
    card = CARDS["kernel.softmax_row"]
    (no_store_mask,) = [r for r in card.reject if r.why.startswith("the store has no mask")]
    res = engine.grade(card, no_store_mask.answer, seed=0)
    n = _trial_dims(res.feedback)["n"]
    assert f"KernelFault at [0, {n}]: the kernel stored past the end of a row" in res.feedback


CHILD = r'''
import json, sys, tempfile, textwrap, torch
from atlas_quiz.grading.kernel import build_kernel_answer, prepare
prepare("cpu")
from triton.runtime.interpreter import interpreter_builder as builder

HOOKED = ("create_masked_load", "create_masked_store")
card = json.loads(sys.argv[1])
header = {"signature": card["signature"], "launcher": card["launcher"], "argnames": ["x", "y", "n"],
          "device": "cpu"}
x, y = torch.randn(21), torch.randn(21)
out = {}
for label, body in (("correct", card["reference"]), ("unmasked", card["unmasked"])):
    run = build_kernel_answer({**header, "code": body})
    try:
        out[label] = torch.equal(run(x, y, 21), x + y)
    except Exception as exc:
        out[label] = getattr(exc, "answer_message", None) or repr(exc)
    out[label + " hooked after"] = [n for n in HOOKED if n in vars(builder)]

# A kernel outside grading, launched by Triton itself: its unmasked read of the 5 elements after
# the view (inside the same storage) is allowed, as it always was.
source = textwrap.dedent("""
    import triton
    import triton.language as tl

    @triton.jit
    def plain(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        tl.store(out_ptr + offs, tl.load(x_ptr + offs) * 2, mask=offs < n)
""")
with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
    f.write(source)
import importlib.util
spec = importlib.util.spec_from_file_location("plain_kernel", f.name)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
storage = torch.arange(16, dtype=torch.float32)
view, result = storage[:11], torch.zeros(11)
module.plain[(1,)](view, result, 11, BLOCK=16)
out["plain"] = torch.equal(result, view * 2)
print(json.dumps(out))
'''


def test_the_check_is_gone_after_a_graded_launch_and_a_plain_launch_is_untouched(tmp_path):
    card = CARDS["kernel.vector_add"]
    spec = {"signature": card.signature, "launcher": card.launcher, "reference": card.reference,
            "unmasked": textwrap.dedent(UNMASKED_LOADS)}
    env = {**os.environ, "TRITON_INTERPRET": "1", "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["correct"] is True
    assert str(out["unmasked"]).startswith("KernelFault at x_ptr[21] (load, program 1): ")
    assert out["correct hooked after"] == [] and out["unmasked hooked after"] == []
    assert out["plain"] is True
