"""Precision of the lens statistics where float32 cancellation bites, and the ``stats`` option."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocablens import InputError
from vocablens.lens import stats as lens_stats
from vocablens.lens.logit_lens import Lens
from vocablens.lens.stats import FinalDist, chunk_stats, top_logits

from tiny_models import tiny_model

PROMPT = [5, 9, 2, 17, 33, 8, 1, 21]


def _reference(logits: torch.Tensor, final: torch.Tensor):
    """Float64 entropy, KL(final ‖ site) and log-probs of ``(pos, sites, vocab)`` logits."""
    logp = torch.log_softmax(logits.double(), dim=-1)  # (pos, sites, vocab)
    logp_f = torch.log_softmax(final.double(), dim=-1)[:, None]  # (pos, 1, vocab)
    entropy = -(logp.exp() * logp).sum(-1)
    kl = (logp_f.exp() * (logp_f - logp)).sum(-1)
    return entropy, kl, logp


@pytest.mark.parametrize("offset", [0.0, 300.0, -2000.0])
def test_large_logits_do_not_cancel(offset):
    """Logits far from 0 (offset) with a wide spread: the old lse-identity KL was off by ~1e-2."""
    gen = torch.Generator().manual_seed(0)
    vocab = 50_000 + 7  # not a multiple of the top-k group size
    base = 12.0 * torch.randn(3, 1, vocab, generator=gen)  # (pos, 1, vocab)
    noise = torch.randn(3, 4, vocab, generator=gen) * torch.tensor([3.0, 1.0, 0.1, 0.0])[:, None]
    logits = (base + noise + offset).float().contiguous()  # (pos, 4 sites, vocab); last = final
    final = FinalDist.from_logits(logits[:, -1].contiguous())
    ids = torch.tensor([3, 70, vocab - 2])
    st = chunk_stats(logits, final, 5, ids, ids, final_row=3)
    entropy, kl, logp = _reference(logits, logits[:, -1])
    assert (st.kl_to_final.double() - kl).abs().max() <= 1e-4 + 1e-4 * kl.max()
    assert (st.kl_to_final[:, 3] == 0).all()
    assert (st.entropy.double() - entropy).abs().max() <= 2e-4
    ce = -logp.gather(-1, ids[:, None, None].expand(-1, 4, 1)).squeeze(-1)  # (pos, sites)
    assert (st.next_token_ce.double() - ce).abs().max() <= 2e-4
    assert torch.allclose(st.target_prob.double(), (-ce).exp(), rtol=1e-4, atol=1e-9)
    top_p, top_i = logp.exp().topk(5, dim=-1)
    assert torch.equal(st.top_ids, top_i)
    assert torch.allclose(st.top_probs.double(), top_p, rtol=1e-4, atol=1e-9)
    rank = (logits > logits.gather(-1, ids[:, None, None].expand(-1, 4, 1))).sum(-1)
    assert torch.equal(st.target_rank, rank)


def test_old_identity_form_fails_where_the_new_one_holds():
    """The pre-fix formula (float32 einsum + lse identity) misses the last-layer bound of 2e-4."""
    gen = torch.Generator().manual_seed(1)
    logits = (12.0 * torch.randn(4, 2, 49152, generator=gen) - 1000.0).float()  # (pos, 2, vocab)
    logits[:, 1] = logits[:, 0]  # site 1 is the final one: KL must be 0
    p = torch.softmax(logits[:, 1], -1)
    lse = torch.logsumexp(logits, -1)  # (pos, 2)
    neg_entropy = torch.einsum("pv,pv->p", p, logits[:, 1]) - lse[:, 1]
    old_kl = neg_entropy[:, None] - torch.einsum("pv,psv->ps", p, logits) + lse
    st = chunk_stats(logits, FinalDist.from_logits(logits[:, 1].contiguous()), 1,
                     torch.zeros(4, dtype=torch.long), torch.zeros(4, dtype=torch.long))  # fmt: skip
    assert old_kl[:, 1].abs().max() > 2e-4  # what the issue saw on SmolLM2 (up to 5.8e-3)
    assert st.kl_to_final[:, 1].abs().max() <= 2e-5  # computed, not set: no final_row given


@pytest.mark.parametrize("k", [1, 3, 40])
def test_top_logits_matches_topk(k):
    gen = torch.Generator().manual_seed(k)
    for vocab in (50, 1000, 4099):
        x = torch.randn(6, vocab, generator=gen)
        values, ids = top_logits(x, k)
        ref_values, ref_ids = x.topk(k, dim=-1)
        assert torch.equal(values, ref_values) and torch.equal(ids, ref_ids)


def test_sub_blocks_cover_the_chunk(monkeypatch):
    """Tiny sub-blocks (pieces of one position's sites) give the same numbers as one block."""
    model, _ = tiny_model("llama", seed=3)
    whole = Lens(model)(PROMPT, k=4, sites=("resid", "mlp_out"))
    monkeypatch.setattr(lens_stats, "SUB_BLOCK_BYTES", 3 * 4 * model.config.vocab_size)
    pieces = Lens(model)(PROMPT, k=4, sites=("resid", "mlp_out"))
    for name in ("top_ids", "top_probs", "entropy", "kl_to_final", "next_token_ce"):
        assert np.allclose(getattr(whole, name), getattr(pieces, name), atol=1e-6, equal_nan=True)
    assert (whole.target_rank == pieces.target_rank).all()


def test_only_the_asked_statistics_are_computed():
    model, _ = tiny_model("llama", seed=3)
    lens = Lens(model)
    full = lens(PROMPT, k=3)
    assert full.stats == ("top", "entropy", "kl", "ce", "target")
    part = lens(PROMPT, k=3, stats=("kl", "top"))
    assert part.stats == ("top", "kl")
    assert (part.top_ids == full.top_ids).all()
    assert np.array_equal(part.kl_to_final, full.kl_to_final)
    assert (part.first_top1_layer == full.first_top1_layer).all()
    for name in ("entropy", "next_token_ce", "target_prob"):
        assert np.isnan(getattr(part, name)).all()
    assert (part.target_rank == -1).all()
    no_top = lens(PROMPT, k=3, stats=["entropy"])
    assert (no_top.top_ids == -1).all() and np.isnan(no_top.top_probs).all()
    assert (no_top.first_top1_layer == -1).all()
    assert (no_top.final_top1 == full.final_top1).all()
    assert np.array_equal(no_top.entropy, full.entropy)
    assert no_top.to_dict()["prompts"][0]["layers"][0]["positions"][0]["kl_to_final"] is None
    with pytest.raises(InputError, match="unknown statistic 'rank'"):
        lens(PROMPT, stats=("rank",))
    with pytest.raises(InputError, match="no statistic"):
        lens(PROMPT, stats=())
