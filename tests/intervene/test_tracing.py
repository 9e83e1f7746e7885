"""Causal tracing on a tiny model against a brute-force single-run reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocablens import InputError, load_model
from vocablens.intervene.tracing import embedding_std, subject_span, summarize, trace

from tiny_models import tiny_model
from tiny_tokenizer import tiny_tokenizer

WORDS = ("the", "big", "cat", "sat", "on", "a", "mat")
PROMPT = "the big cat sat on a mat"


@pytest.fixture(scope="module")
def lm():
    model, _ = tiny_model("llama", seed=3)
    return load_model(model.double(), tiny_tokenizer(160, extra=WORDS))


def _brute(lm, ids, span, kind, layers, pos, target, seed=0, noise=3.0):
    """One corrupted run with the clean state of ``kind`` at ``layers`` x ``pos`` put back by raw hooks."""
    view, model = lm.view, lm.model
    s0, s1 = span
    gen = torch.Generator().manual_seed(seed)
    delta = torch.zeros(len(ids), view.d_model)
    delta[s0:s1] = torch.randn(s1 - s0, view.d_model, generator=gen) * (noise * embedding_std(view))
    x = torch.tensor([ids])
    modules = {"mlp_out": lambda b: b.mlp, "attn_out": lambda b: b.self_attn, "resid": lambda b: b}
    clean = {}
    handles = [modules[kind](view.blocks[layer]).register_forward_hook(
        lambda m, a, o, layer=layer: clean.__setitem__(layer, (o[0] if isinstance(o, tuple) else o).clone()))
        for layer in layers]  # fmt: skip
    with torch.no_grad():
        model(input_ids=x)
    for h in handles:
        h.remove()

    def put_back(layer):
        def hook(m, a, o):
            out = (o[0] if isinstance(o, tuple) else o).clone()
            out[0, pos] = clean[layer][0, pos]
            return (out, *o[1:]) if isinstance(o, tuple) else out

        return hook

    handles = [view.blocks[0].register_forward_pre_hook(
        lambda m, a, k: ((a[0] + delta.to(a[0].dtype), *a[1:]), k) if a else
        (a, {**k, "hidden_states": k["hidden_states"] + delta.to(k["hidden_states"].dtype)}),
        with_kwargs=True)]  # fmt: skip
    handles += [
        modules[kind](view.blocks[layer]).register_forward_hook(put_back(layer)) for layer in layers
    ]
    try:
        with torch.no_grad():
            logits = model(input_ids=x).logits[0, -1]
    finally:
        for h in handles:
            h.remove()
    return float(torch.softmax(logits, -1)[target])


def test_trace_matches_brute_force(lm):
    ids, span = subject_span(lm, PROMPT, "big cat")
    assert span == (1, 3)
    result = trace(lm, PROMPT, "big cat", seeds=(0,), window=2, batch_size=7)
    assert result.scores.shape == (3, 2, 7)
    t = result.target_id
    for kind, layer, pos, layers in [("mlp_out", 0, 2, [0]), ("attn_out", 1, 4, [0, 1]),
                                     ("resid", 0, 1, [0]), ("mlp_out", 1, 6, [0, 1])]:  # fmt: skip
        k = result.kinds.index(kind)
        expected = _brute(lm, ids, span, kind, layers, pos, t)
        assert result.scores[k, layer, pos] == pytest.approx(expected, abs=1e-10)
    # restoring the last block's output at the last position restores the clean run
    assert result.scores[0, 1, 6] == pytest.approx(result.p_clean, abs=1e-10)
    # before the subject nothing changes
    assert np.allclose(result.scores[:, :, 0], result.p_corrupt)
    assert set(result.promoted) == {"resid", "mlp_out", "attn_out"}
    summary = summarize([result, result])
    assert summary.last_subject.shape == (3, 2)
    np.testing.assert_allclose(summary.last_token, result.indirect[:, :, -1])


def test_summary_positions_agree_with_full_trace(lm):
    full = trace(lm, PROMPT, "big cat", seeds=(0, 1), window=1)
    some = trace(lm, PROMPT, "big cat", seeds=(0, 1), window=1, positions="summary")
    np.testing.assert_allclose(some.scores[:, :, [2, 6]], full.scores[:, :, [2, 6]], atol=1e-12)
    assert np.isnan(some.scores[:, :, 4]).all()


def test_trace_bad_input(lm):
    with pytest.raises(InputError, match="is not in the prompt"):
        trace(lm, PROMPT, "dog")
    with pytest.raises(InputError, match="unknown trace kind"):
        trace(lm, PROMPT, "cat", kinds=("resid", "keys"))
