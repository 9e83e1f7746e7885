"""What builds a prediction: direct logit attribution of heads, neurons and biases.

:func:`explain` runs one ordinary forward pass and returns an :class:`Explanation`: every
attention head's, FFN neuron's, bias's and embedding's contribution to one token's logit (or a
logit difference), through the final norm frozen at its scale, adding up exactly to the residual
stream's logit; plus Geva et al. (2022)'s per-layer view (:class:`GevaLayer`).
"""

from vocablens.explain.attribution import check_position, explain
from vocablens.explain.geva import GEVA_FRACTIONS, GevaLayer, SubUpdate
from vocablens.explain.result import COLUMNS, COMPONENTS, Explanation, LayerContributions

__all__ = [
    "COLUMNS",
    "COMPONENTS",
    "GEVA_FRACTIONS",
    "Explanation",
    "GevaLayer",
    "LayerContributions",
    "SubUpdate",
    "check_position",
    "explain",
]
