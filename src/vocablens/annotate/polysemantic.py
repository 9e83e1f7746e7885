"""PolysemanticityDetector: do a vector's top tokens split into unrelated meanings?

The rule is the labeller's (:class:`~vocablens.annotate.labeler.ConceptLabeler`, step 4): the
best semantic group is found, its words set aside, and the best group of the rest; the list is
polysemantic when both groups are weak concepts of their own (coverage ``group_coverage``, at
least ``min_words`` words) and unrelated in WordNet (no common ancestor with information content
``related_ic`` or more). Only meanings split a vector: a list of plural nouns and capitalized
words is not polysemantic, a list of foods and legal terms is. Each group keeps its label
(``cluster_labels``).

Earlier versions clustered token embeddings; on SmolLM2's real value vectors those clusters
followed token form (pieces, capitals), not meaning, so the flag now comes from meanings alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vocablens.annotate.labeler import ConceptLabeler, Label


@dataclass(frozen=True)
class Polysemanticity:
    """How a list of top tokens splits into meanings.

    Attributes:
        score: the second group's share of the two groups' coverage (0 with one group; 0.5 for
            two equally strong meanings).
        n_clusters: semantic groups that are weak concepts of their own (0, 1 or 2).
        polysemantic: two unrelated such groups.
        cluster_sizes: words (variant groups) each group explains.
        cluster_labels: each group's label (same order).
        covering_label: the list's confident semantic label (``""`` if none).
        features: what the groups were found with (``"wordnet"``).
    """

    score: float
    n_clusters: int
    polysemantic: bool
    cluster_sizes: tuple[int, ...] = ()
    cluster_labels: tuple[str, ...] = ()
    covering_label: str = ""
    features: str = "wordnet"


@dataclass(frozen=True)
class SidesComparison:
    """The ``+v`` and ``-v`` sides of one vector compared.

    Attributes:
        positive: label of the promoted tokens (``+v``).
        negative: label of the suppressed tokens (the ones ``-v`` promotes).
        same_concept: both sides have a confident semantic label, and one label covers both.
        polysemantic: both sides have confident semantic labels that no single one covers.
    """

    positive: Label
    negative: Label
    same_concept: bool
    polysemantic: bool


def polysemanticity(label: Label) -> Polysemanticity:
    """The :class:`Polysemanticity` a :class:`~vocablens.annotate.labeler.Label` implies."""
    groups = label.groups if label.polysemantic else label.groups[:1]
    weak = [g for g in groups]
    covered = sum(g.coverage for g in weak)
    score = weak[1].coverage / covered if label.polysemantic and covered > 0 else 0.0
    return Polysemanticity(
        score=float(score),
        n_clusters=len(weak) if label.polysemantic else int(label.semantic),
        polysemantic=label.polysemantic,
        cluster_sizes=tuple(g.n_words for g in weak),
        cluster_labels=tuple(g.label for g in weak),
        covering_label=label.label if label.semantic else "",
        features="wordnet",
    )


class PolysemanticityDetector:
    """Flags vectors whose top tokens hold two unrelated meanings (see the module docstring).

    Args:
        labeler: the :class:`ConceptLabeler` whose groups decide (None: a default one).

    Attributes:
        labeler_: the fitted labeller.
    """

    def __init__(self, labeler: ConceptLabeler | None = None):
        self.labeler = labeler

    def fit(self, embeddings: object = None, y: object = None) -> PolysemanticityDetector:
        """Fit the labeller (``embeddings`` and ``y`` are accepted and ignored).

        Returns:
            self.
        """
        labeler = self.labeler if self.labeler is not None else ConceptLabeler()
        if not hasattr(labeler, "lexicon_"):
            labeler.fit()
        self.labeler_ = labeler
        return self

    def score(
        self, tokens: Sequence[str], token_ids: Sequence[int] | None = None
    ) -> Polysemanticity:
        """Score one list of top tokens (``token_ids`` is accepted and ignored).

        Returns:
            A :class:`Polysemanticity`.
        """
        if not hasattr(self, "labeler_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("PolysemanticityDetector is not fitted yet: call fit() first")
        return polysemanticity(self.labeler_.label(tokens))

    def compare_sides(
        self,
        positive: Sequence[str],
        negative: Sequence[str],
        positive_label: Label | None = None,
        negative_label: Label | None = None,
    ) -> SidesComparison:
        """Compare the ``+v`` (promoted) and ``-v`` (suppressed) top tokens of one vector.

        Args:
            positive: top tokens of ``+v``.
            negative: top tokens of ``-v``.
            positive_label: their label if already computed (else labelled here).
            negative_label: likewise.
        """
        lab = self.labeler_
        pos = positive_label or lab.label(positive)
        neg = negative_label or lab.label(negative)
        if not (pos.semantic and neg.semantic):
            return SidesComparison(pos, neg, False, False)
        if pos.label == neg.label:
            return SidesComparison(pos, neg, True, False)
        same = pos.synset is not None and neg.synset is not None
        same = same and lab.related(pos.synset, neg.synset)  # type: ignore[arg-type]
        return SidesComparison(pos, neg, same, not same)
