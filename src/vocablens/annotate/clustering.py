"""Flat clusters from a SciPy linkage tree, cut at a distance (what the detector clusters with)."""

from __future__ import annotations

import numpy as np


def cut_tree(tree: np.ndarray, n: int, cut: float) -> np.ndarray:
    """Flat clusters of a SciPy linkage tree: apply every merge below ``cut`` (0-based ids)."""
    parent = list(range(2 * n - 1))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for step, (a, b, height, _) in enumerate(tree):
        if height >= cut:
            break  # average / complete / single linkage heights never decrease
        parent[root(int(a))] = parent[root(int(b))] = n + step
    roots = [root(i) for i in range(n)]
    _, labels = np.unique(roots, return_inverse=True)
    return labels.astype(np.int64)
