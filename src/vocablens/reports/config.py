"""What a report computes and shows: :class:`ReportConfig`, and layer-list parsing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vocablens.errors import InputError
from vocablens.layerspec import parse_layers

Prompt = str | Sequence[int]


@dataclass
class ReportConfig:
    """Everything that decides what a report holds.

    Attributes:
        prompts: the prompts of the logit lens (strings or token-id lists); empty: the
            built-in examples (:data:`~vocablens.reports.prompts.DEFAULT_PROMPTS`).
        layers: the blocks that get a page, their projections and annotations (see
            :func:`parse_layers`); None: every block. The logit lens always reads every layer.
        lens_k: top tokens kept per lens cell (shown in the layer pages' lens tables).
        value_k: top tokens per FFN value vector and sign (the projection the annotator reads).
        table_k: promoted / suppressed tokens shown per neuron in the tables.
        table_rows: rows a layer page's neuron table shows (the polysemantic list: at most 10);
            the others are folded away (a collapsed, scrolling section), so a page stays a few
            screens long.
        search_k: promoted tokens per neuron and per head that the search box knows.
        heatmap_color: colour of the logit-lens heatmaps: ``"prob"`` (top-1 probability) or
            ``"kl"`` (KL to the final distribution).
        annotate: label value vectors with concepts (needs WordNet): what they promote.
        annotate_suppressed: also label what they suppress (doubles the annotation time).
        umap: map the value vectors with UMAP (a figure per layer).
        ov: project the attention heads' OV circuits.
        ov_k: top pairs and promoted tokens kept per head.
        ov_tokens: the OV circuits are read over this many common whole-word tokens (both the
            source and the promoted side); the full vocabulary squared is out of reach on a CPU.
        explain: an "explain" page per prompt: the heads, neurons and biases that build the
            prediction at its last position (direct logit attribution, :func:`vocablens.explain.explain`).
        bos: prepend the BOS token to every prompt.
        truncate: cut prompts longer than the model's context instead of failing.
        title: the report's title; None: the model's name.
        activations: a finished corpus run's folder (``vocablens activations --out``): layer
            pages then show each neuron's top-activating contexts and the layer's agreement
            rate; None: no contexts.
        campaign: an annotation campaign (a path or an SQLAlchemy URL, see
            :mod:`vocablens.campaign`) whose adjudicated (else majority) labels are shown beside
            the machine labels and searched; None: none.
    """

    prompts: Sequence[Prompt] = field(default_factory=list)
    layers: list[int] | None = None
    lens_k: int = 5
    value_k: int = 30
    table_k: int = 8
    table_rows: int = 25
    search_k: int = 10
    heatmap_color: str = "prob"
    annotate: bool = True
    annotate_suppressed: bool = False
    umap: bool = True
    ov: bool = True
    ov_k: int = 20
    ov_tokens: int = 4000
    explain: bool = True
    bos: bool = False
    truncate: bool = False
    title: str | None = None
    activations: str | os.PathLike[str] | None = None
    campaign: str | None = None

    def check(self) -> ReportConfig:
        """Check the values; returns self.

        Raises:
            InputError: a bad value (named in the message).
        """
        for name in ("lens_k", "value_k", "table_k", "table_rows", "search_k", "ov_k", "ov_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer, not {value!r}")
        if self.heatmap_color not in ("prob", "kl"):
            raise InputError(f"heatmap_color must be 'prob' or 'kl', not {self.heatmap_color!r}")
        for prompt in self.prompts:
            if isinstance(prompt, str) and not prompt.strip():
                raise InputError("empty prompt")
        self.layers = parse_layers(self.layers)
        if self.activations is not None:
            from vocablens.activations.files import read_manifest

            read_manifest(Path(self.activations))  # a missing or foreign folder fails here
        return self
