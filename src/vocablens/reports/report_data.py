"""Everything a report shows, computed once: :class:`ReportData` (no model inside)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vocablens.reports.config import ReportConfig

if TYPE_CHECKING:
    import pandas as pd

    from vocablens.annotate.result import Annotations
    from vocablens.explain.result import Explanation
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
            :data:`vocablens.project.files.SCHEMA` (one row per vector, sign and rank: ``kind``,
            ``layer``, ``expert``, ``index``, ``sign``, ``rank``, ``token_id``, ``token``,
            ``score``, ...), or None.
        annotations: concept labels of the value vectors
            (:class:`~vocablens.annotate.result.Annotations`: ``layer``, ``index``, ``sign``,
            ``label``, ``supersense``, ``coverage``, ``confident``, ``polysemantic``, ...), or
            None. The confident fraction per layer is its ``confident_fraction()``.
        umap: 2-D coordinates of the value vectors
            (:data:`~vocablens.annotate.value_umap.MAP_COLUMNS`: ``layer``, ``expert``,
            ``index``, ``x``, ``y``, ``label``, ``label_kind``), or None.
        ov: attention-head OV projections in the long layout (kinds ``"ov"``: token pairs, with
            ``src_token``; ``"ov_promoted"``: the head's most promoted tokens), or None.
        contexts: the top-activating contexts of a corpus run (``config.activations``), a few
            per neuron and sign (:attr:`vocablens.activations.files.Activations.contexts`
            columns), or None.
        agreement: that run's Geva et al. agreement per layer and sign
            (:data:`vocablens.activations.agreement.AGREEMENT_COLUMNS`), or None.
        agree_k: the value top-k the agreement used (0: none).
        explanations: per prompt, the direct logit attribution of its last position's prediction
            (:class:`~vocablens.explain.result.Explanation`, numbers only; None for a prompt that
            could not be explained), or None.
        people: the people's labels from ``config.campaign``
            (:data:`~vocablens.campaign.people.PEOPLE_COLUMNS`: ``kind``, ``layer``, ``expert``,
            ``index``, ``sign``, ``label``, ``adjudicated``, ``n_labels``), or None.
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
    annotations: Annotations | None = None
    umap: pd.DataFrame | None = None
    ov: pd.DataFrame | None = None
    contexts: pd.DataFrame | None = None
    agreement: pd.DataFrame | None = None
    agree_k: int = 0
    explanations: list[Explanation | None] | None = None
    people: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    created: str = ""

    @property
    def n_layers(self) -> int:
        """The model's number of blocks."""
        return int(self.card.get("n_layers", self.lens.n_layers))
