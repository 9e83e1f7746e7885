"""Readouts (raw, cosine, csls) against float64 brute-force references, and the untrained mask."""

from __future__ import annotations

import pytest
import torch

from vocablens import InputError
from vocablens.model.loading import load_model
from vocablens.model.untrained import near_duplicate_clusters, untrained_tokens
from vocablens.project import fused
from vocablens.project.projector import Projector, layer_tables, project, project_vectors
from vocablens.project.readouts import parse_readout, parse_readouts

from project_reference import (
    assert_topk,
    final_norm,
    mlp_experts,
    unembedding,
    written_readout,
)
from tiny_models import single_thread, tiny_model

TINY_BLOCK_MB = 0.004  # a few rows per block: exercises chunking and the running merges
FAMILIES = ("gpt2", "llama", "gemma2", "mixtral")  # LayerNorm + tied, RMSNorm, (1+w), MoE


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


def _norm_matrix(model, family) -> torch.Tensor:
    """(d, d): norm_linear(v) = v @ this."""
    gain, centre = final_norm(model, family)
    d = gain.shape[0]
    M = torch.diag(gain)
    if centre:
        M = (torch.eye(d, dtype=torch.float64) - 1.0 / d) @ M
    return M


def _reference(model, family, kind, hub_k=10):
    """Per (layer, expert): (cosines (n, vocab), csls top side, csls bottom side), float64."""
    W_U = unembedding(model, family)  # (vocab, d)
    u_norm = W_U.norm(dim=1)  # (vocab,)
    cos = {}
    for layer in range(2):
        for expert, refs in mlp_experts(model, family, layer).items():
            rows = refs[kind]  # (n, d)
            if kind == "values":
                x = rows @ _norm_matrix(model, family)  # (n, d)
                raw = rows @ written_readout(model, family)  # (n, vocab)
            else:
                x, raw = rows, rows @ W_U.T
            cos[layer, expert] = torch.nan_to_num(raw / x.norm(dim=1, keepdim=True) / u_norm)
            # (n, vocab): a zero row (a padding token) has cosine 0
    every = torch.cat(list(cos.values()))  # (all vectors, vocab)
    r_pos = every.topk(hub_k, dim=0).values.mean(0)  # (vocab,)
    r_neg = -every.topk(hub_k, dim=0, largest=False).values.mean(0)  # (vocab,)
    return {key: (c, 2 * c - r_pos, 2 * c + r_neg) for key, c in cos.items()}


@pytest.mark.parametrize("family", FAMILIES)
def test_cosine_and_csls_match_reference(family):
    model, _ = tiny_model(family, seed=4)
    k = 5
    result = project(
        model, "values,keys", k=k, readouts="cosine,csls", block_mb=TINY_BLOCK_MB,
        mask_untrained=False,
    )  # fmt: skip
    kinds = {table.kind for table in result.tables}
    for kind in kinds:
        for (layer, expert), (cos, top, bottom) in _reference(model, family, kind).items():
            table = result.table(kind, layer, expert, readout="cosine")
            assert table.readout == "cosine"
            for i in range(cos.shape[0]):
                assert_topk(table.token_ids[i, 0], table.scores[i, 0], cos[i])
                assert_topk(table.token_ids[i, 1], table.scores[i, 1], cos[i], largest=False)
            table = result.table(kind, layer, expert, readout="csls")
            for i in range(cos.shape[0]):
                assert_topk(table.token_ids[i, 0], table.scores[i, 0], top[i])
                assert_topk(table.token_ids[i, 1], table.scores[i, 1], bottom[i], largest=False)
    assert (result.to_pandas().score.abs() <= 3.0).all()


def test_raw_readout_is_unchanged_and_pairs_stay_raw():
    model, _ = tiny_model("llama", seed=2)
    both = project(model, "values,ov", layers=[0], k=3, readouts=["raw", "cosine"])
    alone = project(model, "values,ov", layers=[0], k=3)
    assert torch.equal(
        both.table("values", 0, readout="raw").scores, alone.table("values", 0).scores
    )
    frame = both.to_pandas()
    assert set(frame[frame.kind == "ov"].readout) == {"raw"}
    assert len(frame[frame.kind == "ov"]) == len(alone.to_pandas().query("kind == 'ov'"))
    assert set(frame.readout) == {"raw", "cosine"}


def test_csls_of_user_vectors_uses_the_value_statistic():
    model, _ = tiny_model("llama", seed=2)
    values = mlp_experts(model, "llama", 1)[-1]["values"][:4].float()
    mine = project_vectors(model, values, k=4, readout="csls", mask_untrained=False)
    ref = project(model, "values", layers=[1], k=4, readouts="csls", mask_untrained=False)
    assert torch.equal(mine.tables[0].token_ids, ref.table("values", 1).token_ids[:4])
    torch.testing.assert_close(mine.tables[0].scores, ref.table("values", 1).scores[:4])


def test_hub_statistic_is_cached_and_streamed():
    model, _ = tiny_model("gpt2", seed=1)
    projector = Projector(model, 3, readout="csls", block_mb=TINY_BLOCK_MB)
    hub = projector.hub("values")
    assert projector.hub("values") is hub
    assert hub.n_vectors == 2 * model.config.n_inner if model.config.n_inner else hub.n_vectors
    big = Projector(model, 3, readout="csls", block_mb=64).hub("values")
    torch.testing.assert_close(hub.r_pos, big.r_pos)
    torch.testing.assert_close(hub.r_neg, big.r_neg)


def test_readout_names():
    assert parse_readouts("raw, COSINE,raw") == ("raw", "cosine")
    assert parse_readout("csls") == "csls"
    for bad in ("", "cos", "raw,l2"):
        with pytest.raises(InputError, match="readout"):
            parse_readouts(bad)
    with pytest.raises(InputError):
        parse_readout("raw,cosine")
    model, _ = tiny_model("llama", seed=0)
    with pytest.raises(InputError, match="readout"):
        Projector(model, 3, readout="nearest")
    with pytest.raises(InputError, match="hub K"):
        Projector(model, 3, readout="csls", hub_k=0)


# ----- untrained tokens ---------------------------------------------------------------------
PLANTED = [7, 20, 33, 34, 90, 131]


def _planted_model():
    """Tiny llama (untied) whose unembedding rows PLANTED share one direction (at cosine > 0.999)."""
    model, _ = tiny_model("llama", seed=6)
    gen = torch.Generator().manual_seed(1)
    W = model.lm_head.weight.data
    direction = torch.randn(W.shape[1], generator=gen)
    for n, row in enumerate(PLANTED):
        W[row] = (1 + n) * 0.3 * direction + 0.002 * torch.randn(W.shape[1], generator=gen)
    W[50] = W[51] * 2  # a pair: below the minimum cluster size
    return model


def test_untrained_tokens_found_from_the_weights():
    model = _planted_model()
    lm = load_model(model)
    assert untrained_tokens(lm.view).tolist() == PLANTED
    rows = torch.randn(300, 16, generator=torch.Generator().manual_seed(0))
    rows[[3, 100, 250]] = rows[9].clone()
    rows[[4, 5]] = 0.0  # zero rows never cluster
    clusters = near_duplicate_clusters(rows, min_size=3)
    assert [c.tolist() for c in clusters] == [[3, 9, 100, 250]]
    assert near_duplicate_clusters(rows, min_size=5) == []


def test_untrained_tokens_masked_by_default_for_cosine_and_csls():
    model = _planted_model()
    planted = set(PLANTED)
    for readout in ("cosine", "csls"):
        frame = project(model, "values", k=20, readouts=readout).to_pandas()
        assert not planted & set(frame.token_id), readout
        kept = project(model, "values", k=20, readouts=readout, mask_untrained=False).to_pandas()
        assert planted & set(kept.token_id), "the planted direction should show when kept"
    raw = Projector(model, 3)
    assert raw.masked.numel() == 0 and raw.vector_tokens.numel() == model.config.vocab_size
    masked = Projector(model, 3, mask_untrained=True)
    assert masked.masked.tolist() == PLANTED
    frame = project(model, "values", k=20, mask_untrained=True).to_pandas()
    assert not planted & set(frame.token_id)


@pytest.mark.slow
def test_smollm2_untrained_tokens(smollm2):
    from vocablens.tokens import token_strings

    ids = untrained_tokens(smollm2.view)
    names = set(token_strings(smollm2.tokenizer, ids.tolist()))
    for name in ("<file_sep>", "<gh_stars>", "<empty_output>", "<jupyter_code>", "<issue_start>"):
        assert name in names
    assert 20 <= len(ids) <= 40, len(ids)
    assert not {"the", " the", " of", "."} & names


# ----- raw and cosine from one product (project/fused.py) ------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_fused_cosine_matches_the_reference(family):
    model, _ = tiny_model(family, seed=4)
    result = project(model, "values,keys", k=5, readouts="raw,cosine", block_mb=TINY_BLOCK_MB,
                     mask_untrained=False)  # fmt: skip
    alone = project(model, "values,keys", k=5, block_mb=TINY_BLOCK_MB)
    for kind in {table.kind for table in result.tables}:
        for (layer, expert), (cos, _, _) in _reference(model, family, kind).items():
            table = result.table(kind, layer, expert, readout="cosine")
            for i in range(cos.shape[0]):
                assert_topk(table.token_ids[i, 0], table.scores[i, 0], cos[i])
                assert_topk(table.token_ids[i, 1], table.scores[i, 1], cos[i], largest=False)
            raw = result.table(kind, layer, expert, readout="raw")
            assert torch.equal(raw.scores, alone.table(kind, layer, expert).scores)
            assert torch.equal(raw.token_ids, alone.table(kind, layer, expert).token_ids)


@pytest.mark.parametrize("family", ["llama", "mixtral"])
def test_fused_tables_are_the_separate_ones(family, monkeypatch):
    model, _ = tiny_model(family, seed=2)
    raw = Projector(model, 4, block_mb=TINY_BLOCK_MB)
    cos = raw.with_readout("cosine")  # untrained tokens masked: the cosine offsets
    assert fused.fusable([raw, cos]) and not fused.fusable([cos, raw])
    assert not fused.fusable([raw.with_readout("raw", mask_untrained=True), cos])
    one = layer_tables([raw, cos], 1, ["values", "keys"])
    monkeypatch.setattr(fused, "fusable", lambda projectors: False)
    two = layer_tables([raw, cos], 1, ["values", "keys"])
    assert [(t.kind, t.expert, t.readout) for t in one] == [
        (t.kind, t.expert, t.readout) for t in two
    ]
    for a, b in zip(one, two, strict=True):
        assert torch.equal(a.token_ids, b.token_ids), (a.kind, a.readout)
        torch.testing.assert_close(a.scores, b.scores, rtol=1e-5, atol=1e-6)
    assert not bool(torch.isin(one[-1].token_ids, cos.masked).any())
