"""value_vectors: W_out rows of a loaded model, keyed like projections (layer, expert, index)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocablens import InputError, load_model
from vocablens.model.vectors import value_vectors

from tiny_models import tiny_model


def test_value_vectors():
    model, _ = tiny_model("llama")
    lm = load_model(model)
    vectors, keys = value_vectors(lm, [1])
    assert vectors.shape == (64, 32) and vectors.dtype == np.float32
    assert list(keys.columns) == ["layer", "expert", "index"]
    assert set(keys["expert"]) == {-1} and keys["index"].tolist() == list(range(64))
    np.testing.assert_array_equal(vectors, lm.view.mlp(1).W_out.detach().numpy())
    everything, all_keys = value_vectors(lm.view)  # a ModelView works as well
    assert everything.shape == (128, 32) and all_keys["layer"].tolist() == [0] * 64 + [1] * 64
    np.testing.assert_array_equal(everything[64:], vectors)
    assert value_vectors(lm, [-1])[1]["layer"].tolist() == [1] * 64
    with pytest.raises(InputError, match="no layers"):
        value_vectors(lm, [])
    with pytest.raises(InputError, match="expected a LoadedModel"):
        value_vectors(model)  # a bare transformers model is not resolved here


def test_value_vectors_cover_every_expert():
    model, tokenizer = tiny_model("mixtral")
    lm = load_model(model, tokenizer)
    vectors, keys = value_vectors(lm, [0])
    mlp = lm.view.mlp(0)
    assert mlp.moe and len(vectors) == mlp.n_experts * mlp.d_mlp
    assert sorted(set(keys["expert"])) == list(range(mlp.n_experts))
    row = int(((keys["expert"] == 2) & (keys["index"] == 5)).to_numpy().argmax())
    torch.testing.assert_close(torch.from_numpy(vectors[row]), mlp.W_out[2, 5].detach().float())
