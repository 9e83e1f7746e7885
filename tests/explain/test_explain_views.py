"""The Geva et al. 2022 view, labels, tables, JSON and bad input of `explain` (tiny models)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from vocablens import InputError, load_model
from vocablens.explain import explain
from vocablens.explain.geva import needed_counts

from tiny_models import tiny_model

PROMPT = [3, 5, 7, 11, 13, 2, 9, 4]


@pytest.fixture(scope="module")
def lm():
    model, _ = tiny_model("gpt2", seed=3)
    return load_model(model)


def test_needed_counts():
    c = np.array([0.5, -0.25, 3.0, 1.0, 0.0])  # sum 4.25, sorted 3, 1, .5, 0, -.25
    assert needed_counts(c, (0.5, 0.8, 0.9, 1.0)) == {0.5: 1, 0.8: 2, 0.9: 2, 1.0: 3}
    assert needed_counts(np.array([-1.0, 0.5]), (0.5,)) == {0.5: -1}


def test_geva_view_and_value_ranks(lm):
    e = explain(lm, PROMPT, geva_top=5)
    view = lm.view
    W_U = view.W_U.detach().double().numpy()
    for lay, geva in zip(e.layers, e.geva, strict=True):
        assert geva.layer == lay.layer and geva.n_neurons == lay.neurons.size
        assert abs(geva.net - lay.neurons.sum()) < 1e-9
        assert [s.contribution for s in geva.top] == sorted(lay.neurons, reverse=True)[:5]
        for sub in geva.top:
            v = view.mlp(lay.layer).W_out[sub.index].detach().double() * sub.sign
            scores = W_U @ view.norm_linear(v).detach().numpy()  # (vocab,) brute force
            assert sub.rank == int((scores > scores[e.target_id]).sum())
            assert sub.sign == (1 if lay.coefficients[sub.index] >= 0 else -1)
        k = geva.needed[0.9]
        if geva.net > 0:
            top = np.sort(lay.neurons)[::-1]
            assert top[:k].sum() >= 0.9 * geva.net > top[: k - 1].sum()
    assert all(not g.top for g in explain(lm, PROMPT, geva_top=0).geva)


def test_labels_by_the_side_the_neuron_writes(lm):
    e = explain(lm, PROMPT)
    coef = e.layers[1].coefficients
    pos, neg = int(np.argmax(coef)), int(np.argmin(coef))
    table = pd.DataFrame({  # a minimal table: no expert, no label_kind, no kind
        "layer": [1, 1, 1, 1], "index": [pos, pos, neg, neg], "sign": [1, -1, 1, -1],
        "label": ["pos-promotes", "pos-suppresses", "neg-promotes", "neg-suppresses"],
    })  # fmt: skip
    labelled = explain(lm, PROMPT, annotations=table)
    assert labelled.labels == {
        (1, -1, pos): ("pos-promotes", ""),
        (1, -1, neg): ("neg-suppresses", ""),
    }
    frame = labelled.to_pandas()
    row = frame[(frame["component"] == "neuron") & (frame["layer"] == 1) & (frame["index"] == neg)]
    assert row["label"].item() == "neg-suppresses"
    with pytest.raises(InputError, match="lack the column"):
        explain(lm, PROMPT, annotations=table.drop(columns="sign"))


def test_tables_and_json(lm):
    e = explain(lm, PROMPT, 7, contrast=8)
    frame = e.to_pandas()
    assert list(frame["component"].unique()) == ["token_embed", "pos_embed", "head", "attn_bias",
                                                 "neuron", "mlp_bias"]  # fmt: skip
    assert len(frame) == 2 + 2 * (4 + 1 + 64 + 1)
    top = e.top(5)
    assert len(top) == 5 and top["contribution"].abs().is_monotonic_decreasing
    assert (e.top(3, by="negative")["contribution"] <= 0).all()
    per_layer = e.top_per_layer(3)
    assert set(per_layer) == {0, 1} and (per_layer[1]["layer"] == 1).all()
    data = json.loads(e.to_json(top_k=4))
    assert data["readout"] == e.readout
    assert data["contrast_id"] == 8 and len(data["layers"]) == 2
    assert len(data["layers"][0]["heads"]) == 4 and len(data["layers"][0]["top_neurons"]) == 4
    assert abs(data["total"] - data["residual_logit"]) < 1e-4
    assert data["layers"][1]["geva"]["needed"].keys() == {"0.5", "0.8", "0.9"}
    assert e.readout == "logit('⟨7⟩') - logit('⟨8⟩')"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(prompt=[]), "empty prompt"),
        (dict(prompt=PROMPT, position=8), "position 8 out of range"),
        (dict(prompt=PROMPT, position=-9), "out of range"),
        (dict(prompt=PROMPT, target=500), "target id 500 out of range"),
        (dict(prompt=PROMPT, target="x"), "no tokenizer"),
        (dict(prompt=PROMPT, geva_top=-1), "geva_top"),
    ],
)
def test_bad_input(lm, kwargs, message):
    with pytest.raises(InputError, match=message):
        explain(lm, **kwargs)


def test_bf16_model_runs(lm):
    model, _ = tiny_model("llama", seed=0)
    e = explain(load_model(model.to(torch.bfloat16)), PROMPT)
    assert abs(e.total - e.residual_logit) < 1e-2  # bf16 residual adds round
