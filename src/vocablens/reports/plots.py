"""Report figures. Each function takes data (never a model) and an optional ``ax``, returns the Axes.

New figures are drawn on the Agg canvas explicitly (no display, no pyplot state, nothing set at
import time). Token strings are drawn as plain text: every ``$`` is escaped so that a token like
``$x$`` is never read as mathtext.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from vocablens.annotate.result import LABEL_KINDS, UNLABELLED
from vocablens.tokens import shown

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from vocablens.lens.result import LensResult

#: Colour maps of the logit-lens heatmap, per colour quantity.
HEATMAP_CMAPS = {"prob": "Blues", "kl": "rocket_r"}
#: Colour-bar labels per colour quantity.
HEATMAP_LABELS = {"prob": "top-1 probability", "kl": "KL to final (nats)"}


def plain(text: str, max_chars: int | None = None) -> str:
    """A string safe for matplotlib.

    Shown as every view shows it (:func:`vocablens.tokens.shown`), shortened to ``max_chars``,
    ``$`` escaped.
    """
    text = shown(text)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text.replace("$", r"\$")


def new_axes(width: float, height: float) -> Axes:
    """One Axes on a new figure of ``width`` × ``height`` inches, on the Agg canvas."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def _resid_rows(lens: LensResult) -> list[tuple[int, int]]:
    """``(row in the arrays, layer)`` of every ``resid`` site, by layer."""
    rows = [(s, layer) for s, (site, layer) in enumerate(lens.sites) if site == "resid"]
    return sorted(rows, key=lambda r: r[1])


def lens_heatmap(
    lens: LensResult,
    prompt: int = 0,
    *,
    color: str = "prob",
    max_chars: int = 8,
    ax: Axes | None = None,
) -> Axes:
    """The logit lens of one prompt: layers × positions, the top-1 token written in each cell.

    Args:
        lens: a logit-lens result with ``resid`` sites.
        prompt: which prompt.
        color: ``"prob"`` (the top-1 token's probability) or ``"kl"`` (KL to the final
            distribution) decides the cell colour.
        max_chars: longer tokens are shortened with an ellipsis.
        ax: where to draw; None: a new figure sized to the data.

    Returns:
        The Axes: the last layer at the top, input tokens along the bottom.
    """
    if color not in HEATMAP_CMAPS:
        raise ValueError(f"color must be one of {', '.join(HEATMAP_CMAPS)}, not {color!r}")
    rows = _resid_rows(lens)
    n_pos = len(lens.token_ids[prompt])
    rows_desc = rows[::-1]
    idx = [s for s, _ in rows_desc]
    if color == "prob":
        values = lens.top_probs[prompt, idx, :n_pos, 0]
    else:
        values = lens.kl_to_final[prompt, idx, :n_pos]
    top1 = lens.top_ids[prompt, idx, :n_pos, 0]
    if ax is None:
        ax = new_axes(1.6 + 0.85 * n_pos, 1.2 + 0.26 * len(rows))
    vmax = 1.0 if color == "prob" else max(float(np.nanmax(values)) if values.size else 1.0, 1e-6)
    sns.heatmap(
        values, ax=ax, cmap=HEATMAP_CMAPS[color], vmin=0.0, vmax=vmax, cbar=True,
        cbar_kws={"label": HEATMAP_LABELS[color], "shrink": 0.6}, linewidths=0.3,
        linecolor="white", xticklabels=False, yticklabels=False,
    )  # fmt: skip
    cmap = sns.color_palette(HEATMAP_CMAPS[color], as_cmap=True)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            value = values[i, j]
            if np.isnan(value):
                continue
            luminance = np.dot(cmap(value / vmax)[:3], (0.299, 0.587, 0.114))
            label = ax.text(j + 0.5, i + 0.5, plain(lens.token(top1[i, j]), max_chars),
                            ha="center", va="center", fontsize=7,
                            color="white" if luminance < 0.5 else "black")  # fmt: skip
            label.set_in_layout(False)  # inside the axes: no need to lay it out (much faster)
    ax.set_xticks(np.arange(n_pos) + 0.5)
    ax.set_xticklabels([plain(t, max_chars) for t in lens.tokens[prompt]], rotation=45,
                       ha="right", fontsize=8)  # fmt: skip
    ax.set_yticks(np.arange(len(rows_desc)) + 0.5)
    ax.set_yticklabels([str(layer) for _, layer in rows_desc], fontsize=7, rotation=0)
    ax.set_xlabel("input token (position)")
    ax.set_ylabel("layer (0: embeddings)")
    ax.set_title(plain(lens.texts[prompt], 90), fontsize=10, loc="left")
    return ax


def lens_curves(lens: LensResult, *, ax: Axes | None = None) -> Axes:
    """KL to final, entropy and next-token cross-entropy over layers.

    Lines are means over every prompt and position; bands span the 25th to 75th percentile.

    Args:
        lens: a logit-lens result with ``resid`` sites.
        ax: where to draw; None: a new figure.
    """
    rows = _resid_rows(lens)
    layers = np.array([layer for _, layer in rows])
    idx = [s for s, _ in rows]
    if ax is None:
        ax = new_axes(7.0, 4.0)
    palette = sns.color_palette("colorblind", 3)
    series = {
        "KL to final": lens.kl_to_final,
        "entropy": lens.entropy,
        "next-token cross-entropy": lens.next_token_ce,
    }
    for (name, array), colour in zip(series.items(), palette, strict=True):
        values = np.moveaxis(array[:, idx, :], 1, 0).reshape(len(idx), -1)  # (layers, P*T)
        if np.all(np.isnan(values)):
            continue
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN layers
            mean = np.nanmean(values, axis=1)
            lo, hi = np.nanpercentile(values, [25, 75], axis=1)
        sns.lineplot(x=layers, y=mean, ax=ax, label=name, color=colour, marker="o", markersize=3)
        ax.fill_between(layers, lo, hi, color=colour, alpha=0.15, linewidth=0)
    ax.set_xlabel("layer (0: embeddings)")
    ax.set_yscale("symlog", linthresh=1.0)  # early layers can sit 100 nats away from the end
    ax.set_ylabel("nats (symlog scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Logit lens over layers (mean; band: 25–75th percentile)", fontsize=10)
    ax.set_xlim(layers.min() if len(layers) else 0, layers.max() if len(layers) else 1)
    ax.legend(fontsize=8)
    return ax


def confident_fraction(confident: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The fraction of value vectors with a confident concept label, per layer.

    Args:
        confident: columns ``layer`` and ``fraction`` (0..1); with per-kind fraction columns
            (:data:`~vocablens.annotate.result.LABEL_KINDS`, as
            :func:`vocablens.annotate.result.confident_fraction` gives them) the bars are stacked
            by label kind.
        ax: where to draw; None: a new figure.
    """
    if ax is None:
        ax = new_axes(max(5.0, 0.22 * len(confident) + 2.5), 3.4)
    layers = confident["layer"].astype(int).to_numpy()
    kinds = [kind for kind in LABEL_KINDS if kind in confident]
    palette = sns.color_palette("colorblind", max(len(kinds), 1))
    if kinds:
        bottom = np.zeros(len(confident))
        for kind, colour in zip(kinds, palette, strict=True):
            values = confident[kind].astype(float).to_numpy()
            ax.bar(layers, values, bottom=bottom, color=colour, label=kind, width=0.8)
            bottom += values
        ax.legend(fontsize=7, frameon=False, title="label kind", title_fontsize=7)
    else:
        ax.bar(layers, confident["fraction"].astype(float), color=palette[0], width=0.8)
    top = float(confident["fraction"].max()) if len(confident) else 1.0
    ax.set_ylim(0, min(1.0, max(0.05, top * 1.15)))
    ax.set_xlabel("layer")
    ax.set_ylabel("fraction with a confident label")
    ax.set_title("FFN value vectors with a confident concept", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def umap_scatter(
    coords: pd.DataFrame,
    layer: int | None = None,
    *,
    max_labels: int = 8,
    ax: Axes | None = None,
) -> Axes:
    """A UMAP of value vectors; one layer's points coloured by concept, the rest in grey.

    Args:
        coords: columns ``layer``, ``x``, ``y`` and optionally ``label``, as
            :func:`vocablens.annotate.value_umap.value_umap` gives them (empty, missing or
            :data:`~vocablens.annotate.result.UNLABELLED`: no confident concept).
        layer: the layer to highlight; None: every point is highlighted.
        max_labels: the most frequent labels get a colour, the others are drawn as "other".
        ax: where to draw; None: a new figure.
    """
    if ax is None:
        ax = new_axes(6.5, 5.0)
    mine = coords if layer is None else coords[coords["layer"] == layer]
    rest = coords.iloc[0:0] if layer is None else coords[coords["layer"] != layer]
    if len(rest):
        ax.scatter(rest["x"], rest["y"], s=2, c="#d0d0d0", linewidths=0, label="other layers")
    labels = None
    if "label" in mine:
        labels = mine["label"].fillna("").astype(str).replace(UNLABELLED, "")
    if labels is None or not (labels != "").any():
        ax.scatter(mine["x"], mine["y"], s=5, c="#1f77b4", linewidths=0, label="no concept")
    else:
        top = labels[labels != ""].value_counts().index[:max_labels].tolist()
        shown = labels.where(labels.isin(top) | (labels == ""), "other")
        shown = shown.where(shown != "", "no concept")
        order = [*top, "other", "no concept"]
        colours = dict(zip(top, sns.color_palette("tab10", len(top)), strict=True))
        colours.update({"other": "#7f7f7f", "no concept": "#bcd2e8"})
        for name in order[::-1]:
            sel = shown == name
            if sel.any():
                ax.scatter(mine["x"][sel], mine["y"][sel], s=6, c=[colours[name]], linewidths=0,
                           label=plain(name, 24))  # fmt: skip
    if len(coords) > 50:  # frame the bulk: a few far outliers would shrink it to a dot
        lo, hi = np.percentile(coords[["x", "y"]].to_numpy(), [0.5, 99.5], axis=0)
        pad = 0.05 * (hi - lo)
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_xticks([])
    ax.set_yticks([])
    title = "UMAP of FFN value vectors" + ("" if layer is None else f" (layer {layer} in colour)")
    ax.set_title(title, fontsize=10)
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles[::-1], names[::-1], fontsize=7, markerscale=2, loc="best", frameon=True)
    return ax
