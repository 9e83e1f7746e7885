"""Report rendering from synthetic data: files, escaping, offline links, atomic replacement."""

from __future__ import annotations

import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vocablens.errors import InputError
from vocablens.reports import plots
from vocablens.reports.page_rows import annotation_lookup, top_lists
from vocablens.reports.render import MARKER, render_report
from vocablens.reports.search import build_index, script_json

from synthetic_report import synthetic_data


@pytest.fixture(scope="module")
def data():
    return synthetic_data()


@pytest.fixture(scope="module")
def report(data, tmp_path_factory) -> Path:
    return render_report(data, tmp_path_factory.mktemp("r") / "report", progress=False)


class _Tags(HTMLParser):
    """Collects start tags and their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> _Tags:
    parser = _Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages(report: Path) -> list[Path]:
    return sorted(report.glob("*.html"))


def test_files(report, data):
    names = {p.name for p in report.iterdir()}
    assert {"index.html", "search-index.js", "img", MARKER} <= names
    assert {f"layer_{layer:03d}.html" for layer in data.layers} <= names
    pngs = {p.name for p in (report / "img").iterdir()}
    assert {"lens_00.png", "lens_01.png", "lens_curves.png", "confident_fraction.png"} <= pngs
    assert {f"umap_{layer:03d}.png" for layer in data.layers} <= pngs
    for png in (report / "img").iterdir():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(report.parent.glob(".report.*")), "temporary folders left behind"


def test_hostile_tokens_are_escaped(report):
    for page in pages(report):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "<b>bold</b>" not in html  # a label with markup
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", html), "raw control character"
        scripts = [a for tag, a in parse(page).tags if tag == "script"]
        assert scripts == [{"src": "search-index.js"}, {}]  # the index file and the inline code
        handlers = [(t, k) for t, attrs in parse(page).tags for k in attrs if k.startswith("on")]
        assert not handlers, f"event-handler attributes in {page.name}: {handlers}"
    layer = (report / "layer_002.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in layer
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in layer
    assert "&amp;amp;" in layer  # the token "&amp;" itself
    assert "&#34;&#39;" in layer  # the token "'
    assert "⟨0x07⟩" in layer and '<span class="tok">\\n</span>' in layer
    assert "\ufffd" in layer
    assert "{{ 7*7 }}" in layer  # data is never evaluated as a template
    index = (report / "index.html").read_text(encoding="utf-8")
    assert "synthetic &lt;model&gt; &amp; &#34;co&#34;" in index
    assert "&lt;script&gt;alert(&#39;p&#39;)&lt;/script&gt; &amp; &#34;x&#34;\\n⟨0x07⟩" in index


def test_search_index_is_script_safe(report):
    text = (report / "search-index.js").read_text(encoding="utf-8")
    prefix = "window.VOCABLENS_INDEX = "
    assert text.startswith(prefix) and text.rstrip().endswith(";")
    assert not set("<>&\u2028\u2029") & set(text)
    index = json.loads(text[len(prefix) :].rstrip().rstrip(";"))
    assert "<script>alert(1)</script>" in index["tokens"] and "⟨U+2028⟩" in index["tokens"]
    paris = index["tokens"].index("␣Paris")
    planted = [n for n in index["neurons"] if n[0] == 2 and n[1] == 3]
    assert planted and planted[0][5][0] == paris
    heads = [h for h in index["heads"] if h[:2] == [2, 0]]
    assert heads and heads[0][2][0] == paris


def test_offline_and_relative_links(report):
    for page in pages(report):
        text = page.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text
        for _tag, attrs in parse(page).tags:
            for key in ("src", "href"):
                value = attrs.get(key)
                if value is None or value.startswith("#") or value == "data:,":
                    continue
                assert ":" not in value and not value.startswith("/"), value
                assert (report / value.split("#")[0]).is_file(), f"{page.name}: broken {value}"
    assert "http" not in (report / "search-index.js").read_text(encoding="utf-8")


def test_layer_page_sections(report):
    text = "".join(parse(report / "layer_002.html").text)
    for heading in ("Logit lens after block 2", "FFN value vectors", "Top concepts",
                    "Polysemantic value vectors", "Neuron table", "Attention heads: OV circuit"):  # fmt: skip
        assert heading in text
    tags = parse(report / "layer_002.html").tags
    ids = {a.get("id") for _, a in tags}
    assert {"n3", "h0", "h1"} <= ids
    assert any(t == "img" and a.get("src") == "img/umap_002.png" for t, a in tags)


def test_replaces_an_earlier_report(data, report, tmp_path):
    out = tmp_path / "rep"
    shutil.copytree(report, out)
    (out / "stale.txt").write_text("old")
    render_report(data, out, progress=False)
    assert not (out / "stale.txt").exists() and (out / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_keeps_the_old_report(data, report, tmp_path, monkeypatch, error):
    out = tmp_path / "rep"
    shutil.copytree(report, out)
    before = (out / "index.html").read_bytes()

    def broken(*args, **kwargs):
        raise error("boom")

    monkeypatch.setattr(plots, "umap_scatter", broken)  # fails late: most files are written
    with pytest.raises(error, match="boom"):
        render_report(data, out, progress=False)
    assert (out / "index.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"], "temporary folder left behind"


def test_refuses_foreign_targets(data, tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        render_report(data, tmp_path / "file.txt", progress=False)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="not a vocablens report"):
        render_report(data, tmp_path / "home", progress=False)
    assert (tmp_path / "home" / "thesis.tex").read_text() == "precious"
    (tmp_path / "empty").mkdir()
    render_report(data, tmp_path / "empty", progress=False)
    assert (tmp_path / "empty" / "index.html").is_file()


def test_script_json_escapes():
    value = {"t": ["</script><!--", "a&b", "\u2028\u2029", 'q"\\']}
    text = script_json(value)
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == value


def test_views(data):
    values = top_lists(data.values, 3)
    assert values[(2, 3, 1)][0][0] == "␣Paris" and len(values[(2, 3, 1)]) == 3
    assert values[(0, 0, -1)][0][1] < 0
    labels = annotation_lookup(data.annotations)
    assert labels[(0, 1)].label == "city" and labels[(0, 1)].confident
    assert labels[(0, 1)].polysemantic and not labels[(0, 0)].confident
    fractions = data.annotations.confident_fraction()
    assert list(fractions["layer"]) == [0, 1, 2]
    assert fractions["fraction"].between(0, 1).all()
    index = build_index([2], values, labels, {}, {}, k=3)
    assert {n[0] for n in index["neurons"]} == {2} and index["heads"] == []


@pytest.mark.parametrize("color", ["prob", "kl"])
def test_plots_take_data_and_ax(data, color):
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    fig = Figure()
    axes = fig.subplots(2, 2).ravel()
    assert plots.lens_heatmap(data.lens, 1, color=color, ax=axes[0]) is axes[0]
    assert plots.lens_curves(data.lens, ax=axes[1]) is axes[1]
    assert plots.confident_fraction(data.annotations.confident_fraction(), ax=axes[2]) is axes[2]
    assert plots.umap_scatter(data.umap, 1, ax=axes[3]) is axes[3]
    fig.savefig(io.BytesIO(), format="png")  # "$x^2$" and control-char tokens draw as text
    texts = [t.get_text() for t in axes[0].texts]
    assert any("\\$" in t for t in texts) or all("$" not in t for t in texts)
    own = plots.lens_heatmap(data.lens, 0, color=color)
    assert isinstance(own, Axes) and own.figure is not fig
    with pytest.raises(ValueError, match="color"):
        plots.lens_heatmap(data.lens, 0, color="nope")


def test_links_name_the_report_layers_when_layers_are_skipped(tmp_path):
    data = synthetic_data(n_layers=6, layers=[0, 3, 5], d_mlp=4)
    out = render_report(data, tmp_path / "rep", progress=False)
    assert sorted(p.name for p in out.glob("layer_*.html")) == [
        "layer_000.html", "layer_003.html", "layer_005.html"]  # fmt: skip

    def nav(page: str) -> dict[str, tuple[str | None, str]]:
        html = (out / page).read_text(encoding="utf-8")
        links = re.findall(r'<a href="([^"]+)" rel="(prev|next)">([^<]*)</a>', html)
        return {rel: (href, text) for href, rel, text in links}

    assert nav("layer_000.html") == {"next": ("layer_003.html", "layer 3 →")}
    assert nav("layer_003.html") == {"prev": ("layer_000.html", "← layer 0"),
                                     "next": ("layer_005.html", "layer 5 →")}  # fmt: skip
    assert nav("layer_005.html") == {"prev": ("layer_003.html", "← layer 3")}


def test_long_tables_are_folded(tmp_path):
    data = synthetic_data(n_layers=1, d_mlp=30, table_rows=10)
    out = render_report(data, tmp_path / "rep", progress=False)
    html = (out / "layer_000.html").read_text(encoding="utf-8")
    shown_part, folded = html.split(
        '<details class="more"><summary>20 more value vectors</summary>'
    )
    shown_part = shown_part.split('<h3 id="neurons">')[1]
    assert shown_part.count('<tr id="n') == 10 and folded.count('<tr id="n') == 20
    assert len(set(re.findall(r'<tr id="(n\d+)"', html))) == 30  # every row once: links work


def test_progress_without_a_terminal_is_plain_lines(data, tmp_path):
    from vocablens.reports.progress import Progress
    from vocablens.reports.render import render_steps

    stream = io.StringIO()  # not a TTY
    total = render_steps(len(data.lens.texts), len(data.layers), True)
    bar = Progress(total, stream=stream)
    render_report(data, tmp_path / "rep", progress=bar)
    bar.finish("done")
    text = stream.getvalue()
    assert "\x1b" not in text and "\r" not in text, "escape codes in a log"
    lines = text.splitlines()
    assert len(lines) == total + 1 and lines[-1] == "done"
    assert lines[0].startswith(f"report [ 1/{total} 00:00] img/lens_00.png")
    assert lines[-2].startswith(f"report [{total}/{total} ")
    assert bar.done == bar.total
    assert {"figures", "pages"} <= set(bar.timings)


def test_progress_counts_parts_and_never_passes_the_total():
    from vocablens.reports.progress import Progress, duration, size

    bar = Progress(5, enabled=False)
    with bar.step("a", count=4) as step:
        step.part(1, 2)
        assert bar.done == 2
        step.part(3, 4)
        assert bar.done == 3
    assert bar.done == 4
    with bar.step("b", count=3):
        pass
    assert bar.done == 5
    assert [duration(x) for x in (4.24, 42.4, 200, 3725)] == ["4.2 s", "42 s", "3 min 20 s",
                                                              "1 h 02 min"]  # fmt: skip
    assert [size(x) for x in (512, 820_000, 4_100_000, 49_000_000)] == ["512 B", "820 kB",
                                                                        "4.1 MB", "49 MB"]  # fmt: skip
