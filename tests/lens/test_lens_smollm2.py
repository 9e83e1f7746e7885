"""Checks on the embedded real model, SmolLM2-135M-Instruct (marked slow: ~10 s after the first load)."""

from __future__ import annotations

import pytest
import torch

from vocablens import InputError
from vocablens.lens.logit_lens import Lens
from vocablens.model.hooks import forward_capture

pytestmark = pytest.mark.slow


def test_architecture_view(smollm2):
    card = smollm2.view.describe()
    assert card["n_layers"] == 30 and card["d_model"] == 576 and card["vocab_size"] == 49152
    assert card["tied_embeddings"] and card["norm"] == "rmsnorm" and card["n_kv_heads"] == 3


def test_last_layer_equals_logits(smollm2):
    view = smollm2.view
    ids = smollm2.tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    states = forward_capture(view, ids, torch.ones_like(ids), [("resid", 30)])
    with torch.no_grad():
        logits = smollm2.model(ids).logits
        lens_logits = view.unembed(states[("resid", 30)])
    assert (lens_logits - logits).abs().max().item() <= 1e-4


def test_paris(smollm2):
    result = Lens(smollm2)("The capital of France is", k=5, target=" Paris")
    last = len(result.token_ids[0]) - 1
    assert result.token(result.final_top1[0, last]) == " Paris"
    first = int(result.first_top1_layer[0, last])
    assert 0 < first <= 30
    s = result.site_index("resid", first)
    assert result.token(result.top_ids[0, s, last, 0]) == " Paris"
    assert result.target_rank[0, result.site_index("resid", 30), last] == 0
    if first > 0:
        before = result.site_index("resid", first - 1)
        assert result.token(result.top_ids[0, before, last, 0]) != " Paris"


def test_multi_token_target_names_the_pieces(smollm2):
    with pytest.raises(InputError, match=r"splits into 2 \(' Paris', 'ian'\)"):
        Lens(smollm2)("The capital of France is", target=" Parisian")
