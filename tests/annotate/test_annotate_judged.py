"""The labels against the judged sets of real SmolLM2 value vectors (the evidence; slow).

``tests/data/judged/``: three sets of value vectors read by careful readers (``PROTOCOL.md``);
the scoring is ``benchmarks/bench_labels.py``'s, on the annotator's readout (the cosine lists of
each set's lists file, the raw lists beside them for the form). The floors sit a little under
what the labeller reaches, so a regression shows.
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
    both = bench_labels.readout_lists(items, csls=False)
    labeler = ConceptLabeler().fit()
    machine = {i: bench_labels.machine_labels(t, labeler, raw=both["raw"][i])
               for i, t in both[DEFAULT_READOUT].items()}  # fmt: skip
    overall = bench_labels.score(judged, machine)["all"]
    print(name, overall)
    return overall


#: (judged set, cards, recall floor, false-concept ceiling, poly-F1 floor). Measured
#: (2026-12-01, fourth pass; recall / false concepts / F1): first set 0.60 / 0.14 / 0.48, second
#: 0.62 / 0.07 / 0.52, third 0.61 / 0.14 / 0.21 (the first three were read before this pass and
#: used to choose its rules), fourth (seed 2031) 0.55 / 0.09 / 0.23 and fifth (seed 2033)
#: 0.58 / 0.17 / 0.16, both read blind during this pass and scored once at its end.
FLOORS = [
    ("smollm2_values", 180, 0.57, 0.15, 0.42),
    ("smollm2_values_b", 120, 0.59, 0.10, 0.45),
    ("smollm2_values_c", 118, 0.57, 0.17, 0.15),
    ("smollm2_values_d", 120, 0.52, 0.12, 0.15),
    ("smollm2_values_e", 120, 0.54, 0.20, 0.10),
]


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
