"""`vocablens lens` through click's CliRunner, on a tiny model saved as a real model directory."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vocablens.cli import main
from vocablens.layerspec import parse_layers

from tiny_tokenizer import save_tiny, tiny_tokenizer


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_table_and_json(model_dir, tmp_path):
    out = tmp_path / "lens.json"
    res = run("lens", model_dir, "w5 w6 w7", "w9 w10", "--top-k", "3", "--json", str(out))
    assert res.exit_code == 0, res.output
    assert "resid layer" in res.output and "prompt 1" in res.output
    data = json.loads(out.read_text())
    assert data["model"] == model_dir
    assert [p["tokens"] for p in data["prompts"]] == [["w5", "w6", "w7"], ["w9", "w10"]]
    assert len(data["prompts"][0]["layers"]) == 3  # resid 0..L for a 2-layer model


def test_json_to_stdout_with_sites_and_bos(model_dir):
    res = run("lens", model_dir, "w5 w6", "--json", "-", "--sites", "attn_out,mlp_out", "--bos")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["prompts"][0]["tokens"] == ["<bos>", "w5", "w6"]
    assert {layer["site"] for layer in data["prompts"][0]["layers"]} == {"attn_out", "mlp_out"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("/no/such/model", "w5"), "model path does not exist"),
        (("{model}", ""), "empty prompt"),
        (("{model}", "w5", "--layers", "0-9"), "out of range"),
        (
            ("{model}", "w5", "--target", "w5 w6"),
            "not a single token: it splits into 2 ('w5', 'w6')",
        ),
        (("{model}", " ".join(["w5"] * 80)), "more than the model's context of 64"),
        (("{model}", "w5", "--sites", "resid_post"), "unknown site"),
    ],
)
def test_bad_input_is_one_line_exit_2(model_dir, tmp_path, args, message):
    out = tmp_path / "never.json"
    res = run("lens", *[a.format(model=model_dir) for a in args], "--json", str(out))
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_unsupported_architecture_exit_2(tmp_path):
    from transformers import AutoModelForCausalLM, BloomConfig

    bloom = AutoModelForCausalLM.from_config(
        BloomConfig(vocab_size=60, hidden_size=16, n_layer=1, n_head=2)
    )
    folder = save_tiny(bloom, tiny_tokenizer(60), tmp_path / "bloom")
    res = run("lens", str(folder), "w5")
    assert res.exit_code == 2 and "unsupported architecture 'bloom'" in res.output


def test_parse_layers():
    assert parse_layers("0-2,5,4") == [0, 1, 2, 4, 5]
    assert parse_layers(None) is None
