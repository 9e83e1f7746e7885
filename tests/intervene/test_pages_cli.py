"""`vocablens trace` / `vocablens circuit` on a tiny model: pages written, bad input exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vocablens.cli import main

from tiny_models import tiny_model
from tiny_tokenizer import save_tiny, tiny_tokenizer

WORDS = ("the", "big", "cat", "sat", "on", "a", "mat", "When", "After", "Then,", "and", "went",
         "to", "store,", "park,", "gave", "drink", "book", "Mary", "John", "Tom", "James", "Anna")  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    model, _ = tiny_model("llama", seed=5)
    return str(
        save_tiny(model, tiny_tokenizer(160, extra=WORDS), tmp_path_factory.mktemp("m") / "llama")
    )


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_trace_page(folder, tmp_path):
    out = tmp_path / "trace"
    result = _run("trace", folder, "the big cat sat on a mat", "--subject", "big cat",
                  "--seeds", "1", "--window", "1", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (out / "index.html").read_text()
    assert "Causal tracing" in html and "img/trace0_mlp_out.png" in html
    assert (out / "img" / "layers.png").stat().st_size > 0
    assert json.loads((out / "data.json").read_text())["summary"]["n_prompts"] == 1


def test_circuit_page(folder, tmp_path):
    out = tmp_path / "circuit"
    result = _run("circuit", folder, "--task", "ioi", "--examples", "4", "--threshold", "0.2",
                  "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "faithfulness" in result.output
    data = json.loads((out / "data.json").read_text())
    assert data["task"] == "ioi" and "Circuit: ioi" in (out / "index.html").read_text()


@pytest.mark.parametrize("args, message", [
    (("trace", "{m}", "the big cat", "--subject", "dog"), "is not in the prompt"),
    (("trace", "{m}", "the big cat"), "needs its --subject"),
    (("circuit", "{m}", "--task", "colored-objects"), "single-token colours"),
    (("lens", "{m}", "the cat", "--ablate", "5.h1"), "layer 5 out of range"),
])  # fmt: skip
def test_bad_input(folder, tmp_path, args, message):
    result = _run(
        *[a.format(m=folder) for a in args],
        *(["--out", str(tmp_path / "x")] if args[0] != "lens" else []),
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
