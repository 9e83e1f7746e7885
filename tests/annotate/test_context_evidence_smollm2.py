"""Contexts as evidence on SmolLM2: the per-vector agreement adds up to the run's own rate.

(The annotator's plumbing of the columns is tested on tiny models: ``test_context_evidence.py``.)
"""

from __future__ import annotations

import pytest

from vocablens.activations.files import read_activations
from vocablens.activations.run import ActivationsConfig, activations_to_dir
from vocablens.annotate.context_evidence import context_agreement
from vocablens.project.projector import project

KEYS = ["layer", "expert", "index", "sign"]


@pytest.mark.slow
def test_smollm2_agreement_adds_up_to_the_run(smollm2, tmp_path):
    out = activations_to_dir(ActivationsConfig(model=smollm2, out=tmp_path / "acts", layers="29",
                                               max_tokens=300, top_n=5, agree_k=10,
                                               progress=False))  # fmt: skip
    found = read_activations(out)
    values = project(smollm2, "values", layers=[29], k=10).to_pandas()  # raw, as the run's
    mine = context_agreement(found.contexts, values, 10)
    counted = found.contexts[found.contexts["next_token_id"] >= 0].groupby(KEYS).size()
    mine = mine.join(counted.rename("n"), on=KEYS)
    for row in found.agreement.itertuples():  # the run's rate = the context-weighted mean
        part = mine[mine["sign"] == row.sign]
        total = (part["context_agreement"] * part["n"]).sum() / part["n"].sum()
        assert total == pytest.approx(row.rate, abs=1e-12)
        assert part["n"].sum() == row.contexts
