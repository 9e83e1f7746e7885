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


def overall_scores(name: str) -> dict:
    """The labeller's overall scores on the judged set ``name`` (on the annotator's readout)."""
    judged = bench_labels.read_jsonl(bench_labels.DATA / f"{name}.jsonl")
    items = bench_labels.read_jsonl(bench_labels.DATA / f"{name}_lists.jsonl")
    lists = bench_labels.readout_lists(items, csls=False)[DEFAULT_READOUT]
    labeler = ConceptLabeler().fit()
    machine = {i: bench_labels.machine_labels(t, labeler) for i, t in lists.items()}
    overall = bench_labels.score(judged, machine)["all"]
    print(name, overall)
    return overall


#: (judged set, cards, recall floor, false-concept ceiling, poly-F1 floor). The second set
#: (seed 2027) was read blind after the rules were fixed: a held-out check. Measured: first set
#: 0.55 / 0.14 / 0.41, second set 0.53 / 0.07 / 0.43.
FLOORS = [("smollm2_values", 180, 0.52, 0.15, 0.35), ("smollm2_values_b", 120, 0.48, 0.12, 0.35)]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "n", "recall", "false_concepts", "poly_f1"), FLOORS)
def test_judged_set_floors(name, n, recall, false_concepts, poly_f1):
    overall = overall_scores(name)
    assert overall["n"] == n
    assert overall["recall"] >= recall
    assert overall["false_concepts"] <= false_concepts
    assert overall["poly_f1"] >= poly_f1


def test_acceptability_rule():
    assert bench_labels.acceptable("days of the week", ["day of the week"])
    assert bench_labels.acceptable("personal pronoun", ["pronoun"])
    assert not bench_labels.acceptable("weekday", ["day"])  # a run of whole words
    assert not bench_labels.acceptable("", ["number"])
