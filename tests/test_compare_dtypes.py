"""Comparing tensors of dtypes torch will not promote, and promotion where a card allows it."""

from __future__ import annotations

import pytest
import torch

from atlas_quiz.grading.compare import first_difference


@pytest.mark.parametrize("dtype", [torch.uint16, torch.uint32, torch.uint64, torch.float8_e4m3fn,
                                   torch.float8_e5m2])
@pytest.mark.parametrize("allow_promotion", [False, True])
def test_a_dtype_without_promotion_is_a_dtype_difference(dtype, allow_promotion):
    expected = torch.arange(6, dtype=torch.int64).reshape(2, 3)
    diff = first_difference(expected, expected.to(dtype), allow_promotion=allow_promotion)
    assert diff is not None and diff.stage == "dtype" and str(dtype) in diff.message


def test_an_int64_answer_to_a_float_reference_is_still_compared_with_tolerance():
    expected = torch.tensor([1.0, 2.0, 3.0])
    assert first_difference(expected, torch.tensor([1, 2, 3]), allow_promotion=True) is not None
    assert first_difference(torch.tensor([1, 2, 3]), expected, allow_promotion=True) is None


def test_ints_of_different_widths_are_compared_exactly_when_promotion_is_allowed():
    expected = torch.tensor([1, 2, 3], dtype=torch.int64)
    assert first_difference(expected, torch.tensor([1, 2, 3], dtype=torch.int32), allow_promotion=True) is None
    diff = first_difference(expected, torch.tensor([1, 2, 4], dtype=torch.int32), allow_promotion=True)
    assert diff is not None and diff.details["index"] == [2]


def test_a_float64_result_computed_in_float32_is_a_values_difference():
    torch.manual_seed(0)
    a = torch.randn(64, 64, dtype=torch.float64)
    b = torch.randn(64, dtype=torch.float64)
    expected = a @ b
    through_float32 = expected.float().double()  # off by at most 6e-8: inside torch.testing's 1e-7
    diff = first_difference(expected, through_float32)
    assert diff is not None and diff.stage == "values"
    assert first_difference(expected, (a * b).sum(dim=1)) is None  # another float64 route
    assert first_difference(expected, torch.einsum("ij,j->i", a, b)) is None


def test_a_python_float_keeps_the_float32_friendly_tolerance():
    x = torch.randn(1000)
    assert first_difference(x.double().mean().item(), (x.sum() / 1000).item()) is None
    assert first_difference(1.0, 1.0 + 1e-5) is not None
