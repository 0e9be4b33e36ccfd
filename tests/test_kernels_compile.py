"""Every reference kernel and every kernel card's reference compiles for an H100, GPU or not.

The interpreter runs a kernel as numpy: it does not check what only Triton's
compiler checks (the types of loop-carried values, constexpr rules, the tile
shapes ``tl.dot`` accepts, what the GPU backend can lower). Triton compiles
for a named target without the device, so each kernel is compiled here for
sm_90 exactly as its launcher would launch it (arguments, constexprs, warps,
stages), in fp32, fp16 and bf16. Nothing is launched.

Triton must be imported in one mode per process (compiled here, interpreted by
the kernel tests), so the compiling happens in a child process: this file run
as a script prints one JSON object, ``{case: "ok" or the error}``.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from atlas_quiz.bench.kernels import kernel_files, load_kernel_file
from atlas_quiz.cards import load_deck
from atlas_quiz.paths import builtin_decks_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed"),
]

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
DECK = builtin_decks_dir() / "kernels_triton.toml"


def _kernel_cards():
    return [c for c in load_deck(DECK).cards if c.kind == "kernel"] if DECK.exists() else []


def _cases() -> list[str]:
    kernels = [f"{p.stem}-{dt}" for p in kernel_files() for dt in DTYPES]
    return kernels + [f"card-{c.id}" for c in _kernel_cards()] + ["compile-error-line"]


# --- the child: compile everything for sm_90 ---------------------------------------------------

class CompileOnly:
    """Stands in for a kernel: ``kernel[grid](*args, **kw)`` compiles for the target, runs nothing."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.compiled: list[object] = []

    def __getitem__(self, grid: object) -> CompileOnly:
        return self

    def __call__(self, *args: object, num_warps: int = 4, num_stages: int = 3, **kwargs: object):
        import triton
        from triton.backends.compiler import BaseBackend, GPUTarget
        from triton.compiler import ASTSource
        from triton.runtime.jit import native_specialize_impl

        bound = inspect.signature(self.fn.fn).bind(*args, **kwargs)
        signature: dict[str, str] = {}
        constexprs: dict[object, object] = {}
        attrs: dict[tuple[int, ...], list] = {}
        for i, param in enumerate(self.fn.params):
            value = bound.arguments[param.name]
            # As a launch would: ints of 1 become constants, 16-aligned pointers and
            # multiples of 16 are marked divisible (what lets loads be vectorised).
            kind, key = ("constexpr", None) if param.is_constexpr else \
                native_specialize_impl(BaseBackend, value, False, True, True)
            signature[param.name] = kind
            if kind == "constexpr":
                constexprs[param.name] = value
            elif key == "D":
                attrs[(i,)] = [["tt.divisibility", 16]]
        src = ASTSource(fn=self.fn, signature=signature, constexprs=constexprs, attrs=attrs)
        options = {"num_warps": num_warps, "num_stages": num_stages}
        compiled = triton.compile(src, target=GPUTarget("cuda", 90, 32), options=options)
        assert "cubin" in compiled.asm
        self.compiled.append(compiled)


def _load_compile_only(path: Path):
    """A kernel file whose launch kernels (``*_kernel``) compile instead of running."""
    from triton.runtime.jit import JITFunction

    module = load_kernel_file(path)
    stand_ins = {name: CompileOnly(obj) for name, obj in vars(module).items()
                 if isinstance(obj, JITFunction) and name.endswith("_kernel")}  # helpers stay real
    for name, stand_in in stand_ins.items():
        setattr(module, name, stand_in)
    return module, stand_ins


def _launch_every_path(name: str, m, dtype: torch.dtype) -> None:
    """Call the file's launchers on small CPU tensors of GPU-like widths, every code path."""
    def x(*shape: int) -> torch.Tensor:
        return torch.randn(shape).to(dtype)

    if name in ("softmax", "log_softmax"):
        launch = m.softmax if name == "softmax" else m.log_softmax
        launch(x(4, 4096))
        launch(x(4, 20000))  # longer than MAX_FUSED: the looped path
    elif name == "rmsnorm":
        for n in (4096, 20000):
            xs, w = x(4, n), x(n)
            y, rstd = m.rmsnorm_forward(xs, w)
            m.rmsnorm_backward(x(4, n), xs, w, rstd)
    elif name == "layernorm":
        for n in (4096, 20000):
            m.layer_norm(x(4, n), x(n), x(n))
    elif name == "swiglu":
        m.swiglu(x(4, 4096), x(4, 4096))
    elif name == "rope":
        cos, sin = m.rope_tables(8, 128)
        m.rope(x(1, 8, 32, 128), cos, sin)
    elif name == "cross_entropy":
        logits, target = x(4, 32000), torch.randint(32000, (4,))
        m.cross_entropy_forward(logits, target)
        m.cross_entropy_forward(logits, target, grad_scale=0.25)
    elif name == "attention":
        for head_dim in (64, 128):
            q = x(1, 2, 256, head_dim)
            m.attention(q, q, q, config=m.tiles_for("cuda", dtype, head_dim))
    else:
        raise AssertionError(f"no compile case for kernels/{name}.py: add one to this file")


def _compile_kernel_file(path: Path, dtype: torch.dtype) -> None:
    module, stand_ins = _load_compile_only(path)
    _launch_every_path(path.stem, module, dtype)
    never = [n for n, k in stand_ins.items() if not k.compiled]
    assert stand_ins and not never, f"never launched: {never}"


def _compile_card(card) -> None:
    from atlas_quiz.grading.inputs import build_trials
    from atlas_quiz.grading.kernel import Guards, compile_launcher, load_kernel

    kernel = load_kernel(card.signature, card.reference)
    stand_in = CompileOnly(kernel.fn)
    kernel.fn = stand_in
    trial = build_trials(card, seed=0)[0]
    compile_launcher(card.launcher, list(trial.args), kernel, Guards())(*trial.args.values())
    assert stand_in.compiled


def _compile_error_line() -> None:
    """A compile error in a learner's body is reported at the body's own line."""
    from atlas_quiz.grading.kernel import load_kernel

    kernel = load_kernel("def k(x_ptr, n):", "offs = tl.arange(0, 16)\ncols = tl.arange(0, n)\n"
                                            "tl.store(x_ptr + offs, offs)")
    try:
        CompileOnly(kernel.fn)(torch.zeros(16), 16)
    except Exception as exc:
        assert kernel.body_line(exc) == 2, f"reported at {kernel.body_line(exc)}: {exc}"
        return
    raise AssertionError("tl.arange(0, n) with n not constexpr compiled")


def compile_all() -> dict[str, str]:
    """Every case, compiled; ``"ok"`` or the error's first line (``__skip__``: no API for it)."""
    try:  # the ahead-of-time API this file drives (Triton 3.9); older releases spell it otherwise
        from triton.backends.compiler import BaseBackend, GPUTarget  # noqa: F401
        from triton.compiler import ASTSource  # noqa: F401
        from triton.runtime.jit import native_specialize_impl  # noqa: F401
    except ImportError as exc:
        return {"__skip__": f"this Triton cannot be driven ahead of time here: {exc}"}
    results: dict[str, str] = {}
    jobs = {f"{p.stem}-{name}": (_compile_kernel_file, (p, dt))
            for p in kernel_files() for name, dt in DTYPES.items()}
    jobs.update({f"card-{c.id}": (_compile_card, (c,)) for c in _kernel_cards()})
    jobs["compile-error-line"] = (_compile_error_line, ())
    for case, (fn, args) in jobs.items():
        try:
            fn(*args)
            results[case] = "ok"
        except Exception as exc:
            results[case] = f"{type(exc).__name__}: {str(exc).strip()[:2000]}"
    return results


# --- the tests: run the child once, read its verdict per case ------------------------------------

@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> dict[str, str]:
    """The child's results (it compiles with the interpreter off, in a process of its own).

    Under pytest-xdist the first worker runs the child and the others read its results.
    """
    from filelock import FileLock

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _compile_in_child()
    shared = tmp_path_factory.getbasetemp().parent / "kernels_compiled.json"  # this run's, shared
    with FileLock(f"{shared}.lock"):
        if not shared.is_file():
            shared.write_text(json.dumps(_compile_in_child()))
        return json.loads(shared.read_text())


def _compile_in_child() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    with tempfile.TemporaryDirectory(prefix="atlas-compile-") as tmp:  # the kernels' source files
        proc = subprocess.run([sys.executable, __file__], capture_output=True, text=True,
                              env={**env, "TMPDIR": tmp}, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", _cases())
def test_compiles_for_h100(case, compiled):
    if "__skip__" in compiled:
        pytest.skip(compiled["__skip__"])
    assert compiled.get(case) == "ok", compiled.get(case, "the child did not try this case")


if __name__ == "__main__":
    print(json.dumps(compile_all()))
