"""One reader of the write-path table: the accessors and the intervention parts agree."""

from __future__ import annotations

import pytest
import torch

from vocablens import InputError, UnsupportedModelError, load_model
from vocablens.model import neurons, sublayers

from tiny_models import FAMILIES, tiny_model


@pytest.mark.parametrize("family", FAMILIES)
def test_sublayer_parts_are_the_write_path_modules(family):
    model, _ = tiny_model(family)
    view = load_model(model).view
    for layer in range(view.n_layers):
        o_proj = sublayers.attn_out_proj(view, layer)
        assert sublayers.sublayer(view, layer, "o_proj") is o_proj
        assert isinstance(o_proj, torch.nn.Module)
        attn_post, mlp_post = sublayers.post_norms(view, layer)
        if attn_post is not None:
            assert sublayers.sublayer(view, layer, "attn_out") is attn_post
        if mlp_post is not None:
            assert sublayers.sublayer(view, layer, "mlp_out") is mlp_post
        down = sublayers.mlp_down_proj(view, layer)
        if view.mlp(layer).moe:
            assert down is None
            with pytest.raises(InputError, match="mixture-of-experts"):
                sublayers.sublayer(view, layer, "down")
            with pytest.raises(UnsupportedModelError, match="mixture of experts"):
                neurons.down_projection(view, layer)
        else:
            assert sublayers.sublayer(view, layer, "down") is down
            assert neurons.down_projection(view, layer) is down
