"""The form of a list: the form class that stands out against a random list of its readout.

A form describes a list when its share stands out: word pieces fill about half of any raw
top-30 of SmolLM2 (its hub fragments), punctuation a fourteenth, so 0.5 pieces say nothing and
0.3 punctuation says much. :func:`standout_form` compares a class's rank-weighted share with
its share here, the *base* (:data:`FORM_BASE`), and names the class that stands out most.

Measured on SmolLM2-135M's FFN value vectors by ``benchmarks/form_base.py --n 2000 --seed 11``
(2,000 vectors drawn uniformly over layers, neurons and signs; top-30, untrained tokens masked).
Byte-level BPE vocabularies of other models hold similar shares; pass ``form_base=`` to the
labeller to use a table of your own model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from vocablens.annotate.analysis import TokenAnalysis, form_name

#: Readout -> form class -> mean rank-weighted share in a top-30 list.
FORM_BASE: dict[str, dict[str, float]] = {
    "raw": {
        "byte": 0.010, "capitalized": 0.068, "code": 0.074, "comparative": 0.005,
        "digits": 0.001, "function": 0.072, "ing": 0.010, "letter": 0.016, "ly": 0.005,
        "past": 0.016, "piece": 0.411, "plural": 0.041, "punctuation": 0.073, "special": 0.001,
        "start": 0.147, "symbol": 0.001, "uppercase": 0.032, "whitespace": 0.011,
    },
    "cosine": {
        "byte": 0.007, "capitalized": 0.235, "code": 0.017, "comparative": 0.009,
        "digits": 0.003, "function": 0.095, "ing": 0.033, "letter": 0.035, "ly": 0.014,
        "past": 0.038, "piece": 0.151, "plural": 0.076, "punctuation": 0.040, "start": 0.073,
        "uppercase": 0.018, "whitespace": 0.008,
    },
}  # fmt: skip
#: The base of a class or readout the table lacks, and the least base a lift divides by (a
#: class almost never seen would otherwise stand out with one token).
MIN_BASE = 0.02


def standout_form(
    lists: Sequence[tuple[str, Sequence[TokenAnalysis], Sequence[float]]],
    base_of: Mapping[str, Mapping[str, float]],
    min_share: float,
    min_lift: float,
) -> tuple[str, float, str]:
    """The form class that stands out most over ``(readout, analyses, weights)`` lists.

    A class is a candidate when its rank-weighted share reaches ``min_share`` and ``min_lift``
    times its base share (``base_of[readout]``; a readout the table lacks: cosine's); the
    candidate with the largest ``share * log(share / base)`` (its term of the list's KL
    divergence from the base) wins.

    Returns:
        Its description (``""`` when there is no candidate), its share, and its readout.
    """
    best: tuple[float, float, str, str] | None = None  # (gain, share, form, readout)
    for readout, analyses, weights in lists:
        base = base_of.get(readout) or base_of.get("cosine", {})
        mass: dict[str, float] = {}
        for a, w in zip(analyses, weights, strict=True):
            for form in a.forms:
                mass[form] = mass.get(form, 0.0) + w
        total = sum(weights)
        for form, m in sorted(mass.items()):
            share = m / total
            expected = max(base.get(form, MIN_BASE), MIN_BASE)
            if share >= min_share and share >= min_lift * expected:
                gain = share * math.log(share / expected)
                if best is None or (gain, share) > best[:2]:
                    best = (gain, share, form, readout)
    if best is None:
        return "", 0.0, ""
    return form_name(best[2]), best[1], best[3]
