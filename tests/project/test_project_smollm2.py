"""Parameter projections of the real SmolLM2-135M (slow: loads the embedded model)."""

from __future__ import annotations

import pytest
import torch

from vocablens.project.projector import project, project_vectors

pytestmark = pytest.mark.slow  # the ``smollm2`` fixture (conftest.py) loads the real model


def test_tied_embeddings_read_back_as_their_own_token(smollm2):
    """A token's embedding, read through the (tied) unembedding, ranks that token first.

    Not for most tokens of SmolLM2-135M: a few large-norm word-start pieces (" strugg",
    " affili", ...) outscore the token itself. Measured over all 49152 tokens: 15.6 % top-1
    with the final norm's gain; 78 % among the 1000 lowest ids (frequent tokens).
    """
    view = smollm2.view
    assert view.tied
    sample = torch.randperm(view.vocab_size, generator=torch.Generator().manual_seed(0))[:3000]
    frequent = torch.arange(1000)
    ids = torch.cat([sample, frequent])
    table = project_vectors(smollm2, view.W_E.detach()[ids], k=1).table("vector", -1)
    self_first = table.token_ids[:, 0, 0] == ids  # (n,)
    assert self_first[: len(sample)].float().mean() > 0.10
    assert self_first[len(sample) :].float().mean() > 0.6


def test_value_projection_matches_naive_topk(smollm2):
    """The streamed, pruned top-k equals torch.topk over the full logits of one real layer."""
    view = smollm2.view
    result = project(smollm2, "values", layers=[7], k=30).table("values", 7)
    vectors = view.mlp(7).W_out.detach() * view.norm_gain.detach()  # (d_mlp, d_model)
    logits = vectors.double() @ view.W_U.detach().double().T  # (d_mlp, vocab)
    for side, largest in ((0, True), (1, False)):
        naive = logits.topk(30, dim=1, largest=largest)
        torch.testing.assert_close(
            result.scores[:, side].double(), naive.values, rtol=1e-4, atol=1e-4
        )
        same = (result.token_ids[:, side] == naive.indices).float().mean()
        assert same > 0.99  # the rest are float32 near-ties
