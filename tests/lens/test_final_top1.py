"""``final_top1`` is what its docstring says: the model's own top-1, the lens's top-1 at resid L."""

from __future__ import annotations

import json

import torch

from vocablens.lens.logit_lens import Lens

from tiny_models import tiny_model

IDS = [5, 9, 2, 17, 33]


def tied_logits_model():
    """A tiny Llama whose unembedding rows are all equal: every logit ties with every other."""
    model, _ = tiny_model("llama", seed=2)
    with torch.no_grad():
        model.lm_head.weight.copy_(model.lm_head.weight[:1].expand_as(model.lm_head.weight))
    return model


def test_final_top1_is_the_top1_at_resid_L_even_on_ties():
    result = Lens(tied_logits_model())(IDS, k=3)
    L = result.n_layers
    last = result.site_index("resid", L)
    assert (result.final_top1[0] == result.top_ids[0, last, :, 0]).all()
    assert ((result.first_top1_layer[0] >= 0) & (result.first_top1_layer[0] <= L)).all()


def test_final_top1_without_resid_L_and_in_json():
    model, _ = tiny_model("llama", seed=2)
    lens = Lens(model)
    full = lens(IDS, k=3)
    early = lens(IDS, k=3, layers=[0])  # resid L not read: final_top1 still the model's own
    assert (early.final_top1 == full.final_top1).all()
    with torch.no_grad():
        own = model(torch.tensor([IDS])).logits[0].argmax(-1)  # (pos,)
    assert full.final_top1[0].tolist() == own.tolist()
    data = json.loads(full.to_json())["prompts"][0]
    assert data["final_top1"] == [full.token(i) for i in own.tolist()]
    first = full.first_top1_layer[0]
    assert data["first_top1_layer"] == first.tolist() and (first <= full.n_layers).all()
