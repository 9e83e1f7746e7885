"""Parameter projections of tiny random models against a brute-force float64 reference."""

from __future__ import annotations

import pytest
import torch

from vocablens.project.projector import project

from project_reference import (
    assert_topk,
    mlp_experts,
    mlp_vectors,
    ov_matrix,
    qk_matrix,
    unembedding,
    written_readout,
)
from tiny_models import FAMILIES, VOCAB, single_thread, tiny_model

TINY_BLOCK_MB = 0.004  # a few rows per block: exercises chunking and the running merge


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module", params=FAMILIES)
def tiny(request):
    model, _ = tiny_model(request.param, seed=3)
    return request.param, model


def _check_vectors(result, kind, layer, ref_rows, readout, tokens=None, expert=-1):
    table = result.table(kind, layer, expert)
    assert table.signs == (1, -1) and table.expert == expert
    assert torch.equal(table.index, torch.arange(ref_rows.shape[0]))
    scores = ref_rows @ readout  # (n, vocab)
    if tokens is not None:
        scores = scores[:, tokens]
        to_col = {int(t): c for c, t in enumerate(tokens)}
    for i in range(ref_rows.shape[0]):
        for side, largest in ((0, True), (1, False)):
            ids = table.token_ids[i, side]
            cols = ids if tokens is None else torch.tensor([to_col[int(t)] for t in ids])
            assert_topk(cols, table.scores[i, side], scores[i], largest=largest)


@pytest.mark.parametrize("k", [2, 7])
def test_values_and_keys_match_reference(tiny, k):
    family, model = tiny
    result = project(model, "values,keys", layers=None, k=k, block_mb=TINY_BLOCK_MB)
    tables = 0
    for layer in range(2):
        for expert, refs in mlp_experts(model, family, layer).items():
            readout = written_readout(model, family)
            _check_vectors(result, "values", layer, refs["values"], readout, expert=expert)
            for kind in refs.keys() - {"values"}:
                read = unembedding(model, family).T
                _check_vectors(result, kind, layer, refs[kind], read, expert=expert)
            tables += len(refs)
    assert len(result.tables) == tables, "one table per (kind, layer, expert), no more"
    kinds = {table.kind for table in result.tables}
    assert kinds == set(refs), "keys must expand to the family's key kinds"


def test_values_without_final_norm(tiny):
    family, model = tiny
    result = project(model, "values", layers=[1], k=4, final_norm=False)
    for expert, refs in mlp_experts(model, family, 1).items():
        readout = written_readout(model, family, final=False)
        _check_vectors(result, "values", 1, refs["values"], readout, expert=expert)


def _check_pairs(table, head, full, k, src_tokens=None, tokens=None):
    if src_tokens is not None:
        full = full[src_tokens][:, tokens]
    n_cols = full.shape[1]
    src_pos = table.src_token_ids[head, 0]
    out_pos = table.token_ids[head, 0]
    if src_tokens is not None:
        src_pos = torch.searchsorted(src_tokens, src_pos)
        out_pos = torch.searchsorted(tokens, out_pos)
    assert_topk(src_pos * n_cols + out_pos, table.scores[head, 0], full.reshape(-1))
    return full


def test_ov_and_qk_match_reference(tiny):
    family, model = tiny
    k = 6
    result = project(model, ["ov", "qk"], layers="0-1", k=k, block_mb=TINY_BLOCK_MB)
    for layer in range(2):
        ov, promoted, qk = (result.table(kind, layer) for kind in ("ov", "ov_promoted", "qk"))
        for head in range(model.config.num_attention_heads):
            full = _check_pairs(ov, head, ov_matrix(model, family, layer, head), k)
            col_max = full.amax(0)  # (vocab,)
            assert_topk(promoted.token_ids[head, 0], promoted.scores[head, 0], col_max)
            assert promoted.src_token_ids is None
            _check_pairs(qk, head, qk_matrix(model, family, layer, head), k)


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_token_subsets_restrict_both_sides(family):
    model, _ = tiny_model(family, seed=5)
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randperm(VOCAB[family], generator=gen)[:40].sort().values
    src_tokens = torch.randperm(VOCAB[family], generator=gen)[:30].sort().values
    result = project(
        model,
        "values,ov,qk",
        layers=[0],
        k=5,
        tokens=tokens.tolist(),
        src_tokens=src_tokens,
        block_mb=TINY_BLOCK_MB,
    )
    ref = mlp_vectors(model, family, 0)["values"]
    _check_vectors(result, "values", 0, ref, written_readout(model, family), tokens=tokens)
    for head in (0, 3):
        ov = ov_matrix(model, family, 0, head)
        _check_pairs(result.table("ov", 0), head, ov, 5, src_tokens, tokens)
        qk = qk_matrix(model, family, 0, head)
        _check_pairs(result.table("qk", 0), head, qk, 5, src_tokens, tokens)
    assert set(result.to_pandas().token_id) <= set(tokens.tolist())


def test_gqa_heads_share_key_value_weights():
    """Heads of one KV group read the same W_V: their OV circuits differ only through W_O."""
    model, _ = tiny_model("llama", seed=1)
    assert model.config.num_key_value_heads < model.config.num_attention_heads
    result = project(model, "ov", layers=[0], k=3)
    for head in range(4):
        _check_pairs(result.table("ov", 0), head, ov_matrix(model, "llama", 0, head), 3)
