"""Annotations: one schema, read/write checks, and the one confident-fraction rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vocablens import InputError, ResultFileError
from vocablens.annotate import Annotations, confident_fraction
from vocablens.annotate.result import COLUMNS, FRACTION_KINDS, SCHEMA, empty_frame

from synthetic_report import synthetic_annotations


def test_schema_names_the_vector_as_projections_do():
    from vocablens.project.files import SCHEMA as PROJECTIONS

    keys = ["kind", "layer", "expert", "index", "sign"]
    assert list(COLUMNS[:5]) == keys
    for name in keys:
        assert SCHEMA.field(name).type == PROJECTIONS.field(name).type
    assert "neuron" not in COLUMNS


def test_confident_fraction_rule():
    ann = synthetic_annotations()
    fractions = ann.confident_fraction()
    assert list(fractions.columns) == ["layer", "n_vectors", "fraction", *FRACTION_KINDS]
    assert fractions["n_vectors"].tolist() == [64, 64]  # +v value vectors only
    rows = ann.frame[(ann.frame["kind"] == "values") & (ann.frame["sign"] == 1)]
    semantic = (rows["confident"] & (rows["label_kind"] == "semantic")).groupby(rows["layer"])
    # semantic labels only: confident form labels never count
    assert fractions["fraction"].tolist() == semantic.mean().tolist()
    assert 0 < fractions["fraction"].max() < 0.75
    np.testing.assert_allclose(fractions[list(FRACTION_KINDS)].sum(axis=1), fractions["fraction"])
    pd.testing.assert_frame_equal(confident_fraction(ann.frame), fractions)
    assert ann.confident_fraction(sign=-1)["fraction"].tolist() == [0.0, 0.0]
    empty = ann.confident_fraction(kind="ov")
    assert len(empty) == 0 and list(empty.columns) == list(fractions.columns)


def test_read_checks_the_schema(tmp_path):
    ann = synthetic_annotations()
    path = ann.write(tmp_path / "a.parquet")
    back = Annotations.read(path)
    pd.testing.assert_frame_equal(back.frame, ann.frame)
    assert back.frame["top_tokens"].map(type).eq(list).all()
    assert str(back.frame["sides_polysemantic"].dtype) == "boolean"
    old = ann.frame.rename(columns={"index": "neuron"}).drop(columns=["expert"])
    old.to_parquet(tmp_path / "old.parquet")
    with pytest.raises(ResultFileError, match=r"not a vocablens annotation table .*missing expert"):
        Annotations.read(tmp_path / "old.parquet")
    ann.frame.astype({"layer": "int64"}).to_parquet(tmp_path / "types.parquet")
    with pytest.raises(ResultFileError, match="other columns or types"):
        Annotations.read(tmp_path / "types.parquet")
    (tmp_path / "junk.parquet").write_text("no")
    with pytest.raises(ResultFileError, match="cannot read annotations file"):
        Annotations.read(tmp_path / "junk.parquet")
    with pytest.raises(ResultFileError, match="not found"):
        Annotations.read(tmp_path / "missing.parquet")


def test_frame_is_brought_to_the_schema():
    with pytest.raises(InputError, match="missing expert, index; unknown neuron"):
        Annotations(
            synthetic_annotations().frame.rename(columns={"index": "neuron"}).drop(columns="expert")
        )
    empty = Annotations(empty_frame())
    assert len(empty) == 0 and list(empty.frame.columns) == list(COLUMNS)
    both = Annotations.concat([synthetic_annotations(), empty])
    assert len(both) == len(synthetic_annotations())
