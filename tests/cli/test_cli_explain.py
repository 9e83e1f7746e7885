"""`vocablens explain` through click's CliRunner, on a tiny model saved as a real model directory."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from vocablens.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_table_and_json(model_dir, tmp_path):
    out = tmp_path / "explain.json"
    res = run("explain", model_dir, "w5 w6 w7", "--target", "w9", "--top-k", "3",
              "--json", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "final-norm scale" in res.output and "difference" in res.output and ": ok)" in res.output
    assert "explaining logit(w9)" in res.output and "Geva et al. 2022" in res.output
    data = json.loads(out.read_text())
    assert data["target"] == "w9" and data["position"] == 2 and data["tokens"] == ["w5", "w6", "w7"]
    assert abs(data["total"] - data["residual_logit"]) < 1e-4
    assert len(data["top"]) == 3


def test_contrast_position_layers_labels_and_stdout(model_dir, tmp_path):
    labels = tmp_path / "labels.parquet"
    rows = [{"layer": 1, "index": i, "sign": s, "label": f"concept{i}{s:+d}"}
            for i in range(64) for s in (1, -1)]  # fmt: skip
    pd.DataFrame(rows).to_parquet(labels)  # a table in a newer/other schema: read defensively
    res = run("explain", model_dir, "w5 w6 w7", "--contrast", "w8", "--position", "1",
              "--layers", "1", "--annotations", str(labels))  # fmt: skip
    assert res.exit_code != 0  # not a vocablens annotation file: one line
    assert res.output.startswith("Error:") and res.output.count("\n") == 1
    res = run("explain", model_dir, "w5 w6 w7", "--contrast", "w8", "--position", "1",
              "--layers", "1", "--json", "-")  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["contrast"] == "w8" and data["position"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{model}", ""), "empty prompt"),
        (("{model}", "w5", "--target", "w5 w6"), "not a single token: it splits into 2"),
        (("{model}", "w5", "--target", "zzzq"), "target 'zzzq' is not in the vocabulary"),
        (("{model}", "w5", "--contrast", "w5 w6"), "contrast 'w5 w6' is not a single token"),
        (("{model}", "w5 w6", "--position", "2"), "position 2 out of range"),
        (("{model}", "w5 w6", "--position", "-3"), "out of range"),
        (("{model}", "w5", "--layers", "0-9"), "out of range"),
        (("{model}", "w5", "--json", "/no/such/dir/x.json"), "does not exist"),
        (("{model}", "w5", "--annotations", "/no/such.parquet"), "not found"),
        (("/no/such/model", "w5"), "model path does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(model_dir, args, message):
    res = run("explain", *(a.replace("{model}", model_dir) for a in args))
    assert res.exit_code == 2, res.output
    assert res.output.startswith("Error:") and res.output.count("\n") == 1
    assert message in res.output
