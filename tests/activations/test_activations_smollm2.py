"""SmolLM2 on a few hundred tokens of the embedded WordNet corpus: a smoke test with checks."""

from __future__ import annotations

from itertools import islice

import pytest
import torch

from vocablens.activations.corpus import open_corpus
from vocablens.activations.files import read_activations
from vocablens.activations.run import ActivationsConfig, activations_to_dir
from vocablens.model.neurons import capture_coefficients


@pytest.mark.slow
def test_smollm2_wordnet_run(smollm2, tmp_path):
    out = activations_to_dir(ActivationsConfig(model=smollm2, out=tmp_path / "acts",
                                               layers="0,29", max_tokens=300, top_n=5,
                                               agree_k=10, progress=False))  # fmt: skip
    found = read_activations(out)
    stats, ctx = found.stats, found.contexts
    assert len(stats) == 2 * 1536 and (stats["count"] == 300).all()
    assert found.manifest["corpus"]["kind"] == "wordnet"
    assert len(ctx) == 2 * 1536 * 2 * 5 and ctx["position"].max() < 300
    assert (stats["min"] <= stats["q01"]).all() and (stats["q99"] <= stats["max"]).all()
    assert found.agreement["rate"].between(0, 1).all() and len(found.agreement) == 4
    # the strongest context of a few neurons, recomputed from its document alone
    docs = list(islice(open_corpus(None).documents(), int(ctx["doc"].max()) + 1))
    top = ctx[(ctx["rank"] == 0) & (ctx["sign"] == 1)].nlargest(3, "activation")
    for row in top.itertuples():
        ids = smollm2.tokenizer(docs[row.doc], add_special_tokens=False)["input_ids"]
        start = row.doc_position // 128 * 128
        seen = {}
        sink = lambda layer, c, seen=seen: seen.__setitem__(layer, c)  # noqa: E731
        with torch.inference_mode(), capture_coefficients(smollm2.view, [row.layer], sink):
            smollm2.model(input_ids=torch.tensor([ids[start : row.doc_position + 1]]))
        got = seen[row.layer][0, -1, row.index].item()
        assert got == pytest.approx(row.activation, rel=1e-3, abs=1e-3)
        assert row.token_id == ids[row.doc_position]
