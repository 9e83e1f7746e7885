"""The labels against the judged set of real SmolLM2 value vectors (the evidence; slow).

``tests/data/judged/``: 180 value vectors read by two careful readers (``PROTOCOL.md``); the
scoring is ``benchmarks/bench_labels.py``'s. The floors sit a little under what the labeller
reaches on the annotator's readout (cosine lists from the judged set's own lists file), so a
regression shows. Measured: recall 0.55, false concepts 0.14, polysemantic F1 0.41 (tuning
half, odd cards: 0.52 / 0.24 / 0.40; held half, even cards: 0.59 / 0.06 / 0.43).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vocablens.annotate import ConceptLabeler
from vocablens.annotate.pipeline import DEFAULT_READOUT

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_labels  # noqa: E402


@pytest.mark.slow
def test_judged_set_floors():
    judged = bench_labels.read_jsonl(bench_labels.DATA / "smollm2_values.jsonl")
    items = bench_labels.read_jsonl(bench_labels.DATA / "smollm2_values_lists.jsonl")
    lists = bench_labels.readout_lists(items, csls=False)[DEFAULT_READOUT]
    labeler = ConceptLabeler().fit()
    machine = {i: bench_labels.machine_labels(t, labeler) for i, t in lists.items()}
    overall = bench_labels.score(judged, machine)["all"]
    print(overall)
    assert overall["n"] == 180
    assert overall["recall"] >= 0.52
    assert overall["false_concepts"] <= 0.15
    assert overall["poly_f1"] >= 0.35


@pytest.mark.slow
def test_second_judged_set_floors():
    """The second set (seed 2027, read blind after the rules were fixed): a held-out check."""
    judged = bench_labels.read_jsonl(bench_labels.DATA / "smollm2_values_b.jsonl")
    items = bench_labels.read_jsonl(bench_labels.DATA / "smollm2_values_b_lists.jsonl")
    lists = bench_labels.readout_lists(items, csls=False)[DEFAULT_READOUT]
    labeler = ConceptLabeler().fit()
    machine = {i: bench_labels.machine_labels(t, labeler) for i, t in lists.items()}
    overall = bench_labels.score(judged, machine)["all"]
    print(overall)
    assert overall["n"] == 120
    assert overall["recall"] >= 0.48  # measured 0.53
    assert overall["false_concepts"] <= 0.12  # measured 0.07
    assert overall["poly_f1"] >= 0.35  # measured 0.43


def test_acceptability_rule():
    assert bench_labels.acceptable("days of the week", ["day of the week"])
    assert bench_labels.acceptable("personal pronoun", ["pronoun"])
    assert not bench_labels.acceptable("weekday", ["day"])  # a run of whole words
    assert not bench_labels.acceptable("", ["number"])
