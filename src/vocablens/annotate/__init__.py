"""Annotate projected vectors: concept labels, polysemanticity, maps.

* :class:`ConceptLabeler`: the WordNet / morphological / token-kind label of a token list.
* :class:`PolysemanticityDetector`: do the tokens split into unrelated concepts?
* :func:`annotate_projections`: both, for every vector of a ``vocablens project`` table.
* :mod:`vocablens.annotate.maps`: UMAP of value vectors and the confident fraction per layer.
* :class:`~vocablens.annotate.generative.GenerativeLabeler`: optional suggestions by a chat model.

Importing this package loads neither WordNet nor a model: ``fit`` does.
"""

from vocablens.annotate.annotate import (
    AnnotateConfig,
    annotate_projections,
    annotate_to_file,
    write_annotations,
)
from vocablens.annotate.labeler import ConceptLabeler, Label
from vocablens.annotate.normalize import NormalToken, normalize_token
from vocablens.annotate.polysemantic import (
    Polysemanticity,
    PolysemanticityDetector,
    SidesComparison,
)
from vocablens.annotate.wordnet import WordNetNotFoundError

__all__ = [
    "AnnotateConfig",
    "ConceptLabeler",
    "Label",
    "NormalToken",
    "Polysemanticity",
    "PolysemanticityDetector",
    "SidesComparison",
    "WordNetNotFoundError",
    "annotate_projections",
    "annotate_to_file",
    "normalize_token",
    "write_annotations",
]
