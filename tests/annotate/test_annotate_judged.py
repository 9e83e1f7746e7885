"""The labels against the judged sets of real SmolLM2 value vectors (the evidence; slow).

``tests/data/judged/``: nineteen sets of value vectors read by careful readers, two of them read
again by a second reader (``PROTOCOL.md``);
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


def overall_scores(name: str, judged_name: str | None = None) -> dict:
    """The labeller's overall scores on the judged set ``name`` (on the annotator's readout).

    ``judged_name``: another reading of the same cards (a second reader's file), else ``name``.
    """
    judged = bench_labels.read_jsonl(bench_labels.DATA / f"{judged_name or name}.jsonl")
    items = bench_labels.read_jsonl(bench_labels.DATA / f"{name}_lists.jsonl")
    both = bench_labels.readout_lists(items, csls=False)
    labeler = ConceptLabeler().fit()
    machine = {i: bench_labels.machine_labels(t, labeler, raw=both["raw"][i])
               for i, t in both[DEFAULT_READOUT].items()}  # fmt: skip
    overall = bench_labels.score(judged, machine)["all"]
    print(name, judged_name, overall)
    return overall


#: (judged set, cards, recall floor, false-concept ceiling, poly-F1 floor). Measured
#: (2026-12-02, eighth pass; recall / false concepts / F1): first set 0.68 / 0.09 / 0.40,
#: second 0.70 / 0.00 / 0.62, third 0.67 / 0.14 / 0.20, fourth 0.61 / 0.05 / 0.55, fifth
#: 0.64 / 0.04 / 0.31, sixth (seed 2035) 0.68 / 0.04 / 0.20, seventh (2037) 0.53 / 0.12 / 0.31,
#: eighth (2039) 0.50 / 0.00 / 0.41, ninth (2041) 0.57 / 0.06 / 0.53, tenth (2043) 0.65 / 0.06
#: / 0.42, eleventh (2045) 0.54 / 0.00 / 0.38, twelfth (2047) 0.63 / 0.13 / 0.46, thirteenth
#: (2049) 0.54 / 0.10 / 0.45, fourteenth (2051) 0.59 / 0.00 / 0.35, fifteenth (2053) 0.65 /
#: 0.07 / 0.38, sixteenth (2055) 0.75 / 0.00 / 0.44, seventeenth (2057) 0.72 / 0.09 / 0.44,
#: eighteenth (2059) 0.64 / 0.15 / 0.24 and nineteenth (2061) 0.67 / 0.17 / 0.36. The eighth
#: pass's changes (head words need word-vector support, prepositions and auxiliary verbs are
#: form, two-word themes need cosine 0.7 and themes 0.55, personal names) were chosen on the six
#: sets read strictly (the first, third, eighteenth, nineteenth, and the second readings of the
#: sixteenth and seventeenth: ``PROTOCOL.md``, "How strict the readers were"); the ceilings
#: fell with them.
FLOORS = [
    ("smollm2_values", 180, 0.64, 0.12, 0.31),
    ("smollm2_values_b", 120, 0.67, 0.05, 0.58),
    ("smollm2_values_c", 118, 0.65, 0.17, 0.16),
    ("smollm2_values_d", 120, 0.59, 0.08, 0.51),
    ("smollm2_values_e", 120, 0.61, 0.08, 0.26),
    ("smollm2_values_f", 119, 0.66, 0.08, 0.16),
    ("smollm2_values_g", 120, 0.51, 0.15, 0.22),
    ("smollm2_values_h", 120, 0.46, 0.05, 0.32),
    ("smollm2_values_i", 116, 0.54, 0.09, 0.44),
    ("smollm2_values_j", 116, 0.63, 0.09, 0.38),
    ("smollm2_values_k", 120, 0.49, 0.05, 0.34),
    ("smollm2_values_l", 117, 0.60, 0.16, 0.41),
    ("smollm2_values_m", 117, 0.51, 0.13, 0.37),
    ("smollm2_values_n", 120, 0.55, 0.05, 0.30),
    ("smollm2_values_o", 118, 0.62, 0.10, 0.34),
    ("smollm2_values_p", 115, 0.73, 0.05, 0.36),
    ("smollm2_values_q", 115, 0.70, 0.13, 0.36),
    ("smollm2_values_r", 117, 0.60, 0.18, 0.20),
    ("smollm2_values_s", 118, 0.65, 0.20, 0.24),
]

#: The second readings of the sixteenth and seventeenth sets (same cards, another reader):
#: measured 0.84 / 0.08 / 0.10 and 0.70 / 0.19 / 0.24.
SECOND_READINGS = [
    ("smollm2_values_p", "second_reader_p", 115, 0.80, 0.11, 0.06),
    ("smollm2_values_q", "second_reader_q", 115, 0.66, 0.22, 0.21),
]


#: Every set with its floors: the first readings (``judged`` None: the set's own file) and the
#: second readings.
CASES = [(name, None, *floors) for name, *floors in FLOORS] + SECOND_READINGS


@pytest.mark.slow
@pytest.mark.parametrize(("name", "judged", "n", "recall", "false_concepts", "poly_f1"), CASES)
def test_judged_set_floors(name, judged, n, recall, false_concepts, poly_f1):
    overall = overall_scores(name, judged)
    assert overall["n"] == n
    assert overall["recall"] >= recall
    assert overall["false_concepts"] <= false_concepts
    assert overall["poly_f1"] >= poly_f1


def test_acceptability_rule():
    assert bench_labels.acceptable("days of the week", ["day of the week"])
    assert bench_labels.acceptable("personal pronoun", ["pronoun"])
    assert not bench_labels.acceptable("weekday", ["day"])  # a run of whole words
    assert not bench_labels.acceptable("", ["number"])
