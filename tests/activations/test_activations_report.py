"""The report's layer pages with a corpus run: top contexts per neuron and the agreement rate."""

from __future__ import annotations

import html

import pytest
from act_helpers import model_dir, run, write_corpus
from click.testing import CliRunner

from vocablens.activations.files import read_activations
from vocablens.cli import main
from vocablens.errors import ResultFileError
from vocablens.reports import generate_report

FAST = dict(annotate=False, umap=False, ov=False, progress=False)


def test_layer_pages_show_top_contexts_and_agreement(tmp_path):
    folder = model_dir("llama", tmp_path / "llama")
    corpus = write_corpus(tmp_path / "corpus.jsonl", n_docs=15)
    acts = run(str(folder), tmp_path / "acts", corpus, agree_k=5)
    report = generate_report(str(folder), ["w5 w6 w7"], out=tmp_path / "report",
                             activations=acts, **FAST)  # fmt: skip
    page = (report / "layer_001.html").read_text()
    assert 'id="contexts"' in page and "Agreement in this layer" in page
    found = read_activations(acts)
    top = found.contexts.query("layer == 1 and index == 0 and sign == 1 and rank == 0").iloc[0]
    assert f"<b>{html.escape(top.token)}</b>" in page
    rate = found.agreement.query("layer == 1 and sign == 1")["rate"].iloc[0]
    assert f"{100 * rate:.1f} %" in page
    plain = generate_report(str(folder), ["w5 w6 w7"], out=tmp_path / "plain", **FAST)
    assert 'id="contexts"' not in (plain / "layer_001.html").read_text()


def test_a_folder_that_is_no_run_is_refused(tmp_path):
    with pytest.raises(ResultFileError, match="no activations run"):
        generate_report("no-such-model", out=tmp_path / "r", activations=tmp_path, **FAST)
    done = CliRunner().invoke(main, ["report", "no-such-model", "--out", str(tmp_path / "r"),
                                     "--activations", str(tmp_path)])  # fmt: skip
    assert done.exit_code == 2 and done.output.startswith("Error: ")
    assert not (tmp_path / "r").exists()
