"""PolysemanticityDetector and the planted-concept regression test (``tests/concept_lists.py``).

The planted lists (seed 0: 2 single-concept lists per concept, 40 mixtures of two concepts from
different groups, 30 tokens, 20 % noise) are a regression test, not the evidence: the evidence is
the judged set of real SmolLM2 value vectors (``test_annotate_judged.py``, ``benchmarks/``).
Form concepts (plurals, past tense, code) count as found when the form description names them.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.exceptions import NotFittedError

from vocablens.annotate import ConceptLabeler, PolysemanticityDetector
from vocablens.annotate.clustering import cut_tree

from concept_lists import CONCEPTS, NOISE, is_correct, planted_set, prf

#: Planted concepts that are forms (what the tokens look like), and the form they are.
FORM_CONCEPTS = {"past-tense verbs": "past-tense verbs", "-ing verbs": "-ing forms",
                 "plurals": "plural nouns", "code": "code tokens"}  # fmt: skip


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
    assert sum(c.polysemantic for c in cases) == 40


def found(label, concept) -> bool:
    if concept.name in FORM_CONCEPTS:
        return label.form == FORM_CONCEPTS[concept.name]
    return label.semantic and is_correct(label.label, label.synset, label.supersense, concept)


def test_planted_concepts(labeler, detector):
    cases = planted_set(seed=0, n_single=2, n_mixed=40)
    singles = [c for c in cases if not c.polysemantic]
    accuracy = sum(found(labeler.label(c.tokens), c.concepts[0]) for c in singles) / len(singles)
    pred = [detector.score(c.tokens).polysemantic for c in cases]
    precision, recall, f1 = prf([c.polysemantic for c in cases], pred)
    print(f"accuracy {accuracy:.3f}  precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    assert accuracy >= 0.85  # measured 0.87
    assert f1 >= 0.55  # measured 0.62: recall is low, a second group must be a concept itself


def test_groups_have_labels(detector):
    tokens = [" Monday", " red", " Tuesday", " blue", " Friday", " green", " Sunday", " yellow",
              " Saturday", " purple", " strugg", ","]  # fmt: skip
    poly = detector.score(tokens)
    assert poly.polysemantic and poly.n_clusters == 2 and len(poly.cluster_labels) == 2
    assert 0 < poly.score <= 0.5
    single = detector.score([" Monday", " Tuesday", " Friday", " Sunday", " strugg", ","])
    assert not single.polysemantic and single.score == 0.0


def test_compare_sides(detector):
    days = [" Monday", " Tuesday", " Friday", " Sunday", " Saturday"]
    colors = [" red", " blue", " green", " yellow", " purple"]
    assert detector.compare_sides(days, colors).polysemantic
    same = detector.compare_sides(days, [" Wednesday", " Thursday", " Monday", " Friday"])
    assert not same.polysemantic


def test_cut_tree_matches_sklearn():
    from scipy.cluster.hierarchy import linkage

    rng = np.random.default_rng(0)
    x = rng.normal(size=(25, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    distance = np.clip(1 - x @ x.T, 0, 2)
    tree = linkage(distance[np.triu_indices(25, k=1)], method="average")
    ours = cut_tree(tree, 25, 0.6)
    ref = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                  distance_threshold=0.6).fit_predict(distance)  # fmt: skip
    pairs = lambda a: {(i, j) for i in range(25) for j in range(25) if a[i] == a[j]}  # noqa: E731
    assert pairs(ours) == pairs(ref)


def test_sklearn_conventions(labeler):
    with pytest.raises(NotFittedError):
        PolysemanticityDetector().score([" a"])
    det = PolysemanticityDetector(labeler=labeler)
    assert det.fit() is det and det.labeler_ is labeler
