"""The annotator on the real SmolLM2-135M (slow): its vocabulary, real projections, generation.

The planted set here keeps only tokens that are single tokens of SmolLM2's tokenizer and draws
the noise from its whole vocabulary (a regression test; the evidence is the judged set,
``test_annotate_judged.py``).
"""

from __future__ import annotations

import random
import time

import pytest

from vocablens.annotate import ConceptLabeler, PolysemanticityDetector, annotate_projections

from concept_lists import CONCEPTS, is_correct, planted_set, prf, variants

pytestmark = pytest.mark.slow
#: Floors a little under what the labels reach here (measured 2026-12-01).
ACCURACY_FLOOR, F1_FLOOR = 0.78, 0.6


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


@pytest.fixture(scope="module")
def vocab(smollm2):
    tok = smollm2.tokenizer
    strings = tok.batch_decode([[i] for i in range(len(tok))])
    ids: dict[str, int] = {}
    for i, s in enumerate(strings):
        ids.setdefault(s, i)
    single = {s for c in CONCEPTS for w in c.words for s in variants(c, w)
              if len(tok.encode(s, add_special_tokens=False)) == 1}  # fmt: skip
    return strings, ids, single


def test_planted_with_smollm2_vocabulary(smollm2, labeler, vocab):
    strings, ids, single = vocab
    noise = [strings[i] for i in random.Random(0).sample(range(len(strings)), 3000)]
    cases = planted_set(seed=0, n_single=2, n_mixed=40, noise_tokens=noise, vocabulary=single)
    singles = [c for c in cases if not c.polysemantic]
    correct = sum(
        is_correct(lab.label, lab.synset, lab.supersense, c.concepts[0])
        for c in singles
        for lab in [labeler.label(c.tokens)]
    )
    det = PolysemanticityDetector(labeler=labeler).fit()
    pred = [det.score(c.tokens, [ids[t] for t in c.tokens]).polysemantic for c in cases]
    precision, recall, f1 = prf([c.polysemantic for c in cases], pred)
    print(f"accuracy {correct / len(singles):.3f} P {precision:.3f} R {recall:.3f} F1 {f1:.3f}")
    assert correct / len(singles) >= ACCURACY_FLOOR
    assert f1 >= F1_FLOOR


def test_real_value_projections(smollm2, labeler):
    from vocablens.project.projector import project

    frame = project(smollm2, "values", layers=[29], k=30, readouts="cosine").to_pandas()
    frame = frame[frame["index"] < 128]
    start = time.perf_counter()
    out = annotate_projections(frame, labeler=labeler).frame
    elapsed = time.perf_counter() - start
    assert len(out) == 256 and set(out["readout"]) == {"cosine"}
    assert out["sides_polysemantic"].notna().all()
    assert set(out["label_kind"]) <= {"semantic", "form", "none"}
    assert 0.05 < out["confident"].mean() < 0.95  # some, not all, vectors get a confident label
    assert (out["coverage"] >= 0).all() and (out["coverage"] <= 1).all()
    assert elapsed < 45  # cold WordNet look-ups dominate; ~2 ms per vector once warm


def test_generative_suggestions(smollm2):
    from vocablens.annotate.generative import GenerativeLabeler

    gen = GenerativeLabeler(model=smollm2).fit()
    cases = planted_set(seed=0, n_single=1, n_mixed=0)
    lists = [c.tokens for c in cases if c.concepts[0].name in ("animals", "body parts")]
    suggestions = gen.transform(lists)
    print("generative suggestions:", suggestions)
    # A 135M model's answers are suggestions, not checked facts: only their form is tested.
    assert len(suggestions) == 2
    assert all(isinstance(s, str) and len(s.split()) <= 4 for s in suggestions)
    assert any(suggestions)  # '' only when the answer names no concept
    prompt = gen.messages([" Monday", "Monday", " Tuesday", " the"])[0]["content"]
    assert prompt.endswith("Monday, Tuesday, the")  # stripped, duplicates removed
