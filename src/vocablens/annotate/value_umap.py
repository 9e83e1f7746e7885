"""A 2-D UMAP map of the FFN value vectors, each point with its confident concept (if any).

The one UMAP path of vocablens: the report and the library both call :func:`value_umap`. The
vectors come from :func:`vocablens.model.vectors.value_vectors`; the figure is
:func:`vocablens.reports.plots.umap_scatter`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vocablens.annotate.result import NO_LABEL_KIND, UNLABELLED

if TYPE_CHECKING:
    from vocablens.annotate.result import Annotations

#: Below this many vectors UMAP compares every pair exactly (its own threshold); the reducer then
#: hands it the distance matrix, which UMAP's metric would fill one pair at a time.
SMALL_DATA = 4096
#: Columns of a map: the vector (as in projections and annotations), coordinates, its concept.
MAP_COLUMNS = ("layer", "expert", "index", "x", "y", "label", "label_kind")


def default_reducer(n: int, d_model: int, *, n_neighbors: int = 15, min_dist: float = 0.1,
                    seed: int = 0) -> Any:  # fmt: skip
    """The reducer of :func:`value_umap`: unit rows (cosine geometry), PCA to 50, seeded UMAP.

    The PCA step and fewer epochs for large inputs make it several times faster than UMAP on the
    raw vectors: about a minute for SmolLM2-135M's 46k vectors on 2 cores, plus ~20 s of one-off
    numba compilation; below :data:`SMALL_DATA` vectors the distance matrix comes from
    scikit-learn (3,072 vectors, two layers: 5 s warm instead of 20 s). A fixed ``seed`` makes
    the map deterministic.
    """
    import umap
    from sklearn.decomposition import PCA
    from sklearn.metrics import pairwise_distances
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, Normalizer

    steps = [Normalizer(), PCA(min(50, n, d_model), random_state=seed)]
    small = n < SMALL_DATA
    if small:  # the distances BLAS-fast, not pair by pair through UMAP's metric
        steps.append(FunctionTransformer(pairwise_distances))  # (n, n)
    return make_pipeline(
        *steps,
        umap.UMAP(n_components=2, n_neighbors=max(2, min(n_neighbors, n - 1)), min_dist=min_dist,
                  random_state=seed, n_epochs=200 if n > 10_000 else None,
                  metric="precomputed" if small else "euclidean"),
    )  # fmt: skip


def _labels(keys: pd.DataFrame, annotations: Annotations | None) -> pd.DataFrame:
    """``keys`` with each vector's confident ``+v`` label of kind ``values`` (else UNLABELLED)."""
    out = keys.copy()
    out["label"] = UNLABELLED
    out["label_kind"] = NO_LABEL_KIND
    if annotations is None or not len(annotations):
        return out
    ann = annotations.frame
    ann = ann[(ann["kind"] == "values") & (ann["sign"] > 0) & ann["confident"]]
    found = keys.merge(ann[["layer", "expert", "index", "label", "label_kind"]],
                       on=["layer", "expert", "index"], how="left")  # fmt: skip
    has = found["label"].notna().to_numpy()
    out.loc[has, "label"] = found["label"].to_numpy()[has]
    out.loc[has, "label_kind"] = found["label_kind"].to_numpy()[has]
    return out


def value_umap(
    model: Any,
    layers: Sequence[int] | None = None,
    annotations: Annotations | None = None,
    *,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    seed: int = 0,
    reducer: Any = None,
) -> pd.DataFrame:
    """2-D UMAP coordinates of the value vectors of some layers, mapped together.

    Args:
        model: a :class:`~vocablens.model.loading.LoadedModel` (never loaded here).
        layers: layers to map together (None: the whole model).
        annotations: the output of :func:`~vocablens.annotate.annotate_projections`; its
            confident ``+v`` labels of kind ``values`` colour the map. None: no labels.
        n_neighbors: UMAP's neighbourhood size.
        min_dist: UMAP's minimum distance.
        seed: random state of the PCA and UMAP (the map is reproducible).
        reducer: any object with ``fit_transform`` (e.g. a scikit-learn PCA) instead of
            :func:`default_reducer`.

    Returns:
        One row per vector, columns :data:`MAP_COLUMNS`: ``label`` is the confident concept or
        :data:`~vocablens.annotate.result.UNLABELLED`, ``label_kind`` its kind or ``"none"``.

    Raises:
        InputError: not a loaded model, or bad layers.
    """
    from vocablens.model.vectors import value_vectors

    vectors, keys = value_vectors(model, layers)  # (n, d_model)
    if reducer is None:
        reducer = default_reducer(len(vectors), vectors.shape[1], n_neighbors=n_neighbors,
                                  min_dist=min_dist, seed=seed)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "n_jobs overridden by random_state"
        coords = np.asarray(reducer.fit_transform(vectors), dtype=np.float32)  # (n, 2)
    out = _labels(keys, annotations)
    out.insert(3, "x", coords[:, 0])
    out.insert(4, "y", coords[:, 1])
    return out[list(MAP_COLUMNS)]
