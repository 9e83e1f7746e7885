"""Maps: value vectors, UMAP coordinates (a PCA stands in for speed), confident fraction, plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from vocablens import load_model
from vocablens.annotate.maps import (
    UNLABELLED,
    confident_fraction,
    plot_confident_fraction,
    plot_umap,
    umap_map,
    value_vectors,
    write_map,
)

from tiny_models import single_thread, tiny_model


@pytest.fixture(scope="module")
def lm():
    model, _ = tiny_model("llama")
    return load_model(model)


def _annotations() -> pd.DataFrame:
    rows = []
    for layer in (0, 1):
        for neuron in range(64):
            confident = neuron % 4 != 0
            kind = ("wordnet", "morphological", "token-kind")[neuron % 3]
            for sign in (1, -1):
                rows.append({"kind": "values", "layer": layer, "neuron": neuron, "sign": sign,
                             "label": f"concept {neuron % 5}" if confident else "",
                             "label_kind": kind, "confident": confident and sign > 0})  # fmt: skip
    rows.append({"kind": "keys_gate", "layer": 0, "neuron": 0, "sign": 1, "label": "x",
                 "label_kind": "wordnet", "confident": True})  # fmt: skip
    return pd.DataFrame(rows)


def test_value_vectors(lm):
    vectors, index = value_vectors(lm, [1])
    assert vectors.shape == (64, 32) and list(index.columns) == ["layer", "neuron"]
    np.testing.assert_allclose(vectors, lm.view.mlp(1).W_out.detach().numpy())
    all_vectors, all_index = value_vectors(lm)
    assert all_vectors.shape == (128, 32) and set(all_index["layer"]) == {0, 1}


def test_map_coordinates_and_labels(lm):
    with single_thread():
        coords = umap_map(lm, None, _annotations(), reducer=PCA(n_components=2, random_state=0))
    assert list(coords.columns) == ["layer", "neuron", "x", "y", "label", "label_kind"]
    assert len(coords) == 128 and np.isfinite(coords[["x", "y"]].to_numpy()).all()
    first = coords[(coords["layer"] == 0) & (coords["neuron"] == 0)].iloc[0]
    assert first["label"] == UNLABELLED  # neuron 0 is not confident (and the key row is ignored)
    second = coords[(coords["layer"] == 1) & (coords["neuron"] == 1)].iloc[0]
    assert (second["label"], second["label_kind"]) == ("concept 1", "morphological")
    bare = umap_map(lm, [0], None, reducer=PCA(n_components=2))
    assert set(bare["label"]) == {UNLABELLED} and len(bare) == 64


def test_confident_fraction():
    fractions = confident_fraction(_annotations())
    assert list(fractions.columns) == ["layer", "n_vectors", "fraction", "wordnet",
                                       "morphological", "token-kind"]  # fmt: skip
    assert fractions["n_vectors"].tolist() == [64, 64]
    assert fractions["fraction"].tolist() == [0.75, 0.75]
    parts = fractions[["wordnet", "morphological", "token-kind"]].sum(axis=1)
    np.testing.assert_allclose(parts, fractions["fraction"])
    assert len(confident_fraction(_annotations(), kind="ov")) == 0


def test_plots_take_data_and_an_optional_ax(lm, tmp_path):
    coords = umap_map(lm, None, _annotations(), reducer=PCA(n_components=2))
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_umap(coords, ax=left, top_labels=3) is left
    assert plot_confident_fraction(confident_fraction(_annotations()), ax=right) is right
    legend = [t.get_text() for t in left.get_legend().get_texts()]
    assert UNLABELLED in legend and "concept 1" in legend and any("other" in t for t in legend)
    plt.close(fig)
    ax = plot_umap(coords)
    assert ax.figure is not fig
    plt.close(ax.figure)
    png = write_map(coords, tmp_path / "map.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "map.parquet"), coords)
    write_map(coords, tmp_path / "map2.png", tmp_path / "map2.csv")
    assert len(pd.read_csv(tmp_path / "map2.csv")) == 128
