"""Direct logit attribution on the real SmolLM2-135M: exact sums and the known prediction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocablens.explain import explain
from vocablens.model.hooks import forward_capture

pytestmark = pytest.mark.slow
PROMPT = "The capital of France is"


def test_sums_are_exact_on_smollm2(smollm2):
    e = explain(smollm2, PROMPT, geva_top=3)
    assert e.predicted == " Paris" and e.target_id == e.predicted_id
    assert abs(e.total - e.residual_logit) < 1e-4
    assert abs(e.logit - e.model_logit) < 1e-4  # RMSNorm, no biases, no cap
    assert e.pos_embed is None and len(e.layers) == 30 and e.layers[0].heads.shape == (9,)
    assert e.layers[0].neurons.shape == (1536,)
    # the last block's MLP total equals its output read along the frozen direction
    view = smollm2.view
    ids = torch.tensor([e.token_ids])
    states = forward_capture(view, ids, torch.ones_like(ids), [("mlp_out", 29), ("attn_out", 29)])
    w = view.W_U[e.target_id].detach().double() * view.norm_gain.detach().double()
    d = w * e.final_norm_scale
    assert abs(e.layers[29].mlp - float(states[("mlp_out", 29)][0, -1].double() @ d)) < 1e-4
    assert abs(e.layers[29].attn - float(states[("attn_out", 29)][0, -1].double() @ d)) < 1e-4
    top = e.top(5)
    assert top["contribution"].abs().iloc[0] > 1.0  # a few components carry the prediction


def test_logit_difference_on_smollm2(smollm2):
    e = explain(smollm2, PROMPT, " Paris", contrast=" London", geva_top=0)
    assert abs(e.total - e.residual_logit) < 1e-4
    assert abs(e.model_logit - e.logit) < 1e-4 and e.model_logit > 0
    frame = e.to_pandas()
    assert np.isclose(frame["contribution"].sum(), e.residual_logit, atol=1e-4)
