"""The report on the embedded SmolLM2-135M, two layers (slow: about a minute on 2 cores)."""

from __future__ import annotations

import json
import re

import pytest

from vocablens.reports import generate_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(smollm2, tmp_path_factory):
    out = tmp_path_factory.mktemp("smollm2") / "report"
    return generate_report(smollm2, layers="0,29", out=out, progress=False)


def test_index(report):
    html = (report / "index.html").read_text(encoding="utf-8")
    for cell in ("<td>family</td><td>llama</td>", "<td>layers</td><td>30</td>",
                 "<td>d_model</td><td>576</td>", "<td>vocabulary</td><td>49152</td>",
                 "<td>final norm</td><td>rmsnorm</td>"):  # fmt: skip
        assert cell in html
    assert len(re.findall(r'<img src="img/lens_\d\d\.png"', html)) == 8  # the built-in prompts
    assert 'src="img/lens_curves.png"' in html and 'src="img/confident_fraction.png"' in html
    assert sorted(p.name for p in report.glob("layer_*.html")) == [
        "layer_000.html",
        "layer_029.html",
    ]
    assert {p.name for p in (report / "img").glob("umap_*.png")} == {"umap_000.png", "umap_029.png"}


def test_last_layer_reads_paris(report):
    page = (report / "layer_029.html").read_text(encoding="utf-8")
    first = page.split("<h3>Prompt 1:")[0]  # prompt 0: "The capital of France is"
    last_row = first.rsplit("<tr>", 1)[1]
    top = re.search(r'<td><span class="tok">([^<]*)</span> <span class="muted">', last_row)
    assert top is not None and top.group(1) == "␣Paris"


def test_concepts_and_search_index(report):
    page = (report / "layer_029.html").read_text(encoding="utf-8")
    assert page.count('<tr id="n') == 1536
    assert "with a confident concept" in page
    text = (report / "search-index.js").read_text(encoding="utf-8")
    index = json.loads(text.split("=", 1)[1].strip().rstrip(";"))
    assert len(index["neurons"]) == 2 * 1536 and len(index["heads"]) == 2 * 9
    assert sum(n[4] for n in index["neurons"]) > 0, "no confident concept at all"
