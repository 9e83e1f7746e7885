"""The six newer families: what the family table reads, and the one-line error for the rest."""

from __future__ import annotations

import pytest
import torch

from vocablens import UnsupportedModelError, load_model
from vocablens.model.families import FAMILIES
from vocablens.model.hooks import forward_capture

from tiny_models import GEMMA3_SOFTCAP, tiny_config, tiny_model

PROMPT = [5, 9, 2, 17, 33, 8, 1, 21]


def test_unknown_model_type_gets_one_line_error():
    model, _ = tiny_model("llama")
    model.config.model_type = "nonesuch"
    with pytest.raises(UnsupportedModelError) as caught:
        load_model(model)
    message = str(caught.value)
    assert "\n" not in message and "'nonesuch'" in message
    for family in FAMILIES:
        assert family.name in message
    for model_type in ("phi3", "gemma3_text", "olmo2", "mixtral", "qwen3_moe", "gptj"):
        assert model_type in message


def test_moe_weights_are_views_with_an_expert_axis():
    model, _ = tiny_model("mixtral", seed=1)
    view = load_model(model).view
    mlp = view.mlp(0)
    experts = model.model.layers[0].mlp.experts
    assert mlp.moe and mlp.gated and mlp.n_experts == 4 and mlp.d_mlp == 16
    assert mlp.W_out.shape == mlp.W_gate.shape == mlp.W_up.shape == (4, 16, 32)
    assert mlp.W_gate.data_ptr() == experts.gate_up_proj.data_ptr()  # no copy
    parts = mlp.parts()
    assert [expert for expert, _ in parts] == [0, 1, 2, 3]
    two = parts[2][1]
    assert not two.moe and two.W_out.shape == (16, 32)
    assert torch.equal(two.W_up, experts.gate_up_proj[2, 16:])
    assert torch.equal(two.W_out, experts.down_proj[2].T)
    assert view.describe()["n_experts"] == 4


def test_qwen3_moe_mixes_dense_and_expert_layers():
    model, _ = tiny_model("qwen3-moe")
    view = load_model(model).view
    dense, moe = view.mlp(0), view.mlp(1)
    assert not dense.moe and dense.n_experts == 0 and dense.d_mlp == 64
    assert dense.parts() == [(-1, dense)]
    with pytest.raises(ValueError, match="no experts"):
        dense.expert(0)
    assert moe.n_experts == 4 and moe.d_mlp == 16
    card = view.describe()
    assert card["n_experts"] == 4 and card["d_mlp"] == 64


def test_moe_lens_identity_with_the_default_experts_kernel():
    """The tiny MoE models run eager experts (for float64); the default kernel reads out alike."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(tiny_config("qwen3-moe")).eval()
    assert model.config._experts_implementation != "eager"
    view = load_model(model).view
    ids = torch.tensor([PROMPT])
    L = view.n_layers
    sites = [("resid", 1), ("attn_out", 1), ("mlp_out", 1), ("resid", L)]
    states = forward_capture(view, ids, torch.ones_like(ids), sites)
    with torch.no_grad():
        logits = model(ids).logits
        lens = view.unembed(states[("resid", L)])
    assert (lens - logits).abs().max().item() <= 1e-4
    total = states[("resid", 1)] + states[("attn_out", 1)] + states[("mlp_out", 1)]
    assert torch.allclose(total, states[("resid", L)], atol=1e-5)


def test_gemma3_soft_cap_and_sliding_window_are_exercised():
    model, _ = tiny_model("gemma3", seed=3)
    view = load_model(model).view
    config = model.config
    assert view.softcap == GEMMA3_SOFTCAP and view.embed_scale == pytest.approx(32**0.5)
    assert "sliding_attention" in config.layer_types and config.sliding_window < len(PROMPT)
    ids = torch.tensor([PROMPT])
    states = forward_capture(view, ids, torch.ones_like(ids), [("resid", 2)])
    with torch.no_grad():
        logits = model(ids).logits
        uncapped = torch.nn.functional.linear(view.final_norm(states[("resid", 2)]), view.W_U)
    assert (view.cap(uncapped) - logits).abs().max().item() <= 1e-5
    assert (uncapped - logits).abs().max().item() > 1e-2, "the cap must bend the tiny logits"


@pytest.mark.parametrize(
    ("family", "parallel", "bias"),
    [("gptj", True, True), ("phi3", False, False), ("olmo2", False, False)],
)
def test_block_layout_flags(family, parallel, bias):
    model, _ = tiny_model(family)
    view = load_model(model).view
    assert view.parallel is parallel
    assert (view.b_U is not None) is bias
    if family == "olmo2":  # no pre-norm: the MLP module itself reads resid_mid
        assert view.mlp_norm_module(0) is view.blocks[0].mlp
    if family == "phi3":  # fused QKV with grouped-query attention
        attn = view.attention(0)
        assert attn.W_Q.shape == (4, 32, 8) and attn.W_K.shape == attn.W_V.shape == (2, 32, 8)
