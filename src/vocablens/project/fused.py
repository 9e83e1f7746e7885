"""Raw and cosine tables of the same vectors from one product.

The cosine score of a vector ``v`` and a token ``t`` is its raw score divided by the two norms
the cosine readout uses (:mod:`vocablens.project.readouts`)::

    cos(v, t) = (v @ R_T[:, t]) / (||norm_linear(v)|| * ||u_t||)

so the raw logits block, its columns scaled by ``1 / ||u_t||`` in place, ranks every row's
tokens by cosine too; dividing the chosen scores by the row norm gives the cosine scores. A
report (raw tables to show, cosine tables to label) and ``vocablens project --readout
raw,cosine`` thus pay for the ``(d_mlp, d_model) @ (d_model, vocab)`` product once per matrix.
The scores equal the two-product ones up to float rounding (the order of near-ties may differ).
Other combinations (CSLS, a masked raw readout) are projected one readout at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from vocablens.project.topk import vector_topk_scaled

if TYPE_CHECKING:
    from vocablens.project.projector import Projector
    from vocablens.project.result import ProjectionTable


def fusable(projectors: Sequence[Projector]) -> bool:
    """Whether ``projectors`` are one raw and one cosine projector of the same columns."""
    if len(projectors) != 2:
        return False
    raw, cos = projectors
    return (raw.readout, cos.readout) == ("raw", "cosine") and (
        not raw.mask_untrained  # a masked raw readout has offsets: its block cannot be reused
        and raw.lm is cos.lm
        and raw.final_norm == cos.final_norm
        and raw.vector_tokens.equal(cos.vector_tokens)
    )


def ffn_tables(
    projectors: Sequence[Projector], layer: int, kinds: Sequence[str]
) -> list[ProjectionTable]:
    """Every projector's ``kinds`` tables of ``layer``, projector by projector.

    The same tables as ``[t for p in projectors for t in p.ffn(layer, kinds)]``; a raw and a
    cosine projector (:func:`fusable`) share one product per matrix.
    """
    if not fusable(projectors):
        return [table for p in projectors for table in p.ffn(layer, kinds)]
    raw, cos = projectors
    raw_tables, cos_tables = [], []
    norms = cos.token_norms()  # (n_cols,)
    scale = 1.0 / torch.where(norms > 0, norms, torch.ones_like(norms))  # as cosine_columns
    for kind, expert, matrix in raw.matrices(layer, kinds):
        readout = raw.vector_readout(kind)
        offsets = cos.mask_offsets(readout)  # the cosine readout's masked tokens, or None
        top_raw, top_cos = vector_topk_scaled(
            matrix.detach(), readout, raw.k, scale, offsets, block_mb=raw.block_mb
        )
        rows = cos.row_norms(kind, matrix).float().cpu()  # (d_mlp,)
        top_cos.scores.div_(rows[:, None, None])  # (d_mlp, 2, k): the cosines
        raw_tables.append(raw.table(kind, layer, top_raw, expert))
        cos_tables.append(cos.table(kind, layer, top_cos, expert))
    return raw_tables + cos_tables
