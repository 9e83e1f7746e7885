"""The residual logit lens on tiny random models of every family, against float64 references."""

from __future__ import annotations

import json

import pytest
import torch

from vocablens import InputError, UnsupportedModelError, load_model
from vocablens.lens.logit_lens import Lens
from vocablens.model.hooks import forward_capture

from tiny_models import FAMILIES, tiny_model

PROMPTS = [[5, 9, 2, 17, 33, 8, 1, 21], [3, 4, 40], [11, 12, 13, 14, 15]]


@pytest.fixture(scope="module", params=FAMILIES)
def family_model(request):
    model, _ = tiny_model(request.param, seed=3)
    return request.param, model


def _reference(model: torch.nn.Module, ids: list[int]):
    """Float64 lens read-outs of every residual layer, from transformers' own hidden states."""
    ref = load_model(_double_copy(model))
    view = ref.view
    with torch.no_grad():
        out = ref.model(torch.tensor([ids]), output_hidden_states=True)
    hidden = out.hidden_states  # L+1 states; the last one is already final-normed
    logits = [view.unembed(h[0]) for h in hidden[:-1]]  # (pos, vocab) for ℓ = 0..L-1
    logits.append(out.logits[0])  # ℓ = L: the model's own logits
    return torch.stack(logits)  # (L+1, pos, vocab)


def _double_copy(model):
    import copy

    return copy.deepcopy(model).double()


def test_last_layer_equals_model_logits(family_model):
    family, model = family_model
    view = load_model(model).view
    ids = torch.tensor([PROMPTS[0]])
    states = forward_capture(view, ids, torch.ones_like(ids), [("resid", view.n_layers)])
    with torch.no_grad():
        logits = model(ids).logits
        lens_logits = view.unembed(states[("resid", view.n_layers)])
    assert (lens_logits - logits).abs().max().item() <= 1e-4, family


def test_statistics_match_float64_reference(family_model):
    family, model = family_model
    lens = Lens(model)
    ids = PROMPTS[0]
    result = lens(ids, k=5)
    ref = _reference(model, ids)  # (L+1, pos, vocab) float64
    logp = torch.log_softmax(ref, dim=-1)
    probs = logp.exp()
    final = logp[-1]
    entropy = -(probs * logp).sum(-1)  # (L+1, pos)
    kl = (final.exp() * (final - logp)).sum(-1)  # (L+1, pos)
    next_ids = torch.tensor(ids[1:])
    ce = -logp[:, torch.arange(len(ids) - 1), next_ids]  # (L+1, pos-1)
    top_p, top_i = probs.topk(5, dim=-1)
    assert result.sites == [("resid", layer) for layer in range(lens.n_layers + 1)]
    assert torch.equal(torch.from_numpy(result.top_ids[0]), top_i), family
    assert torch.allclose(torch.from_numpy(result.top_probs[0]).double(), top_p, atol=1e-5)
    assert torch.allclose(torch.from_numpy(result.entropy[0]).double(), entropy, atol=1e-4)
    assert torch.allclose(torch.from_numpy(result.kl_to_final[0]).double(), kl, atol=1e-4)
    got_ce = torch.from_numpy(result.next_token_ce[0]).double()
    assert torch.allclose(got_ce[:, :-1], ce, atol=1e-4)
    assert torch.isnan(got_ce[:, -1]).all()
    # Rank of the next token: how many tokens have a strictly larger logit.
    rank = (ref[:, :-1] > ref[:, torch.arange(len(ids) - 1), next_ids][..., None]).sum(-1)
    assert torch.equal(torch.from_numpy(result.target_rank[0, :, :-1]), rank)
    assert (result.kl_to_final[0, -1] < 1e-4).all()
    final_top1 = final.argmax(-1)
    assert torch.equal(torch.from_numpy(result.final_top1[0]), final_top1)
    first = [(top_i[:, t, 0] == final_top1[t]).nonzero()[0].item() for t in range(len(ids))]
    assert result.first_top1_layer[0].tolist() == first


def test_batched_padded_prompts_equal_each_alone(family_model):
    _, model = family_model
    lens = Lens(model, batch_size=3, chunk_tokens=7)
    batched = lens(PROMPTS, k=4, sites=("resid", "attn_out", "mlp_out", "resid_mid"))
    for p, ids in enumerate(PROMPTS):
        alone = Lens(model, batch_size=1)(
            ids, k=4, sites=("resid", "attn_out", "mlp_out", "resid_mid")
        )
        n = len(ids)
        assert (batched.top_ids[p, :, :n] == alone.top_ids[0, :, :n]).all()
        for name in ("top_probs", "entropy", "kl_to_final", "next_token_ce", "target_prob"):
            a, b = getattr(batched, name)[p, :, :n], getattr(alone, name)[0, :, :n]
            assert torch.allclose(
                torch.from_numpy(a), torch.from_numpy(b), atol=2e-5, equal_nan=True
            )
        assert (batched.top_ids[p, :, n:] == -1).all()


def test_sites_decompose_the_residual_stream(family_model):
    family, model = family_model
    view = load_model(model).view
    ids = torch.tensor([PROMPTS[0]])
    L = view.n_layers
    sites = [
        (s, layer) for layer in range(L) for s in ("resid", "resid_mid", "attn_out", "mlp_out")
    ]
    states = forward_capture(view, ids, torch.ones_like(ids), [*sites, ("resid", L)])
    attn_outputs = {}
    hooks = [
        view.attn_module(layer).register_forward_hook(
            lambda m, a, out, layer=layer: attn_outputs.__setitem__(layer, out[0])
        )
        for layer in range(L)
    ]
    try:
        with torch.no_grad():
            model(ids)
    finally:
        for h in hooks:
            h.remove()
    for layer in range(L):
        total = states[("resid", layer)] + states[("attn_out", layer)] + states[("mlp_out", layer)]
        assert torch.allclose(total, states[("resid", layer + 1)], atol=1e-5)
        attn = attn_outputs[layer]
        if family in ("gemma2", "gemma3", "olmo2"):  # a norm after attention, before the add
            attn = view.blocks[layer].post_attention_layernorm(attn)
        assert torch.allclose(states[("attn_out", layer)], attn, atol=1e-5), family


def test_layer_filter_and_target(family_model):
    _, model = family_model
    lens = Lens(model)
    result = lens(PROMPTS[0], k=3, layers=[0, 2], target=7)
    assert result.sites == [("resid", 0), ("resid", 2)]
    full = lens(PROMPTS[0], k=3)
    assert (result.top_ids[0, 1] == full.top_ids[0, 2]).all()
    assert (result.target_rank[0] >= 0).all()  # a given target is ranked at every position


def test_bad_input_raises_typed_errors():
    model, _ = tiny_model("llama")
    lens = Lens(model)
    with pytest.raises(InputError, match="empty prompt"):
        lens([[]])
    with pytest.raises(InputError, match="out of range"):
        lens(PROMPTS[0], layers=[3])
    with pytest.raises(InputError, match="unknown site"):
        lens(PROMPTS[0], sites=("resid_post",))
    with pytest.raises(InputError, match="context of 64"):
        lens(list(range(5, 75)))
    assert len(lens(list(range(5, 75)), truncate=True).token_ids[0]) == 64
    with pytest.raises(InputError, match="no tokenizer"):
        lens("hello")


def test_unsupported_architecture_names_supported_families():
    from transformers import AutoModelForCausalLM, BloomConfig

    bloom = AutoModelForCausalLM.from_config(
        BloomConfig(vocab_size=50, hidden_size=16, n_layer=1, n_head=2)
    )
    with pytest.raises(UnsupportedModelError, match="supported families: gpt2"):
        load_model(bloom)


def test_json_layout(family_model):
    _, model = family_model
    data = json.loads(Lens(model)(PROMPTS[1], k=2, sites=("resid", "mlp_out")).to_json())
    prompt = data["prompts"][0]
    assert prompt["token_ids"] == PROMPTS[1]
    layer = prompt["layers"][0]
    assert set(layer) == {"layer", "site", "positions"}
    pos = layer["positions"][-1]
    for key in ("top_ids", "top_tokens", "top_probs", "entropy", "kl_to_final", "next_token_ce"):
        assert key in pos
    assert pos["next_token_ce"] is None and len(pos["top_ids"]) == 2
    assert {entry["site"] for entry in prompt["layers"]} == {"resid", "mlp_out"}


def test_half_precision_model_runs_and_matches_its_own_logits():
    import copy

    model, _ = tiny_model("llama", seed=5)
    half = copy.deepcopy(model).to(torch.bfloat16)
    result = Lens(half)(PROMPTS[0], k=3)
    with torch.no_grad():
        logits = half(torch.tensor([PROMPTS[0]])).logits[0].float()  # (pos, vocab)
    last = result.site_index("resid", 2)
    assert torch.equal(torch.from_numpy(result.final_top1[0]), logits.argmax(-1))
    assert torch.equal(torch.from_numpy(result.top_ids[0, last, :, 0]), logits.argmax(-1))
    assert (result.kl_to_final[0, last] < 1e-3).all()
