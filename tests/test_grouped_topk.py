"""grouped_topk: the shared group-pruned top-k equals torch.topk, both directions."""

from __future__ import annotations

import pytest
import torch

from vocablens.grouped_topk import grouped_topk


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("n", [50, 1000, 4099])
def test_grouped_topk_matches_topk(largest, n):
    x = torch.randn(5, n, generator=torch.Generator().manual_seed(n))
    for k in (1, 7, 30):
        values, cols = grouped_topk(x, k, largest=largest)
        ref_values, ref_cols = x.topk(k, dim=-1, largest=largest)
        assert torch.equal(values, ref_values) and torch.equal(cols, ref_cols)


def test_grouped_topk_reads_a_column_slice():
    block = torch.randn(3, 2000, generator=torch.Generator().manual_seed(1))
    values, cols = grouped_topk(block[:, :1990], 5, largest=False)  # a view of a wider block
    ref_values, ref_cols = block[:, :1990].topk(5, dim=-1, largest=False)
    assert torch.equal(values, ref_values) and torch.equal(cols, ref_cols)
