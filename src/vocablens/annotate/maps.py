"""Maps of the value vectors: a UMAP coloured by concept, and the confident fraction per layer.

Compute functions (:func:`value_vectors`, :func:`umap_map`, :func:`confident_fraction`) return
DataFrames; plot functions (:func:`plot_umap`, :func:`plot_confident_fraction`) take that data
first and an optional matplotlib ``ax``, draw, and return the Axes: they never compute.
:func:`write_map` saves a map as PNG plus its coordinates (Parquet or CSV by suffix).

As in Geva et al. (2022, fig. 3), the confident fraction is the share of value vectors (``+v``
side) whose label is confident (see :class:`~vocablens.annotate.labeler.ConceptLabeler`), per
layer, split by label kind so that "word piece"-type labels can be told from concepts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocablens.errors import InputError

LABEL_KINDS = ("wordnet", "morphological", "token-kind")
UNLABELLED = "(no confident label)"


def value_vectors(
    model: Any, layers: Sequence[int] | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """The FFN value vectors (rows of ``W_out``) of some layers.

    Args:
        model: anything :func:`~vocablens.model.loading.load_model` accepts.
        layers: layers (None: all).

    Returns:
        ``(vectors, index)``: ``(n, d_model)`` float32 and a frame with ``layer``, ``neuron``.
    """
    import torch

    from vocablens.model.loading import load_model

    view = load_model(model).view
    layers = list(range(view.n_layers)) if layers is None else [view.check_layer(x) for x in layers]
    if not layers:
        raise InputError("no layers to map")
    blocks, index = [], []
    with torch.inference_mode():
        for layer in layers:
            w_out = view.mlp(layer).W_out.detach().float().cpu().numpy()  # (d_mlp, d_model)
            blocks.append(w_out)
            index.append(pd.DataFrame({"layer": layer, "neuron": np.arange(len(w_out))}))
    return np.concatenate(blocks), pd.concat(index, ignore_index=True).astype("int32")


def _labels_for(index: pd.DataFrame, annotations: pd.DataFrame | None) -> pd.DataFrame:
    out = index.copy()
    out["label"] = UNLABELLED
    out["label_kind"] = "none"
    if annotations is None or not len(annotations):
        return out
    ann = annotations
    if "kind" in ann:
        ann = ann[ann["kind"] == "values"]
    if "sign" in ann:
        ann = ann[ann["sign"] > 0]
    ann = ann[ann["confident"].astype(bool)]
    lookup = ann.set_index(["layer", "neuron"])[["label", "label_kind"]]
    lookup = lookup[~lookup.index.duplicated()]
    keys = pd.MultiIndex.from_arrays([out["layer"], out["neuron"]])
    found = lookup.reindex(keys)
    has = found["label"].notna().to_numpy()
    out.loc[has, "label"] = found["label"].to_numpy()[has]
    out.loc[has, "label_kind"] = found["label_kind"].to_numpy()[has]
    return out


def umap_map(
    model: Any,
    layers: Sequence[int] | None = None,
    annotations: pd.DataFrame | None = None,
    *,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "cosine",
    seed: int = 0,
    reducer: Any = None,
) -> pd.DataFrame:
    """2-D UMAP coordinates of the value vectors of a layer or of the whole model.

    Args:
        model: anything :func:`~vocablens.model.loading.load_model` accepts.
        layers: layers to map together (None: the whole model).
        annotations: the output of :func:`~vocablens.annotate.annotate_projections` (its
            confident ``+v`` labels of kind ``values`` colour the map); None: no labels.
        n_neighbors: UMAP's neighbourhood size.
        min_dist: UMAP's minimum distance.
        metric: UMAP's metric.
        seed: UMAP's random state (makes it reproducible).
        reducer: any object with ``fit_transform`` (e.g. a scikit-learn PCA) instead of UMAP.

    Returns:
        Columns ``layer``, ``neuron``, ``x``, ``y``, ``label`` (:data:`UNLABELLED` when none is
        confident) and ``label_kind``.
    """
    vectors, index = value_vectors(model, layers)
    if reducer is None:
        import umap

        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=max(2, min(n_neighbors, len(vectors) - 1)),
            min_dist=min_dist,
            metric=metric,
            random_state=seed,
        )
    coords = np.asarray(reducer.fit_transform(vectors), dtype=np.float32)
    out = _labels_for(index, annotations)
    out.insert(2, "x", coords[:, 0])
    out.insert(3, "y", coords[:, 1])
    return out


def confident_fraction(
    annotations: pd.DataFrame, kind: str = "values", sign: int = 1
) -> pd.DataFrame:
    """Fraction of vectors with a confident label per layer, in total and per label kind.

    Args:
        annotations: the output of :func:`~vocablens.annotate.annotate_projections`.
        kind: the vector kind to count (``"values"``).
        sign: the side to count (``+1``: what the vector promotes).

    Returns:
        Columns ``layer``, ``n_vectors``, ``fraction`` and one fraction column per label kind
        (:data:`LABEL_KINDS`).
    """
    ann = annotations
    if "kind" in ann:
        ann = ann[ann["kind"] == kind]
    if "sign" in ann:
        ann = ann[ann["sign"] == sign]
    if not len(ann):
        return pd.DataFrame(columns=["layer", "n_vectors", "fraction", *LABEL_KINDS])
    conf = ann["confident"].astype(bool)
    frame = pd.DataFrame({"layer": ann["layer"].astype(int), "fraction": conf.astype(float)})
    for label_kind in LABEL_KINDS:
        frame[label_kind] = (conf & (ann["label_kind"] == label_kind)).astype(float)
    grouped = frame.groupby("layer", sort=True)
    out = grouped.mean().reset_index()
    out.insert(1, "n_vectors", grouped.size().to_numpy())
    return out


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


def plot_umap(
    coords: pd.DataFrame, ax: Any = None, *, top_labels: int = 12, title: str = ""
) -> Any:
    """Scatter a UMAP map coloured by concept (the ``top_labels`` most frequent; rest grey).

    Args:
        coords: the output of :func:`umap_map`.
        ax: matplotlib Axes to draw on (None: a new figure).
        top_labels: labels that get their own colour.
        title: axes title (default: what was mapped).

    Returns:
        The Axes.
    """
    import seaborn as sns

    ax = _axes(ax, (7.5, 6.0))
    labels = coords["label"].astype(str)
    common = [x for x in labels[labels != UNLABELLED].value_counts().index[:top_labels]]
    other = f"other label ({labels[(labels != UNLABELLED) & ~labels.isin(common)].size})"
    shown = labels.where(labels.isin(common) | (labels == UNLABELLED), other)
    ax.scatter(coords["x"][shown == UNLABELLED], coords["y"][shown == UNLABELLED], s=3,
               c="#d0d0d0", label=UNLABELLED, linewidths=0)  # fmt: skip
    ax.scatter(coords["x"][shown == other], coords["y"][shown == other], s=4, c="#909090",
               label=other, linewidths=0)  # fmt: skip
    palette = sns.color_palette("tab20", max(len(common), 1))
    for color, name in zip(palette, common, strict=False):
        mask = shown == name
        ax.scatter(coords["x"][mask], coords["y"][mask], s=6, color=color, label=name, linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    layers = sorted(set(coords["layer"].astype(int)))
    where = f"layer {layers[0]}" if len(layers) == 1 else f"{len(layers)} layers"
    ax.set_title(title or f"FFN value vectors, {where} (UMAP)", fontsize=10)
    ax.legend(fontsize=7, markerscale=2.5, loc="center left", bbox_to_anchor=(1.0, 0.5),
              frameon=False)  # fmt: skip
    return ax


def plot_confident_fraction(fractions: pd.DataFrame, ax: Any = None, *, title: str = "") -> Any:
    """Stacked bars: per layer, the fraction of vectors with a confident label, by label kind.

    Args:
        fractions: the output of :func:`confident_fraction`.
        ax: matplotlib Axes to draw on (None: a new figure).
        title: axes title.

    Returns:
        The Axes.
    """
    ax = _axes(ax, (max(5.0, 0.25 * len(fractions) + 2.0), 3.2))
    layers = fractions["layer"].astype(int).to_numpy()
    bottom = np.zeros(len(fractions))
    colors = {"wordnet": "#4c72b0", "morphological": "#dd8452", "token-kind": "#8c8c8c"}
    for label_kind in LABEL_KINDS:
        values = fractions[label_kind].astype(float).to_numpy()
        ax.bar(layers, values, bottom=bottom, color=colors[label_kind], label=label_kind, width=0.8)
        bottom += values
    ax.set_xlabel("layer")
    ax.set_ylabel("fraction with a confident label")
    ax.set_ylim(0, 1)
    ax.set_title(title or "FFN value vectors with a confident concept label", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    return ax


def write_map(
    coords: pd.DataFrame, png: str | os.PathLike, data: str | os.PathLike | None = None
) -> Path:
    """Save a UMAP map as PNG (via :func:`plot_umap`) and its coordinates.

    Args:
        coords: the output of :func:`umap_map`.
        png: the image file.
        data: the coordinates file (``.parquet`` or ``.csv``); None: next to the PNG as Parquet.

    Returns:
        The PNG path.
    """
    import matplotlib.pyplot as plt

    png = Path(png)
    data = png.with_suffix(".parquet") if data is None else Path(data)
    ax = plot_umap(coords)
    ax.figure.savefig(png, dpi=130, bbox_inches="tight")
    plt.close(ax.figure)
    if data.suffix == ".csv":
        coords.to_csv(data, index=False)
    else:
        coords.to_parquet(data, index=False)
    return png
