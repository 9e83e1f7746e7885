"""PolysemanticityDetector: do a vector's top tokens split into unrelated concepts?

The rule (:meth:`PolysemanticityDetector.score`):

1. **Features** (``features``; ``"auto"`` picks ``"both"`` when the detector was fitted on
   embeddings and ``token_ids`` are given, else ``"wordnet"``):

   * ``"embeddings"``: the token's embedding row (``fit(view.W_E)``), centred on the vocabulary
     mean, with the top ``n_removed_components`` principal directions projected out
     ("all-but-the-top": they encode frequency and casing and make unrelated tokens look alike),
     unit length;
   * ``"wordnet"``: a unit block of the token's WordNet synsets and hypernyms (weighted by
     specificity and by ``1 / (1 + r)`` for its ``r``-th sense; general synsets left out) next to
     a unit block of its morphological / token-kind classes (casing classes left out: case is
     not a concept);
   * ``"both"``: cosine similarity ``(1 - w) * embeddings + w * wordnet`` (``w =
     wordnet_weight``), renormalized for tokens without WordNet features.
2. **Clusters.** Agglomerative clustering (average linkage, cosine distance; scikit-learn's
   ``AgglomerativeClustering`` algorithm, run through SciPy directly for speed) cut at
   ``distance_threshold`` (default per feature set: :data:`DEFAULT_DISTANCES`). A cluster carries
   *real mass* when it holds at least ``max(min_cluster_size, min_cluster_mass * n_tokens)``
   tokens; smaller ones are noise.
3. **One label?** The tokens of the massive clusters are labelled together
   (:class:`~vocablens.annotate.labeler.ConceptLabeler`), and so is each cluster. The joint label
   *covers* a cluster when both are confident and the joint label is the cluster's own label or
   a WordNet hypernym of it ("day of the week" covers a "weekday" cluster; "person" does not
   cover a "color" cluster even though some color words have rare person senses).
4. **Score** ``= 1 - max(covered mass, largest cluster) / massive mass``: the share of the massive
   tokens that the dominant concept (one label, or else the largest cluster) leaves unexplained.
   0 for a single massive cluster; 0.5 for two equal unrelated concepts.
5. **Flag** polysemantic when at least two clusters carry real mass and ``score >= threshold``
   (default 0.3: a second concept holds at least 30 % of the massive tokens).

For gated MLPs a neuron writes ``+v`` or ``-v`` depending on the sign of its activation:
:meth:`PolysemanticityDetector.compare_sides` labels both sides and flags a neuron whose two
sides carry different confident concepts that no single label covers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vocablens.annotate.clustering import cut_tree
from vocablens.annotate.labeler import GENERAL_SYNSETS, ConceptLabeler, Label, TokenAnalysis

#: Feature sets: ``auto`` = ``both`` when embeddings and token ids are at hand, else ``wordnet``.
FEATURES = ("auto", "embeddings", "wordnet", "both")
#: Default cosine-distance cuts per feature set (calibrated on planted sets, seed 1, SmolLM2-135M).
DEFAULT_DISTANCES = {"embeddings": 0.95, "wordnet": 0.9, "both": 0.9}
_CASE_CLASSES = frozenset({"capitalized word", "uppercase word"})


@dataclass(frozen=True)
class Polysemanticity:
    """How a list of top tokens splits into concepts.

    Attributes:
        score: share of the massive-cluster tokens the dominant concept leaves unexplained (0..1).
        n_clusters: clusters with real mass.
        polysemantic: ``n_clusters >= 2 and score >= threshold``.
        cluster_sizes: sizes of the massive clusters, largest first.
        cluster_labels: the label of each massive cluster (same order).
        covering_label: the label of all massive tokens together (``""`` if not confident).
        features: ``"embeddings"`` or ``"wordnet"``.
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
        same_concept: both sides are confident and one label covers both.
        polysemantic: both sides are confident, with different concepts no single label covers.
    """

    positive: Label
    negative: Label
    same_concept: bool
    polysemantic: bool


class PolysemanticityDetector:
    """Scores how strongly a vector's top tokens split into unrelated concepts.

    Args:
        threshold: score from which a vector is flagged polysemantic (default 0.3).
        distance_threshold: cosine-distance cut of the clustering; None picks
            :data:`EMBEDDING_DISTANCE` or :data:`WORDNET_DISTANCE` by the features used.
        min_cluster_mass: fraction of the tokens a cluster needs to carry real mass.
        min_cluster_size: ... and at least this many tokens.
        linkage: agglomerative linkage (``"average"``, ``"complete"``, ``"single"``).
        n_removed_components: top principal directions of the centred embeddings projected out
            ("all-but-the-top", Mu & Viswanath 2018): they encode frequency and casing, not
            meaning, and make unrelated tokens look alike.
        labeler: the :class:`ConceptLabeler` to use (None: a default one, fitted in :meth:`fit`).

    Attributes:
        labeler_: the fitted labeller.
        mean_: mean embedding (None without embeddings).
        components_: ``(n_removed_components, d)`` directions projected out (None without).
        embeddings_: ``(vocab, d)`` float32 token features: embeddings centred, top components
            removed, unit length (None without embeddings).
        embedding_distance_: the cut used with embeddings.
        wordnet_distance_: the cut used with WordNet features.
    """

    def __init__(
        self,
        threshold: float = 0.3,
        distance_threshold: float | None = None,
        min_cluster_mass: float = 0.2,
        min_cluster_size: int = 3,
        linkage: str = "average",
        n_removed_components: int = 2,
        features: str = "auto",
        wordnet_weight: float = 0.5,
        labeler: ConceptLabeler | None = None,
    ):
        self.threshold = threshold
        self.distance_threshold = distance_threshold
        self.min_cluster_mass = min_cluster_mass
        self.min_cluster_size = min_cluster_size
        self.linkage = linkage
        self.n_removed_components = n_removed_components
        self.features = features
        self.wordnet_weight = wordnet_weight
        self.labeler = labeler

    def fit(self, embeddings: object = None, y: object = None) -> PolysemanticityDetector:
        """Remember the token embeddings (or none: WordNet features) and fit the labeller.

        Args:
            embeddings: ``(vocab, d)`` array or tensor (e.g. ``view.W_E``), or None.
            y: ignored.

        Returns:
            self.
        """
        labeler = self.labeler if self.labeler is not None else ConceptLabeler()
        if not hasattr(labeler, "lexicon_"):
            labeler.fit()
        self.labeler_ = labeler
        self._feature_index: dict[str, int] = {}
        self._wn_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.embeddings_ = self.mean_ = self.components_ = None
        if embeddings is not None:
            if hasattr(embeddings, "detach"):
                embeddings = embeddings.detach().float().cpu().numpy()
            x = np.array(embeddings, dtype=np.float32)  # a copy: processed in place below
            self.mean_ = x.mean(axis=0)
            x -= self.mean_
            k = self.n_removed_components
            if k > 0:
                cov = x.T.astype(np.float64) @ x  # (d, d): cheaper than an SVD
                _, vectors = np.linalg.eigh(cov)
                self.components_ = vectors[:, ::-1][:, :k].T.astype(np.float32)
                x -= (x @ self.components_.T) @ self.components_
            x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)
            self.embeddings_ = x
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, not {self.features!r}")
        self.distances_ = {
            name: self.distance_threshold or default for name, default in DEFAULT_DISTANCES.items()
        }
        return self

    # ----- features ---------------------------------------------------------------------------
    def _embedding_features(self, token_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        assert self.embeddings_ is not None
        return self.embeddings_[np.asarray(token_ids, dtype=np.int64)]

    def _wordnet_vector(self, analysis: TokenAnalysis) -> tuple[np.ndarray, np.ndarray]:
        """A token's sparse unit WordNet + class feature vector (indices, values), cached."""
        key = analysis.token.raw
        cached = self._wn_cache.get(key)
        if cached is not None:
            return cached
        index = self._feature_index
        blocks = []
        if analysis.senses is not None:
            sem = {
                index.setdefault(name, len(index)): w * self.labeler_.specificity(name)
                for name, w in analysis.senses.sense_weights.items()
                if name not in GENERAL_SYNSETS
            }
            blocks.append(sem)
        blocks.append({index.setdefault("class:" + c, len(index)): 1.0
                       for c in analysis.classes - _CASE_CLASSES})  # fmt: skip
        idx: list[int] = []
        val: list[float] = []
        for block in blocks:
            if block:
                norm = math.sqrt(sum(v * v for v in block.values()))
                idx.extend(block)
                val.extend(v / norm for v in block.values())
        values = np.asarray(val, dtype=np.float32)
        if len(values):
            values /= np.linalg.norm(values)
        cached = (np.asarray(idx, dtype=np.int64), values)
        self._wn_cache[key] = cached
        return cached

    def wordnet_similarity(
        self, analyses: Sequence[TokenAnalysis]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cosine similarities of analysed tokens' WordNet features.

        Returns:
            ``(S, has)``: ``(n, n)`` float32 similarities and ``(n,)`` whether a token has any
            feature (a token without features is similar to nothing).
        """
        cache = self._wn_cache
        vectors = [cache.get(a.token.raw) or self._wordnet_vector(a) for a in analyses]
        lengths = np.array([len(v[0]) for v in vectors], dtype=np.int64)
        n = len(vectors)
        if not lengths.sum():
            return np.zeros((n, n), np.float32), lengths > 0
        _, local, counts = np.unique(
            np.concatenate([v[0] for v in vectors]), return_inverse=True, return_counts=True
        )
        # Rows are unit vectors already; a feature of one token adds nothing to a dot product.
        kept = counts > 1
        column = np.cumsum(kept) - 1
        shared = kept[local]
        x = np.zeros((n, int(kept.sum())), dtype=np.float32)
        rows = np.repeat(np.arange(n), lengths)
        x[rows[shared], column[local[shared]]] = np.concatenate([v[1] for v in vectors])[shared]
        return x @ x.T, lengths > 0

    def similarity(
        self, tokens: Sequence[str], token_ids: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray, str]:
        """Token-token cosine similarities of the features :meth:`score` clusters.

        Returns:
            ``(S, keep, features)``: similarities of the tokens ``keep`` (indices into
            ``tokens``: tokens without features or with an unusable id are left out) and the
            feature set used (``"embeddings"``, ``"wordnet"`` or ``"both"``).
        """
        analyses = [self.labeler_.analyse(str(t)) for t in tokens]
        features = self._features_for(token_ids)
        if features == "wordnet":
            sim, has = self.wordnet_similarity(analyses)
            keep = np.flatnonzero(has)
            return sim[np.ix_(keep, keep)], keep, features
        ids = np.asarray(token_ids, dtype=np.int64)
        n_vocab = 0 if self.embeddings_ is None else len(self.embeddings_)
        keep = np.flatnonzero((ids >= 0) & (ids < n_vocab))
        x = self._embedding_features(ids[keep])
        sim = x @ x.T
        if features == "both":
            w = self.wordnet_weight
            wn_sim, has = self.wordnet_similarity([analyses[i] for i in keep])
            norms = np.sqrt((1.0 - w) + w * has.astype(np.float32))
            sim = ((1.0 - w) * sim + w * wn_sim) / np.outer(norms, norms)
        return sim, keep, features

    # ----- scoring ---------------------------------------------------------------------------
    def _clusters(self, sim: np.ndarray, cut: float) -> np.ndarray:
        """Agglomerative clusters of cosine distance ``1 - sim`` (``linkage``), cut at ``cut``.

        This is what scikit-learn's ``AgglomerativeClustering(metric="precomputed",
        linkage=..., distance_threshold=cut)`` computes (it builds the same SciPy tree for these
        linkages); SciPy is called directly, and the tree cut here, to skip per-call validation
        (~1.5 ms of ~2 ms, once per vector). ``tests/test_annotate_polysemantic.py`` checks that
        both agree.
        """
        from scipy.cluster.hierarchy import linkage

        n = len(sim)
        if n < 2:
            return np.zeros(n, dtype=np.int64)
        distance = np.clip(1.0 - sim, 0.0, 2.0).astype(np.float64)
        condensed = distance[np.triu_indices(n, k=1)]
        tree = linkage(condensed, method=self.linkage)
        return cut_tree(tree, n, cut)

    def score(
        self,
        tokens: Sequence[str],
        token_ids: Sequence[int] | None = None,
    ) -> Polysemanticity:
        """Score one list of top tokens.

        Args:
            tokens: token strings, best first.
            token_ids: their ids (uses the embeddings when fitted with them; ids < 0 are dropped).

        Returns:
            A :class:`Polysemanticity`.
        """
        if not hasattr(self, "labeler_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("PolysemanticityDetector is not fitted yet: call fit() first")
        tokens = [str(t) for t in tokens]
        analyses = [self.labeler_.analyse(t) for t in tokens]
        sim, keep, features = self.similarity(tokens, token_ids)
        cut = self.distances_[features]
        n = len(tokens)
        assignment = self._clusters(sim, cut)
        need = max(self.min_cluster_size, math.ceil(self.min_cluster_mass * n - 1e-9))
        sizes = np.bincount(assignment) if len(assignment) else np.zeros(0, dtype=np.int64)
        massive = [c for c in np.argsort(-sizes, kind="stable") if sizes[c] >= need]
        if len(massive) <= 1:
            return Polysemanticity(0.0, len(massive), False, tuple(int(sizes[c]) for c in massive),
                                   features=features)  # fmt: skip
        members = [keep[assignment == c] for c in massive]
        union = np.concatenate(members)
        lab = self.labeler_
        cover = lab.label_analyses([tokens[i] for i in union], [analyses[i] for i in union])
        own = [
            lab.label_analyses([tokens[i] for i in m], [analyses[i] for i in m]) for m in members
        ]
        covered = sum(len(m) for m, o in zip(members, own, strict=True) if self._covers(cover, o))
        dominant = max(covered, len(members[0]))
        score = 1.0 - dominant / len(union)
        cluster_labels = tuple(o.label for o in own)
        return Polysemanticity(
            score=float(score),
            n_clusters=len(members),
            polysemantic=score >= self.threshold,
            cluster_sizes=tuple(len(m) for m in members),
            cluster_labels=cluster_labels,
            covering_label=cover.label if cover.confident else "",
            features=features,
        )

    def _features_for(self, token_ids: Sequence[int] | None) -> str:
        if self.embeddings_ is None or token_ids is None or self.features == "wordnet":
            if self.features in ("embeddings", "both"):
                raise ValueError(f"features={self.features!r} needs fit(embeddings) and token_ids")
            return "wordnet"
        return "both" if self.features == "auto" else self.features

    def _covers(self, cover: Label, own: Label) -> bool:
        """Whether ``cover`` (the union's label) is a cluster's own concept or a hypernym of it."""
        if not (cover.confident and own.confident):
            return False
        if cover.label == own.label:
            return True
        if cover.synset is None or own.synset is None:
            return False
        return cover.synset in self.labeler_.lexicon_.hypernyms(own.synset)

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
        if not (pos.confident and neg.confident):
            return SidesComparison(pos, neg, False, False)
        if pos.label == neg.label:
            return SidesComparison(pos, neg, True, False)
        both = lab.label(list(positive) + list(negative))
        covers = self._covers(both, pos) and self._covers(both, neg)
        return SidesComparison(pos, neg, covers, not covers)
