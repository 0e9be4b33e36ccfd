"""Test set-up of the reference kernels: the interpreter without a GPU, dtypes and tolerances.

Each kernel file reads spec -> kernel -> launcher -> tests -> benchmark; this
conftest collects those files as test modules (their ``test_*`` functions).

Triton decides when each ``@triton.jit`` kernel is defined whether it is
compiled or interpreted, so without a CUDA device ``TRITON_INTERPRET=1`` is set
here, before pytest imports any kernel file.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"

import pytest  # noqa: E402

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"

# (rtol, atol) for a kernel that computes in fp32 and rounds once to the output dtype,
# against the spec computed in fp32 and rounded the same way: one ulp of the output apart.
TOLERANCES = {
    torch.float32: (1e-5, 1e-5),
    torch.float16: (2e-3, 1e-3),
    torch.bfloat16: (1.6e-2, 1e-2),
}


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect every kernel file (not only ``test_*.py``): its tests sit beside its kernel."""
    if file_path.suffix != ".py" or file_path.name == "conftest.py" \
            or file_path.name.startswith("test_") or parent.session.isinitpath(file_path):
        return None  # pytest collects those itself (a file named on the command line included)
    return pytest.Module.from_parent(parent, path=file_path)


def _interpreter_runs_bf16() -> str | None:
    """Why bf16 cannot run here, or None when it can (newer interpreters emulate it)."""
    if not INTERPRETED:
        return None
    import triton
    import triton.language as tl

    @triton.jit
    def copy(x_ptr, y_ptr):
        """Double four elements: enough to see whether bf16 arithmetic comes out right."""
        tl.store(y_ptr + tl.arange(0, 4), tl.load(x_ptr + tl.arange(0, 4)) * 2)

    x = torch.tensor([1.0, -2.5, 3.0, 0.1], dtype=torch.bfloat16)
    y = torch.zeros_like(x)
    try:
        copy[(1,)](x, y)
    except Exception as exc:
        return f"this Triton's interpreter cannot run bfloat16 ({type(exc).__name__})"
    if torch.equal(y, x * 2):
        return None
    return ("Triton's interpreter does not emulate bfloat16 (numpy has no such type): its bf16 "
            "arithmetic and rounding differ from a GPU's, so bf16 is tested on a GPU only")


@pytest.fixture(autouse=True)
def _seeded() -> None:
    """Every test draws the same random inputs on every run."""
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def device() -> str:
    """Where the kernels run: the GPU when there is one, else the CPU under the interpreter."""
    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture(scope="session")
def interpreted() -> bool:
    """True under the interpreter: tests then keep their shapes small."""
    return INTERPRETED


@pytest.fixture(params=[torch.float32, torch.float16, torch.bfloat16],
                ids=["fp32", "fp16", "bf16"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    """Every dtype the kernels support; bf16 is skipped where the interpreter cannot run it."""
    if request.param == torch.bfloat16:
        reason = _bf16_skip_reason()
        if reason:
            pytest.skip(reason)
    return request.param


_BF16: dict[str, str | None] = {}


def _bf16_skip_reason() -> str | None:
    if "reason" not in _BF16:
        _BF16["reason"] = _interpreter_runs_bf16()
    return _BF16["reason"]


@pytest.fixture
def close():
    """``close(actual, expected, scale=1)``: assert_close with the output dtype's tolerances."""
    def check(actual: torch.Tensor, expected: torch.Tensor, scale: float = 1.0) -> None:
        rtol, atol = TOLERANCES.get(expected.dtype, (1e-5, 1e-5))
        torch.testing.assert_close(actual, expected, rtol=rtol * scale, atol=atol * scale)

    return check
