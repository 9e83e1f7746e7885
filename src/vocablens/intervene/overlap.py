"""Compare two circuits: the share of heads in common and the Jaccard index, per layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocablens.errors import InputError
from vocablens.intervene.circuit import Circuit


@dataclass
class Overlap:
    """The heads two circuits share.

    Attributes:
        a, b: the two tasks.
        n_layers, n_heads: the model's shape.
        heads_a, heads_b, shared: head specs of each circuit and of both.
        share_a: ``|A ∩ B| / |A|`` (the share of ``a``'s heads also in ``b``); ``share_b`` likewise.
        jaccard: ``|A ∩ B| / |A ∪ B|``.
        per_layer: ``(n_layers, 3)`` heads only in ``a``, only in ``b``, in both, per layer.
    """

    a: str
    b: str
    n_layers: int
    n_heads: int
    heads_a: list[str]
    heads_b: list[str]
    shared: list[str]
    share_a: float
    share_b: float
    jaccard: float
    per_layer: np.ndarray

    def summary(self) -> str:
        """One line."""
        return (f"{self.a} vs {self.b}: {len(self.shared)} shared heads; {self.share_a:.0%} of "
                f"{self.a}'s {len(self.heads_a)}, {self.share_b:.0%} of {self.b}'s "
                f"{len(self.heads_b)}; Jaccard {self.jaccard:.2f}")  # fmt: skip


def compare_circuits(a: Circuit, b: Circuit) -> Overlap:
    """The head overlap of circuits ``a`` and ``b`` (of one model).

    Raises:
        InputError: circuits of models of different shapes.
    """
    if (a.n_layers, a.n_heads) != (b.n_layers, b.n_heads):
        raise InputError("the two circuits come from models of different shapes")
    A, B = set(a.heads), set(b.heads)
    per_layer = np.zeros((a.n_layers, 3), dtype=np.int64)
    for head in A - B:
        per_layer[head.layer, 0] += 1
    for head in B - A:
        per_layer[head.layer, 1] += 1
    for head in A & B:
        per_layer[head.layer, 2] += 1
    ratio = lambda n, d: n / d if d else 0.0  # noqa: E731
    return Overlap(
        a=a.task, b=b.task, n_layers=a.n_layers, n_heads=a.n_heads,
        heads_a=[h.spec for h in sorted(A)], heads_b=[h.spec for h in sorted(B)],
        shared=[h.spec for h in sorted(A & B)],
        share_a=ratio(len(A & B), len(A)), share_b=ratio(len(A & B), len(B)),
        jaccard=ratio(len(A & B), len(A | B)), per_layer=per_layer,
    )  # fmt: skip
