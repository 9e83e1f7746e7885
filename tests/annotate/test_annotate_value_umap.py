"""value_umap: the one UMAP path (a PCA stands in for speed; the real reducer is faked)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from sklearn.decomposition import PCA

from vocablens import InputError, load_model
from vocablens.annotate import UNLABELLED
from vocablens.annotate.value_umap import MAP_COLUMNS, SMALL_DATA, default_reducer, value_umap

from synthetic_report import synthetic_annotations
from tiny_models import single_thread, tiny_model


@pytest.fixture(scope="module")
def lm():
    model, _ = tiny_model("llama")
    return load_model(model)


def test_coordinates_and_labels(lm):
    with single_thread():
        coords = value_umap(
            lm, None, synthetic_annotations(), reducer=PCA(n_components=2, random_state=0)
        )
    assert list(coords.columns) == list(MAP_COLUMNS)
    assert len(coords) == 128 and np.isfinite(coords[["x", "y"]].to_numpy()).all()
    first = coords[(coords["layer"] == 0) & (coords["index"] == 0)].iloc[0]
    assert first["label"] == UNLABELLED  # not confident (and the keys_gate row is ignored)
    assert first["label_kind"] == "none" and first["expert"] == -1
    second = coords[(coords["layer"] == 1) & (coords["index"] == 1)].iloc[0]
    assert (second["label"], second["label_kind"]) == ("concept 1", "form")
    bare = value_umap(lm, [0], None, reducer=PCA(n_components=2))
    assert set(bare["label"]) == {UNLABELLED} and len(bare) == 64


def test_default_reducer_is_normalise_pca_umap(lm, monkeypatch):
    class FakeUMAP:  # the real one compiles for ~30 s; it runs in the slow report test
        def __init__(self, **kwargs):
            self.kwargs = kwargs

        def fit(self, X, y=None):
            return self

        def fit_transform(self, X, y=None):
            # few vectors: the distances of the PCA'd unit rows, handed over as a matrix
            assert X.shape == (128, 128) and self.kwargs["metric"] == "precomputed"
            np.testing.assert_allclose(X, X.T, atol=1e-5)
            np.testing.assert_allclose(np.diag(X), 0.0, atol=1e-5)
            assert 0.0 < X.max() <= 2.0 + 1e-5  # unit rows: distances at most 2
            assert self.kwargs["random_state"] == 7 and self.kwargs["n_neighbors"] == 15
            return X[:, :2] * 10

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    coords = value_umap(lm, [0, 1], seed=7)
    assert coords["layer"].tolist() == [0] * 64 + [1] * 64
    assert coords["index"].tolist()[:3] == [0, 1, 2]
    large = default_reducer(SMALL_DATA, 576)  # UMAP's own neighbour search past its threshold
    assert [name for name, _ in large.steps] == ["normalizer", "pca", "fakeumap"]
    assert large.steps[-1][1].kwargs["metric"] == "euclidean"
    assert large.steps[1][1].n_components == 50


def test_takes_a_loaded_model_only(lm):
    with pytest.raises(InputError, match="expected a LoadedModel"):
        value_umap("smollm2-135m", [0])
    with pytest.raises(InputError, match="out of range"):
        value_umap(lm, [5])
