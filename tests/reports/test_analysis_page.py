"""The standalone analysis page (tracing, circuits) shares the report's base template."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from vocablens.reports.intervene_pages import MARKER, _section, _write
from vocablens.reports.render import _environment


def test_analysis_page_extends_base(tmp_path):
    _, ax = plt.subplots()
    table = {"header": ["layer", "effect"], "rows": [[0, "<b>"]]}
    sections = [_section("avg", "Average", lines=["x < y"], images=["img/a.png"], table=table)]
    out = _write(tmp_path / "page", "tracing", "Causal tracing", "tiny & co", sections,
                 {"a.png": ax}, {"k": 1})  # fmt: skip
    plt.close("all")
    page = (out / "index.html").read_text()
    style = _environment().get_template("style.css").render()
    assert style in page, "the report's stylesheet, from base.html"
    assert "<title>Causal tracing · tiny &amp; co</title>" in page
    assert '<span class="home">vocablens tracing</span>' in page
    assert "<script" not in page and "script-src" not in page and 'id="search' not in page
    assert "<td>&lt;b&gt;</td>" in page and "<p>x &lt; y</p>" in page
    assert page.rstrip().endswith("</footer>\n</body>\n</html>")
    assert {p.name for p in out.iterdir()} == {"index.html", "img", "data.json", MARKER}
