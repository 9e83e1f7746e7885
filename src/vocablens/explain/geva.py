"""Geva et al. (2022)'s per-layer view of a prediction: how concentrated each FFN update is.

An FFN layer's update is the sum of its sub-updates ``m_i * v_i``. Per layer, this counts how many
of the largest sub-updates (by their contribution to the readout) it takes to reach a fraction of
the layer's net shift toward the token, and asks whether the value vectors of the top sub-updates
promote the token by themselves: the token's rank in the vector's projection
``norm_linear(sign(m_i) * v_i) @ W_U.T`` (0: it is the vector's top token), the projection of
:mod:`vocablens.project`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from vocablens.model.view import ModelView

#: The default fractions of a layer's shift that :attr:`GevaLayer.needed` counts sub-updates for.
GEVA_FRACTIONS = (0.5, 0.8, 0.9)


@dataclass
class SubUpdate:
    """One neuron's sub-update ``m_i * v_i`` at the position explained.

    Attributes:
        expert: the MoE expert, -1 for dense layers.
        index: the neuron.
        coefficient: ``m_i`` (MoE: weighted by the routing).
        contribution: its contribution to the readout.
        sign: the side of ``v_i`` the sub-update writes, ``sign(m_i)`` (+1 for 0).
        rank: the target's rank among all tokens in the projection of ``sign * v_i``
            (0: the top token; -1: not computed).
    """

    expert: int
    index: int
    coefficient: float
    contribution: float
    sign: int
    rank: int = -1


@dataclass
class GevaLayer:
    """One FFN layer's update toward the token, sub-update by sub-update.

    Attributes:
        layer: the block.
        net: the sum of all sub-update contributions (the layer's shift, bias left out).
        promoting: the sum of the positive ones.
        n_neurons: how many sub-updates the layer has (every expert's neurons for MoE).
        needed: fraction -> how many of the largest sub-updates add up to that fraction of
            ``net`` (-1 when ``net <= 0``: the layer pushes away from the token).
        top: the largest sub-updates by contribution, largest first.
    """

    layer: int
    net: float
    promoting: float
    n_neurons: int
    needed: dict[float, int]
    top: list[SubUpdate]

    def to_dict(self) -> dict:
        """A JSON-ready dict (fractions as strings)."""
        out = asdict(self)
        out["needed"] = {f"{f:g}": k for f, k in self.needed.items()}
        return out


def needed_counts(contributions: np.ndarray, fractions: Sequence[float]) -> dict[float, int]:
    """How many of the largest ``contributions`` reach each fraction of their sum (-1: sum <= 0)."""
    net = float(contributions.sum())
    if net <= 0:
        return {f: -1 for f in fractions}
    cumulative = np.cumsum(np.sort(contributions)[::-1])  # (n,) largest first
    return {f: int(np.argmax(cumulative >= f * net)) + 1 for f in fractions}


def geva_layer(
    layer: int, neurons: np.ndarray, coefficients: np.ndarray, keys: tuple[np.ndarray, np.ndarray],
    fractions: Sequence[float], n_top: int,
) -> GevaLayer:  # fmt: skip
    """The view of one layer from its sub-update contributions (ranks filled in later).

    Args:
        layer: the block.
        neurons: ``(n,)`` contributions (flattened over experts).
        coefficients: ``(n,)`` coefficients.
        keys: ``(expert, index)`` arrays of the same order.
        fractions: the fractions to count sub-updates for.
        n_top: how many top sub-updates to keep.
    """
    order = np.argsort(-neurons, kind="stable")[:n_top]
    top = [SubUpdate(expert=int(keys[0][i]), index=int(keys[1][i]),
                     coefficient=float(coefficients[i]), contribution=float(neurons[i]),
                     sign=-1 if coefficients[i] < 0 else 1) for i in order]  # fmt: skip
    return GevaLayer(layer=layer, net=float(neurons.sum()),
                     promoting=float(neurons[neurons > 0].sum()), n_neurons=int(neurons.size),
                     needed=needed_counts(neurons, fractions), top=top)  # fmt: skip


@torch.inference_mode()
def fill_ranks(view: ModelView, layers: list[GevaLayer], target: int) -> None:
    """Set every top sub-update's ``rank``: the target's rank in its value vector's projection."""
    picked = [(g.layer, s) for g in layers for s in g.top]
    if not picked:
        return
    rows = []
    for layer, sub in picked:
        w_out = view.mlp(layer).W_out  # (d_mlp, d_model) or (n_experts, d_mlp, d_model)
        rows.append(w_out[sub.index] if sub.expert < 0 else w_out[sub.expert, sub.index])
    dtype = torch.float32 if view.W_U.dtype == torch.float16 else view.W_U.dtype
    values = torch.stack(rows).to(dtype)  # (n, d_model)
    signs = torch.tensor([s.sign for _, s in picked], dtype=dtype, device=values.device)
    scores = view.norm_linear(values * signs[:, None]) @ view.W_U.to(dtype).T  # (n, vocab)
    ranks = (scores > scores[:, target : target + 1]).sum(dim=1)  # (n,)
    for (_, sub), rank in zip(picked, ranks.tolist(), strict=True):
        sub.rank = int(rank)
