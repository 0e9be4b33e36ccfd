"""The launch settings the row-wise reference kernels share: rows, block size and warps."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from atlas_quiz.bench.kernels import LOOP_BLOCK, MAX_FUSED, as_rows, row_block  # noqa: E402


@pytest.mark.parametrize("n_cols, forced, expected", [
    (1, None, (1, 4)),
    (100, None, (128, 4)),
    (4096, None, (4096, 8)),
    (5000, None, (8192, 16)),
    (MAX_FUSED, None, (MAX_FUSED, 16)),
    (MAX_FUSED + 1, None, (LOOP_BLOCK, 8)),  # walked in steps, not held in registers
    (300, 64, (64, 4)),                       # forced: the tests walk short rows in blocks
])
def test_a_row_fits_one_block_up_to_max_fused_and_warps_grow_with_the_block(n_cols, forced,
                                                                            expected):
    assert row_block(n_cols, forced) == expected


def test_a_vocabulary_row_is_walked_in_blocks_of_at_most_the_kernels_own_size():
    assert row_block(32000, max_fused=4096, loop_block=4096) == (4096, 8)
    assert row_block(70, max_fused=4096, loop_block=4096) == (128, 4)


def test_rows_are_a_view_when_they_can_be_and_a_copy_when_a_row_is_strided():
    x = torch.randn(2, 3, 8)
    rows = as_rows(x)
    assert rows.shape == (6, 8) and rows.data_ptr() == x.data_ptr()
    strided = torch.randn(8, 6)[:, ::2].t()  # rows whose elements are 6 apart
    copied = as_rows(strided)
    assert copied.stride(-1) == 1 and torch.equal(copied, strided)
    assert as_rows(torch.tensor(2.0)).shape == (1, 1)
