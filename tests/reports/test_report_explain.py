"""The report's explain pages: one per prompt, from the explain library, linked from the index."""

from __future__ import annotations

import re

import pytest

from vocablens import load_model
from vocablens.explain import explain
from vocablens.reports import generate_report

from tiny_models import tiny_model
from tiny_tokenizer import save_tiny, tiny_tokenizer

PROMPTS = ["w5 w6 w7", "w9 w10"]


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    model, _ = tiny_model("gpt2", seed=2)
    return load_model(
        str(save_tiny(model, tiny_tokenizer(101), tmp_path_factory.mktemp("t") / "m"))
    )


def test_explain_page_per_prompt(lm, tmp_path):
    out = generate_report(lm, PROMPTS, out=tmp_path / "rep", progress=False, umap=False,
                          ov=False, annotate=False)  # fmt: skip
    index = (out / "index.html").read_text()
    for p, prompt in enumerate(PROMPTS):
        page = f"explain_{p:02d}.html"
        assert f'href="{page}"' in index
        html = (out / page).read_text()
        e = explain(lm, prompt, geva_top=5)
        assert f"residual logit {e.residual_logit:+.4f}" in html and "mismatch" not in html
        top = e.top(16).iloc[0]
        assert f"{top.contribution:+.3f}" in html
        assert len(re.findall(r"<tr><td>(?:<a [^>]*>)?\d+", html)) >= len(e.layers)
        assert 'href="layer_001.html"' in html  # layers link to their pages


def test_no_explain_pages_when_switched_off(lm, tmp_path):
    out = generate_report(lm, PROMPTS[:1], out=tmp_path / "rep", progress=False, umap=False,
                          ov=False, annotate=False, explain=False)  # fmt: skip
    assert not list(out.glob("explain_*.html"))
    assert "explain the prediction" not in (out / "index.html").read_text()
