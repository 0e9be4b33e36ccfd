"""Kernel cards: the deck proves itself, mistakes are named, errors point at the body's line.

Answers run in the engine's worker process, which selects Triton's interpreter
itself on the CPU; this process never imports Triton.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from atlas_quiz.cards import AnswerSyntaxError, DeckError, check_syntax, load_deck
from atlas_quiz.cards.answers import check_kernel_body
from atlas_quiz.grading.kernel_guards import Guards, KernelFault
from atlas_quiz.paths import builtin_decks_dir

DECK = builtin_decks_dir() / "kernels_triton.toml"
CARDS = {c.id: c for c in load_deck(DECK).cards}


def test_the_deck_has_at_least_ten_kernel_cards_with_sources_and_explanations():
    kernels = [c for c in CARDS.values() if c.kind == "kernel"]
    assert len(kernels) >= 10
    for card in kernels:
        assert card.title_zh and card.explain and card.source.startswith(("000 §", "004 §"))
        assert card.reject, f"{card.id} proves no classic mistake"


@pytest.mark.parametrize("card_id", sorted(CARDS))
def test_card_proves_and_names_each_mistake_as_itself(card_id, engine):
    card = CARDS[card_id]
    for answer in (card.reference, *card.accept):
        res = engine.grade(card, answer, seed=0)
        assert res.correct, f"{answer}\n-> {res.feedback}"
    for reject in card.reject:
        res = engine.grade(card, reject.answer, seed=0)
        assert not res.correct, f"graded correct: {reject.answer}"
        assert res.mistake == reject.why, f"named {res.mistake!r} for {reject.answer}"


@pytest.mark.slow
@pytest.mark.parametrize("card_id, why", [
    ("kernel.softmax_online", "when the max grows"),
    ("kernel.cross_entropy_online", "when the max grows"),
    ("kernel.attention_causal_row", "rescale it by exp(m_old - m_new)"),
])
def test_a_missing_rescale_of_the_running_sum_fails_on_every_seed(card_id, why, engine):
    # It is caught only where some row's max grows after its first tile: the cards' tile
    # sizes make that happen in every grade, not in most.
    card = CARDS[card_id]
    (mistake,) = [r for r in card.reject if why in r.why]
    passed = [seed for seed in range(30) if engine.grade(card, mistake.answer, seed=seed).correct]
    assert not passed, f"graded correct on seeds {passed}"


def test_an_error_in_the_body_is_reported_at_its_line(engine):
    card = CARDS["kernel.softmax_row"]
    body = "row = tl.program_id(0)\ncols = tl.arange(0, BLOCK)\nx = tl.load(x_ptr + colz)\n"
    res = engine.grade(card, body, seed=0)
    assert res.verdict == "error"
    assert res.feedback.startswith("line 3: NameError: name 'colz' is not defined")


def test_a_syntax_error_in_the_body_is_reported_at_its_line(engine):
    res = engine.grade(CARDS["kernel.vector_add"], "pid = tl.program_id(0)\noffs = (pid *\n", seed=0)
    assert res.verdict == "error" and res.stage == "parse"
    assert "line 2" in res.feedback


def test_a_kernel_that_stores_nothing_is_told_which_element_it_never_stored(engine):
    res = engine.grade(CARDS["kernel.vector_add"], "pid = tl.program_id(0)", seed=0)
    assert res.verdict == "error"
    assert res.feedback.startswith("KernelFault at [0]: the kernel never stored this element")


def test_using_one_tensors_row_stride_for_another_is_not_graded_correct(engine):
    card = CARDS["kernel.swiglu"]
    wrong = card.reference.replace("out_ptr + row * out_row_stride", "out_ptr + row * a_row_stride")
    assert wrong != card.reference
    res = engine.grade(card, wrong, seed=0)
    assert not res.correct and "KernelFault at [1, " in res.feedback


def test_different_out_of_bounds_stores_are_not_named_as_each_other(engine):
    card = CARDS["kernel.softmax_row"]
    no_store_mask = card.reject[0]
    assert "the store has no mask" in no_store_mask.why
    wrong_stride = card.reference.replace("y_ptr + row * y_row_stride", "y_ptr + row * x_row_stride")
    res = engine.grade(card, wrong_stride, seed=0)
    assert res.verdict == "error" and res.mistake != no_store_mask.why
    assert "the row stride another tensor's" in res.feedback


def test_an_off_by_one_mask_is_named_as_the_missing_mask_it_behaves_like(engine):
    card = CARDS["kernel.vector_add"]
    res = engine.grade(card, card.reference.replace("offs < n", "offs <= n"), seed=0)
    assert res.mistake == card.reject[0].why


def test_the_interpreters_numpy_warnings_stay_out_of_the_learners_output(engine):
    card = CARDS["kernel.softmax_online"]
    inverted = card.reference.replace("tl.exp(m - m_new)", "tl.exp(m_new - m)")  # 0 * inf = NaN
    assert inverted != card.reference
    res = engine.grade(card, inverted, seed=0)
    assert res.verdict == "wrong" and "NaN" in res.feedback
    assert "RuntimeWarning" not in res.output and "RuntimeWarning" not in res.feedback


def test_a_kernel_body_may_end_in_a_loop_but_an_expression_answer_may_not():
    body = "acc = 0.0\nfor i in range(0, n, 4):\n    acc += i\n"
    check_kernel_body(body)
    check_kernel_body(textwrap.indent(body, "    "))  # pasted with the function's indentation
    with pytest.raises(AnswerSyntaxError):
        check_syntax(body)
    with pytest.raises(AnswerSyntaxError) as info:
        check_kernel_body("x = tl.load(p\ny = 1\n")
    assert info.value.line is not None


def test_a_kernel_card_whose_launcher_does_not_parse_is_a_deck_problem(tmp_path):
    text = DECK.read_text(encoding="utf-8")
    broken = text.replace("out = padded_empty(n, like=x)", "out = padded_empty(n, like=x", 1)
    assert broken != text
    path = tmp_path / "broken.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DeckError) as info:
        load_deck(path)
    assert any(p.card == "kernel.vector_add" and p.field == "launcher" for p in info.value.problems)


def test_selecting_the_interpreter_after_triton_was_imported_compiled_is_refused():
    # Triton's own @jit helpers (tl.max, tl.sum) would stay compiled and fail inside every
    # interpreted kernel, blaming the learner's line: the process must choose first.
    code = ("import triton\n"
            "from atlas_quiz.grading.kernel import select_interpreter\n"
            "select_interpreter('cpu')\n")
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0
    assert "Triton was imported before its interpreter was selected" in proc.stderr


# --- the guard bands --------------------------------------------------------------------------

def test_padded_input_equals_its_tensor_with_a_wider_row_stride_and_nan_around():
    x = torch.randn(3, 5)
    p = Guards().padded(x)
    assert torch.equal(p, x) and p.stride(0) > 5
    flat = p.as_strided((p.stride(0) * 3,), (1,), p.storage_offset() - 16)
    assert torch.isnan(flat[:16]).all() and torch.isnan(flat[16 + 5:16 + 5 + 16]).all()


def test_a_store_past_a_row_of_the_output_is_a_kernel_fault_at_that_element():
    guards = Guards()
    out = guards.padded_empty(2, 4)
    out.fill_(1.0)
    guards.check()  # writing the output itself is fine
    out.as_strided((1,), (1,), out.storage_offset() + 4).fill_(2.0)  # one past the end of row 0
    with pytest.raises(KernelFault, match="stored past the end of a row") as info:
        guards.check()
    assert info.value.answer_message.startswith("KernelFault at [0, 4]: ")


def test_each_padded_tensor_of_a_launch_has_a_row_stride_of_its_own_unless_told():
    guards = Guards()
    x, y = guards.padded(torch.randn(3, 5)), guards.padded(torch.randn(3, 5))
    out = guards.padded_empty(3, 5, like=x)
    assert len({x.stride(0), y.stride(0), out.stride(0)}) == 3
    shared = guards.padded_empty(3, 5, like=x, row_stride=x.stride(0))
    assert shared.stride(0) == x.stride(0)
    strides = [x.stride(0), y.stride(0), out.stride(0)]
    guards.clear()  # the next launch (a known mistake's run) gets the same layout
    again = [guards.padded(torch.randn(3, 5)).stride(0) for _ in range(3)]
    assert again == strides


def test_a_row_stride_that_leaves_no_guard_is_refused():
    with pytest.raises(ValueError, match="leaves no guard"):
        Guards().padded(torch.randn(3, 5), row_stride=5)
    with pytest.raises(ValueError, match="rows"):
        Guards().padded(torch.randn(5), row_stride=64)


def test_an_output_element_never_stored_is_a_fault_but_an_integer_output_is_not_checked():
    guards = Guards()
    out = guards.padded_empty(2, 3)
    out[0].fill_(1.0)
    with pytest.raises(KernelFault, match="never stored this element of its output, nor 2 others") \
            as info:
        guards.check()
    assert info.value.answer_message.startswith("KernelFault at [1, 0]: ")
    guards = Guards()
    counts = guards.padded_empty(2, 3, dtype=torch.int64)
    counts[0].fill_(1)
    guards.check()  # any int may be a real result: only guards are checked


def test_nan_copied_from_an_inputs_padding_into_the_outputs_guard_is_caught():
    guards = Guards()
    x = guards.padded(torch.randn(6))
    out = guards.padded_empty(6, like=x)
    past_x = x.as_strided((4,), (1,), x.storage_offset() + 6)
    out.as_strided((4,), (1,), out.storage_offset() + 6).copy_(past_x)  # NaN, but not our NaN
    with pytest.raises(KernelFault):
        guards.check()


def test_a_row_index_past_the_last_row_lands_in_spare_rows():
    guards = Guards()
    out = guards.padded_empty(2, 3)
    out.fill_(1.0)
    out.as_strided((3,), (1,), out.storage_offset() + 2 * out.stride(0)).fill_(0.0)  # row 2 of 2
    with pytest.raises(KernelFault, match="outside the rows of its output") as info:
        guards.check()
    assert info.value.answer_message.startswith("KernelFault at [2, 0]: ")


def test_a_tile_of_sixteen_rows_over_a_small_matrix_stays_inside_the_guard():
    guards = Guards()
    out = guards.padded_empty(5, 8)
    tile = out.as_strided((16, 16), (out.stride(0), 1), out.storage_offset())  # rows 0..15
    tile.fill_(0.0)
    with pytest.raises(KernelFault, match="past the end of a row"):
        guards.check()


def test_a_write_into_a_padded_input_is_a_kernel_fault():
    guards = Guards()
    x = guards.padded(torch.randn(4, 4))
    x[1, 2] = 7.0
    with pytest.raises(KernelFault, match="wrote into its input of shape") as info:
        guards.check()
    assert info.value.answer_message.startswith("KernelFault at [1, 2]: ")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.int64])
def test_guards_work_for_other_dtypes(dtype):
    guards = Guards()
    out = guards.padded_empty(3, like=torch.zeros(3, dtype=dtype))
    out.fill_(1)
    guards.check()
    out.as_strided((1,), (1,), out.storage_offset() - 1).fill_(0)  # one before the start
    with pytest.raises(KernelFault):
        guards.check()


@pytest.mark.sandbox
def test_a_kernel_card_grades_in_strict_mode():
    import shutil

    from atlas_quiz.grading import Engine

    if shutil.which("bwrap") is None:
        pytest.skip("strict mode needs bubblewrap (bwrap), which is not installed")
    card = CARDS["kernel.softmax_row"]
    with Engine("strict", "cpu", timeout=10.0) as engine:
        assert engine.grade(card, card.reference, seed=0).correct
        assert engine.grade(card, card.reject[2].answer, seed=0).mistake == card.reject[2].why


def test_a_nan_in_the_values_is_explained_but_an_overflow_is_not(engine):
    # Under the interpreter a load of the padding is a fault before its NaN is seen
    # (test_kernel_bounds.py); the hint is for a NaN that reaches the output all the same,
    # as a compiled kernel's unmasked load does.
    card = CARDS["kernel.softmax_row"]
    nan_other = card.reference.replace('other=-float("inf")', 'other=float("nan")')
    assert nan_other != card.reference
    res = engine.grade(card, nan_other)
    assert res.verdict == "wrong" and "pads every input with NaN" in res.feedback
    overflows = [r for r in card.reject if "overflows" in r.why]
    assert overflows
    for reject in overflows:
        assert "pads every input with NaN" not in engine.grade(card, reject.answer).feedback


def test_an_own_mode_worker_leaves_no_temp_folder_behind(tmp_path, monkeypatch):
    import tempfile

    from atlas_quiz.grading import Engine

    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the temp dir of this process and its workers
    monkeypatch.setattr(tempfile, "tempdir", None)
    card = CARDS["kernel.softmax_row"]
    with Engine("own", "cpu", timeout=10.0) as engine:
        assert engine.grade(card, card.reference, seed=0).correct
        assert any(p.suffix == ".py" for p in tmp_path.rglob("*"))  # the kernel's file is here
        engine.runner.restart()  # as after a timeout or a tainted answer: the worker is killed
        assert engine.grade(card, card.reference, seed=1).correct
    assert list(tmp_path.iterdir()) == []


def test_a_worker_whose_engine_was_killed_removes_its_own_temp_folder(tmp_path):
    import time

    script = ("import os, signal\nfrom atlas_quiz.grading import Engine\n"
              "engine = Engine('own', 'cpu')\nprint(engine.start()['pid'], flush=True)\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    run = subprocess.run([sys.executable, "-c", script], env={**os.environ, "TMPDIR": str(tmp_path)},
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == -9, run.stderr
    worker = int(run.stdout.split()[0])
    deadline = time.monotonic() + 60
    while os.path.exists(f"/proc/{worker}") and time.monotonic() < deadline:
        time.sleep(0.05)  # the worker sees its input close and leaves
    assert list(tmp_path.iterdir()) == []
