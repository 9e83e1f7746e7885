"""Attention-head tables of a projector: OV pairs, OV-promoted tokens and QK pairs.

Conventions (which side is source, query and key; what is left out) are in
:mod:`vocablens.project.circuits`. Pair tables are always read raw.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from vocablens.buffers import Scratch
from vocablens.model.view import ModelView
from vocablens.project import circuits
from vocablens.project.result import ProjectionTable
from vocablens.project.topk import Readout, pair_topk

Tensor = torch.Tensor


class PairTablesMixin:
    """``ov`` / ``qk`` tables of a :class:`~vocablens.project.projector.Projector`.

    Needs the projector's view, token sets, ``k``, block size, scratch buffer and readouts.
    """

    view: ModelView
    tokens: Tensor
    src_tokens: Tensor
    k: int
    block_mb: float
    _scratch: Scratch

    _inputs: Callable[[str], Tensor]  # the embedded token inputs of a token set
    write_readout: Callable[[], Readout]  # the readout of written vectors

    def _pair_table(self, kind: str, layer: int, tops: list, src_ids: Tensor) -> ProjectionTable:
        return ProjectionTable(
            kind=kind,
            layer=layer,
            index=torch.arange(len(tops)),
            signs=(1,),
            scores=torch.stack([top.scores for top in tops])[:, None],  # (n_heads, 1, k)
            token_ids=torch.stack([self.tokens[top.cols] for top in tops])[:, None],
            src_token_ids=torch.stack([src_ids[top.rows] for top in tops])[:, None],
        )

    def ov(self, layer: int) -> list[ProjectionTable]:
        """``ov`` pairs and ``ov_promoted`` tokens of every head of one layer."""
        attn = self.view.attention(layer)
        src, readout_T = self._inputs("src_tokens"), self.write_readout().R_T
        right_T = readout_T[:, : len(self.tokens)]  # (d_model, n_tokens)
        tops = []
        for head in range(attn.n_heads):
            left, right = circuits.ov_factors(attn, head, src, right_T)
            tops.append(
                pair_topk(
                    left, right, self.k, col_max=True, block_mb=self.block_mb, scratch=self._scratch
                )
            )
        col_max = torch.stack([top.col_max for top in tops if top.col_max is not None])
        # col_max: (n_heads, n_tokens)
        promoted = col_max.topk(self.k, dim=1)  # (n_heads, k)
        return [
            self._pair_table("ov", layer, tops, self.src_tokens),
            ProjectionTable(
                kind="ov_promoted",
                layer=layer,
                index=torch.arange(attn.n_heads),
                signs=(1,),
                scores=promoted.values[:, None],
                token_ids=self.tokens[promoted.indices][:, None],
            ),
        ]

    def qk(self, layer: int) -> list[ProjectionTable]:
        """``qk`` pairs of every head of one layer."""
        attn = self.view.attention(layer)
        queries, keys = self._inputs("src_tokens"), self._inputs("tokens")
        tops = []
        for head in range(attn.n_heads):
            left, right = circuits.qk_factors(attn, head, queries, keys)
            tops.append(
                pair_topk(left, right, self.k, block_mb=self.block_mb, scratch=self._scratch)
            )
        return [self._pair_table("qk", layer, tops, self.src_tokens)]
