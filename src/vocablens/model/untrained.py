"""Untrained tokens: unembedding rows that training left in one shared direction.

Tokens that never (or almost never) occur in the training data get only the gradient that the
softmax normalisation gives every row alike, so their unembedding rows drift to one common
direction. In SmolLM2 the ``<jupyter_*>``, ``<issue_*>``, ``<file_sep>``, ``<gh_stars>``,
``<empty_output>`` tokens and a few never-seen BPE pieces are such a cluster: their rows agree to
a cosine above 0.99. Under a length-free readout (cosine, CSLS) such a cluster reads like one
token repeated, and it is a hub of its own.

:func:`untrained_tokens` finds them from the weights alone, for any model: every cluster of at
least ``min_size`` rows whose pairwise links (cosine above ``threshold``) connect them. Candidate
pairs come from locality-sensitive hashing (random hyperplane signatures, several tables), so no
vocab x vocab matrix is formed; every candidate pair is then checked exactly. Two rows at cosine
0.99 collide in one 32-bit table with probability about 0.23; with 20 tables the chance to miss
a pair is about 0.5 %, and a cluster needs only a spanning set of its links (on SmolLM2: about
1 s for the 49,152 rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor

THRESHOLD = 0.99  # cosine above which two unembedding rows count as one direction
MIN_SIZE = 4  # rows a cluster needs before it counts as untrained tokens
_BITS, _TABLES = 32, 20
_MAX_BUCKET = 4096  # pairs further apart than this in a sorted table are not compared


def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = int(parent[i])
    return i


def near_duplicate_clusters(
    rows: Tensor, *, threshold: float = THRESHOLD, min_size: int = MIN_SIZE, seed: int = 0
) -> list[np.ndarray]:
    """Clusters of rows whose directions agree to a cosine above ``threshold``.

    Args:
        rows: ``(n, d)`` vectors (any float dtype; zero rows are never clustered).
        threshold: cosine above which two rows are linked.
        min_size: smallest cluster returned.
        seed: seed of the random hyperplanes (the result is deterministic for a seed).

    Returns:
        Sorted ``(size,)`` int64 arrays of row numbers, largest cluster first.
    """
    x = rows.detach().float().cpu()
    norms = x.norm(dim=1)  # (n,)
    unit = x / norms.clamp_min(1e-12)[:, None]  # (n, d)
    n, d = unit.shape
    generator = torch.Generator().manual_seed(seed)
    planes = torch.randn(d, _BITS * _TABLES, generator=generator)  # (d, bits * tables)
    bits = (unit @ planes > 0).numpy().reshape(n, _TABLES, _BITS)  # (n, tables, bits)
    codes = bits.astype(np.int64) @ (1 << np.arange(_BITS, dtype=np.int64))  # (n, tables)
    codes[~(norms > 0).numpy()] = -1 - np.arange(n)[~(norms > 0).numpy(), None]  # zero rows: alone
    pairs = []
    for table in range(_TABLES):
        order = np.argsort(codes[:, table], kind="stable")  # (n,)
        ordered = codes[order, table]  # (n,): equal codes are contiguous
        for offset in range(1, min(n, _MAX_BUCKET)):
            same = np.flatnonzero(ordered[:-offset] == ordered[offset:])  # pairs `offset` apart
            if same.size == 0:  # buckets are contiguous: no pair at a larger offset either
                break
            pairs.append(np.stack([order[same], order[same + offset]], axis=1))  # (p, 2)
    parent = np.arange(n)
    if pairs:
        candidates = np.unique(np.sort(np.concatenate(pairs), axis=1), axis=0)  # (p, 2)
        cos = torch.cat(
            [
                (unit[part[:, 0]] * unit[part[:, 1]]).sum(1)  # (chunk,)
                for part in torch.from_numpy(candidates).split(65536)
            ]
        ).numpy()
        for i, j in candidates[cos > threshold]:
            root_i, root_j = _find(parent, int(i)), _find(parent, int(j))
            if root_i != root_j:
                parent[max(root_i, root_j)] = min(root_i, root_j)
    roots = np.array([_find(parent, i) for i in range(n)])
    labels, counts = np.unique(roots, return_counts=True)
    clusters = [np.flatnonzero(roots == label) for label in labels[counts >= min_size]]
    return sorted(clusters, key=lambda ids: (-len(ids), int(ids[0])))


def untrained_tokens(
    view: Any, *, threshold: float = THRESHOLD, min_size: int = MIN_SIZE
) -> Tensor:
    """Token ids whose unembedding rows sit in a cluster of near-identical directions.

    Args:
        view: a :class:`~vocablens.model.view.ModelView` (or anything with ``W_U``).
        threshold: cosine above which two rows are linked (see :func:`near_duplicate_clusters`).
        min_size: smallest cluster that counts.

    Returns:
        Sorted ``(n_masked,)`` int64 token ids (empty when the model has no such cluster).
    """
    clusters = near_duplicate_clusters(view.W_U, threshold=threshold, min_size=min_size)
    if not clusters:
        return torch.empty(0, dtype=torch.int64)
    return torch.from_numpy(np.sort(np.concatenate(clusters))).long()
