"""Figures of the interventions pages: tracing heatmaps and curves, circuits, circuit overlap.

Each function takes data (never a model) and an optional ``ax`` and returns the Axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vocablens.reports.plots import new_axes, plain

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from vocablens.intervene.circuit import Circuit
    from vocablens.intervene.overlap import Overlap
    from vocablens.intervene.tracing import TraceResult, TraceSummary

_KIND_CMAPS = {"resid": "Purples", "mlp_out": "Greens", "attn_out": "Reds"}


def trace_heatmap(result: TraceResult, kind: str, *, ax: Axes | None = None) -> Axes:
    """Indirect effect of restoring ``kind`` at each (position, layer) of one trace."""
    k = result.kinds.index(kind)
    grid = result.indirect[k].T  # (T, L)
    T, L = grid.shape
    ax = ax or new_axes(0.18 * L + 2.5, 0.3 * T + 1.2)
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap=_KIND_CMAPS.get(kind, "Blues"),
                      vmin=0, interpolation="nearest")  # fmt: skip
    labels = [plain(t, 14) + (" *" if result.subject[0] <= i < result.subject[1] else "")
              for i, t in enumerate(result.tokens)]  # fmt: skip
    ax.set_yticks(range(T), labels, fontsize=8)
    ax.set_xlabel("layer" + (f" (window {result.window})" if kind != "resid" else ""))
    ax.set_title(f"restore {kind}: p({plain(result.target)}) − p corrupted", fontsize=9)
    ax.figure.colorbar(image, ax=ax, label="indirect effect")
    return ax


def trace_layers(summary: TraceSummary, *, ax: Axes | None = None) -> Axes:
    """Average indirect effect per layer, at the last subject token (solid) and last token (dashed)."""
    ax = ax or new_axes(7, 3.5)
    colors = {"resid": "tab:purple", "mlp_out": "tab:green", "attn_out": "tab:red"}
    for k, kind in enumerate(summary.kinds):
        color = colors.get(kind)
        ax.plot(summary.last_subject[k], color=color, label=f"{kind}, last subject token")
        ax.plot(summary.last_token[k], color=color, ls="--", label=f"{kind}, last token")
    ax.set_xlabel("layer")
    ax.set_ylabel("average indirect effect")
    ax.set_title(f"causal tracing, {summary.n_prompts} prompts", fontsize=9)
    ax.legend(fontsize=7)
    return ax


def circuit_grid(circuit: Circuit, *, ax: Axes | None = None) -> Axes:
    """The circuit as a layer × (heads, MLP) grid: filled cells are in the circuit."""
    L, H = circuit.n_layers, circuit.n_heads
    grid = np.zeros((H + 1, L))
    for node in circuit.nodes:
        grid[node.index if node.kind == "head" else H, node.layer] = 1
    ax = ax or new_axes(0.22 * L + 1.5, 0.25 * (H + 1) + 1.2)
    ax.imshow(grid, aspect="auto", cmap="Greys", vmin=0, vmax=1.4, interpolation="nearest")
    ax.set_yticks(range(H + 1), [f"h{h}" for h in range(H)] + ["MLP"], fontsize=7)
    ax.set_xlabel("layer")
    ax.set_title(f"{circuit.task}: {len(circuit.heads)} heads + {len(circuit.mlps)} MLPs "
                 f"(faithfulness {circuit.faithfulness:.2f})", fontsize=9)  # fmt: skip
    return ax


def overlap_layers(overlap: Overlap, *, ax: Axes | None = None) -> Axes:
    """Heads per layer only in one circuit, only in the other, and in both (stacked bars)."""
    ax = ax or new_axes(7, 3)
    x = np.arange(overlap.n_layers)
    only_a, only_b, both = overlap.per_layer.T
    ax.bar(x, both, color="tab:purple", label="both")
    ax.bar(x, only_a, bottom=both, color="tab:blue", label=f"only {overlap.a}")
    ax.bar(x, only_b, bottom=both + only_a, color="tab:orange", label=f"only {overlap.b}")
    ax.set_xlabel("layer")
    ax.set_ylabel("heads")
    ax.set_title(f"shared heads: Jaccard {overlap.jaccard:.2f}", fontsize=9)
    ax.legend(fontsize=7)
    return ax
