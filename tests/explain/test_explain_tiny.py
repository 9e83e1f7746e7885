"""Direct logit attribution on tiny random models of every family: exact sums, checked per part."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocablens import load_model
from vocablens.explain import explain
from vocablens.model import sublayers
from vocablens.model.hooks import forward_capture

from tiny_models import FAMILIES, MOE_FAMILIES, tiny_model

PROMPT = [3, 5, 7, 11, 13, 2, 9, 4]
TOL = 1e-4


@pytest.fixture(scope="module", params=FAMILIES)
def family_lm(request):
    model, _ = tiny_model(request.param, seed=0)
    return request.param, load_model(model)


def _direction(lm, e, token):
    """The final-norm-side readout direction, rebuilt from the view (not from the library)."""
    view = lm.view
    w = view.W_U[token].detach().double() * view.norm_gain.double() * e.final_norm_scale
    return (w - w.mean() if view.norm_kind == "layernorm" else w).detach()


def test_contributions_add_up_to_the_residual_logit(family_lm):
    _, lm = family_lm
    e = explain(lm, PROMPT)
    assert abs(e.total - e.residual_logit) < TOL
    assert abs(e.capped_logit - e.model_logit) < TOL  # the frozen final norm is the model's own
    assert e.target_id == e.predicted_id == int(np.argmax(_logits(lm)[-1]))
    frame = e.to_pandas()
    assert abs(frame["contribution"].sum() - e.residual_logit) < TOL


def test_logit_difference_adds_up_too(family_lm):
    _, lm = family_lm
    a, b = 1, 6
    diff = explain(lm, PROMPT, a, contrast=b, position=3)
    one, two = explain(lm, PROMPT, a, position=3), explain(lm, PROMPT, b, position=3)
    assert abs(diff.total - diff.residual_logit) < TOL
    assert abs(diff.residual_logit - (one.residual_logit - two.residual_logit)) < TOL
    assert abs(diff.capped_logit - diff.model_logit) < TOL
    logits = _logits(lm)[3]
    assert abs(diff.model_logit - (logits[a] - logits[b])) < TOL
    for x, y, z in zip(diff.layers, one.layers, two.layers, strict=True):
        np.testing.assert_allclose(x.heads, y.heads - z.heads, atol=1e-6)
        np.testing.assert_allclose(x.neurons, y.neurons - z.neurons, atol=1e-6)


def test_each_layer_matches_an_independent_capture(family_lm):
    """Heads + bias = the attn_out site, neurons + bias = the mlp_out site (hooks.py's capture)."""
    _, lm = family_lm
    pos, target = 5, 2
    e = explain(lm, PROMPT, target, position=pos)
    d = _direction(lm, e, target)
    view = lm.view
    sites = [(s, layer) for layer in range(view.n_layers) for s in ("attn_out", "mlp_out")]
    ids = torch.tensor([PROMPT])
    states = forward_capture(view, ids, torch.ones_like(ids), [*sites, ("resid", 0)])
    for lay in e.layers:
        attn = states[("attn_out", lay.layer)][0, pos].double() @ d
        mlp = states[("mlp_out", lay.layer)][0, pos].double() @ d
        assert abs(lay.attn - float(attn)) < TOL and abs(lay.mlp - float(mlp)) < TOL
    assert abs(e.embeddings - float(states[("resid", 0)][0, pos].double() @ d)) < TOL
    token = view.W_E[PROMPT[pos]].detach().double() * view.embed_scale
    assert abs(e.token_embed - float(token @ d)) < TOL
    assert (e.pos_embed is not None) == (view.family.name in ("gpt2", "opt"))


def _with_hook(lm, module, hook, *args, **kwargs):
    handle = module.register_forward_pre_hook(hook)
    try:
        return explain(lm, PROMPT, *args, **kwargs)
    finally:
        handle.remove()


def _zeroing(lo, hi):
    def hook(module, args):
        x = args[0].clone()
        x[..., lo:hi] = 0
        return (x, *args[1:])

    return hook


def test_interventions_are_honoured(family_lm):
    """Hooks that zero head 0 / one neuron of the last layer: contribution 0, sums still hold."""
    _, lm = family_lm
    view = lm.view
    last = view.n_layers - 1
    before = explain(lm, PROMPT, 4)
    d_head = view.attention(last).W_O.shape[1]
    proj = sublayers.attn_out_proj(view, last)
    after = _with_hook(lm, proj, _zeroing(0, d_head), 4)
    assert after.layers[last].heads[0] == 0.0 and before.layers[last].heads[0] != 0.0
    assert abs(after.total - after.residual_logit) < TOL

    down = sublayers.mlp_down_proj(view, last)
    if down is None:  # MoE: the experts module recomputes its coefficients
        return
    neuron = int(np.argmax(np.abs(before.layers[last].neurons)))
    after = _with_hook(lm, down, _zeroing(neuron, neuron + 1), 4)
    assert after.layers[last].neurons[neuron] == 0.0
    assert abs(after.total - after.residual_logit) < TOL
    if sublayers.post_norms(view, last)[1] is None:  # nothing but the final norm reads it
        ratio = before.final_norm_scale / after.final_norm_scale  # d scales with the final norm
        drop = before.residual_logit - after.residual_logit * ratio
        assert abs(drop - before.layers[last].neurons[neuron]) < TOL


@pytest.mark.parametrize("family", MOE_FAMILIES)
def test_moe_coefficients_follow_the_routing(family):
    model, _ = tiny_model(family, seed=0)
    e = explain(load_model(model), PROMPT)
    for lay in e.layers:
        if not lay.moe:
            continue
        assert lay.neurons.shape == lay.coefficients.shape == (4, 16)
        routed = np.abs(lay.coefficients).sum(axis=1) > 0
        assert routed.sum() == 2  # num_experts_per_tok
        expert, index = lay.neuron_keys()
        frame = e.to_pandas()
        rows = frame[(frame["component"] == "neuron") & (frame["layer"] == lay.layer)]
        assert (
            rows["expert"].tolist() == expert.tolist() and rows["index"].tolist() == index.tolist()
        )


def _logits(lm):
    with torch.inference_mode():
        ids = torch.tensor([PROMPT])
        return lm.model(input_ids=ids).logits[0].double().numpy()  # (pos, vocab)
