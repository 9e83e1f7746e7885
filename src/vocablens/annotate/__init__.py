"""Annotate projected vectors: concept labels, polysemanticity, maps.

* :class:`ConceptLabeler`: the WordNet / morphological / token-kind label of a token list.
* :class:`PolysemanticityDetector`: do the tokens split into unrelated concepts?
* :func:`annotate_projections`: both, for every vector of a ``vocablens project`` table, as
  :class:`Annotations` (one schema: :mod:`vocablens.annotate.result`; the confident fraction).
* :func:`~vocablens.annotate.value_umap.value_umap`: a UMAP of the FFN value vectors with their
  confident concepts (the figures are :mod:`vocablens.reports.plots`).
* :class:`~vocablens.annotate.generative.GenerativeLabeler`: optional suggestions by a chat model.

Importing this package loads neither WordNet nor a model: ``fit`` does.
"""

from vocablens.annotate.labeler import ConceptLabeler, Label
from vocablens.annotate.normalize import NormalToken, normalize_token
from vocablens.annotate.pipeline import AnnotateConfig, annotate_projections, annotate_to_file
from vocablens.annotate.polysemantic import (
    Polysemanticity,
    PolysemanticityDetector,
    SidesComparison,
)
from vocablens.annotate.result import (
    LABEL_KINDS,
    UNLABELLED,
    Annotations,
    confident_fraction,
)
from vocablens.annotate.wordnet import WordNetNotFoundError

__all__ = [
    "LABEL_KINDS",
    "UNLABELLED",
    "AnnotateConfig",
    "Annotations",
    "ConceptLabeler",
    "Label",
    "NormalToken",
    "Polysemanticity",
    "PolysemanticityDetector",
    "SidesComparison",
    "WordNetNotFoundError",
    "annotate_projections",
    "annotate_to_file",
    "confident_fraction",
    "normalize_token",
]
