"""The labels against the judged sets of real SmolLM2 value vectors (the evidence; slow).

``tests/data/judged/``: seventeen sets of value vectors read by careful readers (``PROTOCOL.md``);
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
#: (2026-12-02, seventh pass; recall / false concepts / F1): first set 0.66 / 0.18 / 0.43,
#: second 0.72 / 0.07 / 0.56, third 0.67 / 0.19 / 0.21, fourth 0.70 / 0.09 / 0.55, fifth
#: 0.65 / 0.13 / 0.27, sixth (seed 2035) 0.73 / 0.21 / 0.29, seventh (2037) 0.56 / 0.24 / 0.24,
#: eighth (2039) 0.53 / 0.00 / 0.46, ninth (2041) 0.62 / 0.06 / 0.44, tenth (2043) 0.70 / 0.05
#: / 0.46, eleventh (2045) 0.55 / 0.00 / 0.38, twelfth (2047) 0.65 / 0.22 / 0.37,
#: thirteenth (2049) 0.57 / 0.10 / 0.39, fourteenth (2051) 0.62 / 0.00 / 0.37, fifteenth
#: (2053) 0.66 / 0.13 / 0.39, sixteenth (2055) 0.80 / 0.05 / 0.35 and seventeenth (2057)
#: 0.78 / 0.27 / 0.42. The seventh pass's changes were chosen on the first fifteen; the last
#: two sets were read blind in it and scored after each change (one ordering, a second theme
#: before three Python names, followed a card of the seventeenth). The first set's ceiling rose
#: 0.16 -> 0.19 with two themes as a concept (one more false concept there, 14 more hits over
#: the fifteen).
FLOORS = [
    ("smollm2_values", 180, 0.59, 0.19, 0.38),
    ("smollm2_values_b", 120, 0.66, 0.17, 0.52),
    ("smollm2_values_c", 118, 0.62, 0.22, 0.12),
    ("smollm2_values_d", 120, 0.63, 0.12, 0.42),
    ("smollm2_values_e", 120, 0.58, 0.20, 0.20),
    ("smollm2_values_f", 119, 0.64, 0.23, 0.24),
    ("smollm2_values_g", 120, 0.52, 0.26, 0.16),
    ("smollm2_values_h", 120, 0.47, 0.05, 0.33),
    ("smollm2_values_i", 116, 0.56, 0.10, 0.36),
    ("smollm2_values_j", 116, 0.62, 0.06, 0.30),
    ("smollm2_values_k", 120, 0.50, 0.06, 0.25),
    ("smollm2_values_l", 117, 0.60, 0.25, 0.32),
    ("smollm2_values_m", 117, 0.52, 0.25, 0.22),
    ("smollm2_values_n", 120, 0.58, 0.14, 0.19),
    ("smollm2_values_o", 118, 0.61, 0.18, 0.36),
    ("smollm2_values_p", 115, 0.72, 0.10, 0.20),
    ("smollm2_values_q", 115, 0.72, 0.30, 0.35),
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
