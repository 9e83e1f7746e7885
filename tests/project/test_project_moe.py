"""Mixture-of-experts projections: one table per (kind, layer, expert), the ``expert`` column."""

from __future__ import annotations

import pytest

from vocablens.project.projector import project

from tiny_models import tiny_model


def test_expert_column_and_tables():
    model, _ = tiny_model("qwen3-moe", seed=2)  # layer 0 dense (64 neurons), layer 1: 4 x 16
    result = project(model, "values,keys,ov", k=3)
    df = result.to_pandas()
    ffn = df[df.kind.isin(["values", "keys_gate", "keys_up"])]
    dense, moe = ffn[ffn.layer == 0], ffn[ffn.layer == 1]
    assert set(dense.expert) == {-1} and dense["index"].max() == 63
    assert set(moe.expert) == {0, 1, 2, 3}
    per_expert = moe.groupby(["kind", "expert"])["index"].agg(["min", "max", "size"])
    assert (per_expert["min"] == 0).all() and (per_expert["max"] == 15).all()
    assert (per_expert["size"] == 16 * 2 * 3).all()  # neurons x signs x k
    assert set(df[df.kind.isin(["ov", "ov_promoted"])].expert) == {-1}  # attention is dense
    assert result.table("values", 1, 2).expert == 2
    assert result.table("ov", 1).expert == -1
    with pytest.raises(KeyError):
        result.table("values", 1)  # an expert layer's values need their expert
