"""Everything a report shows, computed once: :class:`ReportData` (no model inside)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vocablens.reports.config import ReportConfig

if TYPE_CHECKING:
    import pandas as pd

    from vocablens.lens.result import LensResult


@dataclass
class ReportData:
    """The numbers and tokens behind a report; rendering reads only this.

    Token columns hold readable strings (see :func:`vocablens.tokens.visible`); the renderer
    escapes them again for HTML.

    Attributes:
        model_name: the model's name (alias, path or hub id).
        card: the model card, :meth:`vocablens.ModelView.describe`.
        config: the configuration the data was computed with.
        layers: the blocks that get a page, ascending.
        lens: the residual logit lens of the prompts at every layer (``sites=("resid",)``).
        values: FFN value-vector projections in the long layout of
            ``vocablens.project.projector`` (one row per vector, sign and rank: ``kind``, ``layer``,
            ``index``, ``sign``, ``rank``, ``token_id``, ``token``, ``score``), or None.
        annotations: concept labels of the value vectors (``layer``, ``neuron``, ``label``,
            ``supersense``, ``coverage``, ``polysemantic``, ...), or None.
        confident: the fraction of value vectors with a confident concept per layer
            (columns ``layer``, ``fraction``), or None.
        umap: 2-D coordinates of the value vectors (columns ``layer``, ``neuron``, ``x``, ``y``),
            or None.
        ov: attention-head OV projections in the long layout (kinds ``"ov"``: token pairs, with
            ``src_token``; ``"ov_promoted"``: the head's most promoted tokens), or None.
        notes: remarks shown on the index page (what was skipped, and why).
        timings: seconds spent per computation step.
        created: when the data was computed (ISO 8601).
    """

    model_name: str
    card: dict[str, Any]
    config: ReportConfig
    layers: list[int]
    lens: LensResult
    values: pd.DataFrame | None = None
    annotations: pd.DataFrame | None = None
    confident: pd.DataFrame | None = None
    umap: pd.DataFrame | None = None
    ov: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    created: str = ""

    @property
    def n_layers(self) -> int:
        """The model's number of blocks."""
        return int(self.card.get("n_layers", self.lens.n_layers))
