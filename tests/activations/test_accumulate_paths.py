"""The fast paths of ``LayerState.update`` against brute force: candidates, bins, threads."""

from __future__ import annotations

import numpy as np
import torch

from vocablens.activations.accumulate import EDGES, LayerState, bin_indices, unpack


def _brute_top(x: np.ndarray, pos: np.ndarray, n: int, sign: int) -> np.ndarray:
    """``(d, n)`` positions of each neuron's top-n by value, then the earlier position."""
    return np.stack([pos[np.lexsort((pos, -sign * x[:, j]))[:n]] for j in range(x.shape[1])])


def test_bins_equal_bucketize_on_edges_and_neighbours():
    edges = torch.tensor(EDGES, dtype=torch.float32)
    inf = torch.tensor(float("inf"))
    values = torch.cat([
        torch.randn(20000) * 10 ** torch.empty(20000).uniform_(-6, 6), edges, -edges,
        torch.nextafter(edges, inf), torch.nextafter(edges, -inf),
        torch.tensor([0.0, -0.0, float("inf"), float("-inf"), 3e38, -3e38]),
    ])  # fmt: skip
    got = bin_indices(values.view(-1, 2), edges).view(-1).long()
    assert torch.equal(got, torch.bucketize(values, edges, right=True))


def test_top_n_exact_over_chunks_subsets_and_ties():
    """Young and steady states, dense fallback (ReLU zeros), rounded values with ties."""
    gen = torch.Generator().manual_seed(0)
    n, d = 5, 12
    x = torch.randn(900, d, generator=gen)
    x[:, :4] = torch.relu(x[:, :4])  # exact zeros: many ties on the negative side
    x[:, 4:8] = torch.round(x[:, 4:8] * 2)  # a few distinct values: ties everywhere
    pos = torch.cumsum(torch.randint(1, 4, (900,), generator=gen), 0)  # increasing, with gaps
    edges = torch.tensor(EDGES, dtype=torch.float32)
    state = LayerState.empty(d, n)
    threads = torch.get_num_threads()
    chunks = ((0, 3), (3, 40), (40, 300), (300, 301), (301, 850), (850, 900))  # last: steady
    for start, stop in chunks:
        keep = torch.arange(start, stop)
        state.update(x[keep], pos[keep], edges)
        assert torch.get_num_threads() == threads
    for side, sign in ((0, 1), (1, -1)):
        values, positions = unpack(state.keys[side])
        want = _brute_top(x.numpy(), pos.numpy(), n, sign)
        assert np.array_equal(positions.numpy(), want), side
        got = np.take_along_axis(x.numpy(), np.searchsorted(pos.numpy(), want).T, 0).T
        assert np.array_equal(values.numpy(), sign * got)
    assert state.count == 900
    assert torch.equal(state.active, (x > 0).sum(0))
