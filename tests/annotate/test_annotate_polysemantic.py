"""PolysemanticityDetector and the planted-concept evaluation (WordNet features, no model).

The planted set (``tests/concept_lists.py``, seed 0): 2 single-concept lists per concept (23
concepts) and 40 mixtures of two concepts from different groups; 30 tokens each, 20 % noise.
Numbers measured with these *WordNet* features are what this test asserts; the same evaluation
on SmolLM2's embeddings is in ``test_annotate_real.py`` (slow) and ``benchmarks/``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.exceptions import NotFittedError

from vocablens.annotate import ConceptLabeler, PolysemanticityDetector
from vocablens.annotate.pipeline import single_blas_thread
from vocablens.annotate.polysemantic import cut_tree

from concept_lists import CONCEPTS, NOISE, is_correct, planted_set, prf


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


@pytest.fixture(scope="module")
def detector(labeler):
    return PolysemanticityDetector(labeler=labeler).fit()


def test_concept_lists_are_sound():
    assert len(CONCEPTS) >= 15 and len({c.name for c in CONCEPTS}) == len(CONCEPTS)
    assert all(len(c.words) >= 7 and c.accept for c in CONCEPTS)
    words = {w.lower() for c in CONCEPTS for w in c.words}
    assert not words & {t.strip().lower() for t in NOISE}  # noise never belongs to a concept
    cases = planted_set(seed=0)
    assert cases == planted_set(seed=0)  # deterministic
    assert all(len(set(c.tokens)) == len(c.tokens) for c in cases)
    # concepts with few words (CJK, punctuation) give shorter lists, the noise share is kept
    assert all(20 <= len(c.tokens) <= 30 for c in cases)
    assert sum(len(c.tokens) == 30 for c in cases) >= 0.8 * len(cases)
    assert sum(c.polysemantic for c in cases) == 40
    assert all(a.group != b.group for c in cases if c.polysemantic for a, b in [c.concepts])


def test_planted_concepts(labeler, detector):
    cases = planted_set(seed=0, n_single=2, n_mixed=40)
    singles = [c for c in cases if not c.polysemantic]
    correct = 0
    for case in singles:
        label = labeler.label(case.tokens)
        correct += is_correct(label.label, label.synset, label.supersense, case.concepts[0])
    accuracy = correct / len(singles)
    with single_blas_thread():
        pred = [detector.score(c.tokens).polysemantic for c in cases]
    precision, recall, f1 = prf([c.polysemantic for c in cases], pred)
    print(f"accuracy {accuracy:.3f}  precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    assert accuracy >= 0.9
    assert f1 >= 0.85


def test_a_mixture_and_a_single_concept(detector):
    weekdays = [" Monday", " Tuesday", " Wednesday", " Thursday", " Friday", " Sunday", "Monday"]
    colors = [" red", " blue", " green", " yellow", " purple", " black", " white"]
    mixed = detector.score(weekdays + colors + [" the", "ing"])
    assert mixed.polysemantic and mixed.n_clusters == 2 and mixed.features == "wordnet"
    assert set(mixed.cluster_labels) == {"day of the week", "color"}
    assert mixed.score == pytest.approx(0.5)
    single = detector.score([*weekdays, " Saturday", " monday", " the", "ing"])
    assert not single.polysemantic and single.score == 0.0


def test_one_label_covers_split_clusters(detector):
    # Two sub-concepts under one hypernym ("weekday" and "Saturday/Sunday" days) are one concept.
    result = detector.score(
        [" Monday", " Tuesday", " Wednesday", " Thursday", " Friday", " Saturday", " Sunday",
         "Monday", "Tuesday", "Friday", "Saturday", "Sunday"]
    )  # fmt: skip
    assert not result.polysemantic


def test_compare_sides(detector):
    pos = [" Monday", " Tuesday", " Wednesday", " Friday", " Sunday"]
    neg = [" red", " blue", " green", " black", " white"]
    sides = detector.compare_sides(pos, neg)
    assert sides.polysemantic and not sides.same_concept
    assert (sides.positive.label, sides.negative.label) == ("day of the week", "color")
    same = detector.compare_sides(pos, [" Saturday", " Thursday", " Monday", " Sunday"])
    assert same.same_concept and not same.polysemantic
    unclear = detector.compare_sides(pos, ["zq", "mp3", " the", ","])
    assert not unclear.polysemantic and not unclear.same_concept


def test_embedding_features_follow_the_embeddings(labeler):
    # Random tokens whose embeddings form two tight groups: flagged with embeddings, whatever
    # WordNet says (the tokens are unknown pieces).
    rng = np.random.default_rng(0)
    vocab, dim = 200, 16
    centre = 5.0 * np.eye(dim)[0]
    emb = rng.normal(size=(vocab, dim))
    emb[:10] = centre + 0.05 * rng.normal(size=(10, dim))
    emb[10:20] = -centre + 0.05 * rng.normal(size=(10, dim))
    det = PolysemanticityDetector(labeler=labeler, features="embeddings", n_removed_components=0)
    det.fit(emb)
    tokens = [f"zq{i}x" for i in range(20)]
    result = det.score(tokens, token_ids=list(range(20)))
    assert result.features == "embeddings" and result.n_clusters == 2 and result.polysemantic
    one = det.score(tokens[:10], token_ids=list(range(10)))
    assert one.n_clusters == 1 and not one.polysemantic
    # ids out of range are dropped, and without ids the WordNet features are used
    assert det.score(tokens, token_ids=[*range(19), 10_000]).n_clusters == 2
    auto = PolysemanticityDetector(labeler=labeler).fit(emb)
    assert auto.score(tokens).features == "wordnet"
    assert auto.score(tokens, token_ids=list(range(20))).features == "both"


def test_cut_tree_matches_sklearn():
    from scipy.cluster.hierarchy import linkage

    rng = np.random.default_rng(1)
    for trial in range(20):
        x = rng.normal(size=(25, 8)) + 2.0 * rng.integers(0, 3, size=(25, 1))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        distance = np.clip(1.0 - x @ x.T, 0.0, 2.0)
        np.fill_diagonal(distance, 0.0)
        cut = 0.2 + 0.05 * trial
        ours = cut_tree(linkage(distance[np.triu_indices(25, k=1)], "average"), 25, cut)
        theirs = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage="average", distance_threshold=cut
        ).fit_predict(distance)
        # same partition (labels may be numbered differently)
        assert len(set(zip(ours, theirs, strict=True))) == len(set(ours)) == len(set(theirs))


def test_sklearn_conventions(labeler):
    det = PolysemanticityDetector(threshold=0.4)
    assert det.threshold == 0.4 and not hasattr(det, "labeler_")
    with pytest.raises(NotFittedError):
        det.score([" cat"])
    assert det.fit() is det and det.embeddings_ is None
    with pytest.raises(ValueError, match="features"):
        PolysemanticityDetector(labeler=labeler, features="nope").fit()
    with pytest.raises(ValueError, match="needs"):
        PolysemanticityDetector(labeler=labeler, features="embeddings").fit().score([" cat"])
