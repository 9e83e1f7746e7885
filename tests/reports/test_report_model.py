"""Reports end to end on a tiny random model whose vocabulary holds hostile token strings.

The tokenizer is built offline (byte-level decoding, so one token is an invalid UTF-8 byte and
decodes to U+FFFD). A value vector of layer 1 is planted to promote `` Paris`` first.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vocablens import load_model
from vocablens.cli import main
from vocablens.reports import ReportConfig, compute_report, generate_report

from tiny_models import tiny_model
from tiny_tokenizer import save_tiny

HOSTILE = (
    b"<script>alert(1)</script>",
    b"<img src=x onerror=alert(2)>",
    b"&amp;",
    b"\"'",
    b"\n",
    b"\x07",
    b"\xc3",  # a lone UTF-8 lead byte: shown as its byte, ⟨C3⟩ (decoding gives U+FFFD)
    "\u2028".encode(),
    b"$x^2$",
    b"{{ 7*7 }}",
)
WORDS = ("The", " capital", " of", " France", " is", " Paris")
PARIS = 4 + WORDS.index(" Paris")  # after <pad> <bos> <eos> <unk>
PLANTED = (1, 5)  # (layer, neuron) whose value vector promotes " Paris"


def _byte_alphabet() -> dict[int, str]:
    """GPT-2's byte -> printable character map (byte-level BPE alphabet)."""
    bs = [*range(33, 127), *range(161, 173), *range(174, 256)]
    cs = list(bs)
    for n, b in enumerate(b for b in range(256) if b not in bs):
        bs.append(b)
        cs.append(256 + n)
    return {b: chr(c) for b, c in zip(bs, cs, strict=True)}


def hostile_tokenizer(vocab_size: int):
    """A byte-level ``PreTrainedTokenizerFast`` over WORDS + HOSTILE + filler words."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = _byte_alphabet()

    def enc(raw: bytes) -> str:
        return "".join(alphabet[b] for b in raw)

    pieces = ["<pad>", "<bos>", "<eos>", "<unk>"]
    pieces += [enc(w.encode()) for w in WORDS] + [enc(h) for h in HOSTILE]
    pieces += [enc(f" w{i}".encode()) for i in range(len(pieces), vocab_size)]
    core = Tokenizer(
        models.WordLevel(vocab={p: i for i, p in enumerate(pieces)}, unk_token="<unk>")
    )
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    core.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>",
        unk_token="<unk>",
    )  # fmt: skip


def hostile_model():
    """Tiny llama (160 tokens) + hostile tokenizer; neuron PLANTED writes `` Paris``."""
    model, _ = tiny_model("llama", seed=3)
    with torch.no_grad():
        model.model.norm.weight.fill_(1.0)
        layer, neuron = PLANTED
        model.model.layers[layer].mlp.down_proj.weight[:, neuron] = (
            3.0 * model.lm_head.weight[PARIS]
        )
    return model, hostile_tokenizer(model.config.vocab_size)


PROMPTS = ["The capital of France is", list(range(10, 10 + len(HOSTILE)))]


@pytest.fixture(scope="module")
def tiny():
    model, tokenizer = hostile_model()
    return load_model(model, tokenizer)


@pytest.fixture(scope="module")
def report(tiny, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "report"
    return generate_report(tiny, PROMPTS, out=out, umap=False, progress=False)


def test_tokenizer_decodes_hostile_strings(tiny):
    from vocablens.tokens import token_strings

    shown = token_strings(tiny.tokenizer, list(range(10, 10 + len(HOSTILE))))
    assert shown[0] == "<script>alert(1)</script>" and shown[4] == "\\n"
    assert shown[5] == "⟨0x07⟩" and shown[6] == "⟨C3⟩"


def test_compute_report_data(tiny):
    config = ReportConfig(prompts=PROMPTS, layers="1", umap=False, annotate=False)
    data = compute_report(tiny, config, progress=False)
    assert data.layers == [1]
    assert data.card["n_layers"] == 2 and data.card["vocab_size"] == 160
    assert data.lens.top_ids.shape[:2] == (2, 3)  # 2 prompts, resid 0..2
    values = data.values
    assert set(values["layer"]) == {1} and set(values["kind"]) == {"values"}
    assert len(values) == 64 * 2 * 30
    top = values[(values["index"] == PLANTED[1]) & (values["sign"] == 1) & (values["rank"] == 0)]
    assert top["token"].tolist() == [" Paris"]
    assert set(data.ov["kind"]) == {"ov", "ov_promoted"} and set(data.ov["index"]) == set(range(4))
    assert {"value projections", "OV projections", "logit lens"} <= set(data.timings)


def test_report_html_is_safe(report):
    pages = sorted(report.glob("*.html"))
    explained = [f"explain_{p:02d}.html" for p in range(len(PROMPTS))]  # one page per prompt
    assert [p.name for p in pages] == [*explained, "index.html", "layer_000.html", "layer_001.html"]
    seen = ""
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img src=x" not in html
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]", html)
        assert len(re.findall(r"<script\b", html)) == 2  # search-index.js + the inline search code
        seen += html
    for escaped in ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;",
                    "&amp;amp;", "&#34;&#39;", "\\n", "⟨0x07⟩", "⟨C3⟩", "⟨U+2028⟩", "$x^2$",
                    "{{ 7*7 }}"):  # fmt: skip
        assert escaped in seen, escaped
    index = (report / "search-index.js").read_text(encoding="utf-8")
    assert not set("<>&\u2028\u2029") & set(index)


def test_report_has_concepts(report):
    assert (report / "img" / "confident_fraction.png").is_file()
    page = (report / "layer_000.html").read_text(encoding="utf-8")
    assert re.search(r"64 value vectors; \d+ with a confident concept", page)
    assert "Concept annotation skipped" not in (report / "index.html").read_text(encoding="utf-8")


def test_planted_neuron_is_on_its_page(report):
    page = (report / "layer_001.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="n5">(.*?)</tr>', page, re.S)
    assert row is not None
    assert re.search(r'<td><span class="tok">␣Paris</span>', row.group(1))


def _count_loads(monkeypatch) -> list[object]:
    """Every spec load_model loads from now on (a LoadedModel passed through loads nothing).

    Whether a module's own ``load_model`` name is this patched one depends on when it was first
    imported, so pass-throughs are not counted: the test is about loading, once.
    """
    import vocablens.model.loading as loading
    from vocablens.model.loading import LoadedModel

    specs: list[object] = []
    real = loading.load_model

    def counting(spec, *args, **kwargs):
        if not isinstance(spec, LoadedModel):
            specs.append(spec)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(loading, "load_model", counting)
    return specs


def test_report_loads_the_model_once(model_dir, tmp_path, monkeypatch):
    class FakeUMAP:  # the real one compiles for ~30 s; it runs in the slow report test
        def __init__(self, **kwargs):
            pass

        def fit(self, X, y=None):
            return self

        def fit_transform(self, X, y=None):
            return X[:, :2]

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    specs = _count_loads(monkeypatch)
    generate_report(model_dir, PROMPTS[:1], out=tmp_path / "a", progress=False)
    assert specs == [model_dir]  # once, at the entry point; nothing below loads it again
    lm = load_model(model_dir)
    specs.clear()
    generate_report(lm, PROMPTS[:1], layers="1", out=tmp_path / "b", progress=False)
    import vocablens.reports.compute as compute_module

    seen = []
    real_annotate = compute_module._annotate

    def spy(values, *args):
        seen.append(values)
        return real_annotate(values, *args)

    monkeypatch.setattr(compute_module, "_annotate", spy)
    data = compute_report(lm, ReportConfig(prompts=PROMPTS[:1], layers="1"), progress=False)
    assert specs == [] and data.annotations is not None and data.umap is not None
    # the annotator reads cosine lists and the raw lists beside them (the form, Python names)
    assert set(seen[0]["readout"]) == {"cosine", "raw"} and (seen[0]["sign"] > 0).all()


def test_progress_in_a_log(tiny, tmp_path, monkeypatch):
    import io

    stream = io.StringIO()  # stderr of a job whose output goes to a file: not a TTY
    monkeypatch.setattr(sys, "stderr", stream)
    out = generate_report(tiny, PROMPTS, layers="0,1", out=tmp_path / "rep", umap=False)
    text = stream.getvalue()
    assert "\x1b" not in text and "\r" not in text, "escape codes in a log"
    lines = text.splitlines()
    steps = [line for line in lines if line.startswith("report [")]
    total = int(steps[0].split("/")[1].split()[0])
    # one run, one total: lens, values x2, annotation x2, OV x2, explain; figures 2 + 2,
    # pages 2 + 2 + explain pages
    assert total == 1 + 2 * 3 + 1 + 4 + 5
    assert all(f"/{total} " in line for line in steps)  # the total never changes
    assert len(steps) == 1 + 2 + 1 + 2 + 1 + 4 + 5  # one line per step (annotation: one step)
    assert re.fullmatch(rf"wrote {re.escape(str(out))}/ \(2 layer pages, \d+(\.\d)? [kM]B\) in "
                        r"\d+(\.\d)? s", lines[-1]), lines[-1]  # fmt: skip


def test_ov_token_subset_drops_outlying_norms(monkeypatch):
    import vocablens.model.tokenizer as tokensets
    from vocablens.reports.compute import ov_token_subset

    W_U = torch.randn(300, 16, generator=torch.Generator().manual_seed(0))
    W_U[7] *= 20  # a "fragment" whose norm would win every readout
    lm = types.SimpleNamespace(
        view=types.SimpleNamespace(vocab_size=300, W_U=W_U), tokenizer=object()
    )
    monkeypatch.setattr(tokensets, "whole_word_tokens", lambda tok, vocab: list(range(5, 200)))
    subset = ov_token_subset(lm, 50)
    assert len(subset) == 50 and 7 not in subset and subset[:2] == [5, 6] and subset[2] == 8
    monkeypatch.setattr(tokensets, "whole_word_tokens", lambda tok, vocab: [3, 4])
    assert ov_token_subset(lm, 40) == list(range(40))  # too few words: the lowest ids


# ----- command line -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model, tokenizer = hostile_model()
    return str(save_tiny(model, tokenizer, tmp_path_factory.mktemp("tinydir") / "llama"))


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_writes_a_report(model_dir, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# comment\nThe capital of France is\n\nThe capital\\nof France\n")
    out = tmp_path / "rep"
    res = run("report", model_dir, "--prompts", str(prompts), "--layers", "1", "--out", str(out),
              "--no-umap", "--no-annotate", "--quiet", "--color", "kl")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"wrote {out / 'index.html'}"
    assert sorted(p.name for p in out.glob("*.html")) == [
        "explain_00.html", "explain_01.html", "index.html", "layer_001.html"]  # fmt: skip
    assert "colour: KL to final" in (out / "index.html").read_text()
    assert sorted(p.name for p in (out / "img").glob("lens_0*.png")) == [
        "lens_00.png",
        "lens_01.png",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prompts", "MISSING"], "prompts file not found"),
        (["--prompts", "EMPTY"], "holds no prompt"),
        (["--layers", "5-2"], "bad layer range '5-2'"),
        (["--layers", "0-9"], "layer 2 out of range: the model has layers 0..1"),
        (["--layers", "x"], "bad layer list 'x'"),
        (["--out", "AFILE"], "is a file"),
    ],
)
def test_cli_bad_input(model_dir, tmp_path, args, message):
    (tmp_path / "empty.txt").write_text("# only a comment\n\n")
    (tmp_path / "afile").write_text("x")
    names = {"MISSING": tmp_path / "nope.txt", "EMPTY": tmp_path / "empty.txt",
             "AFILE": tmp_path / "afile"}  # fmt: skip
    args = [str(names.get(a, a)) for a in args]
    res = run("report", model_dir, "--quiet", "--no-umap", "--no-annotate", *args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], res.output
    assert not list(tmp_path.glob(".*tmp*")), "temporary folder left behind"


# ----- a real browser -----------------------------------------------------------------------


def _errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def _no_alert(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018  (an executed token would have opened one)


def _not_blank(png: bytes) -> None:
    import io

    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float32)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 10, "screenshot is blank"
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20, "screenshot has almost no colours"


def test_browser_index_and_search(browser, report):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get((report / "index.html").as_uri())
    assert browser.title == browser.execute_script("return document.title") != ""
    images_ok = "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
    assert browser.execute_script(images_ok), "a figure did not load"
    assert browser.execute_script("return document.images.length") >= 3
    box = browser.find_element(By.ID, "search-box")
    box.send_keys("' Paris'")
    results = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li")
    )
    planted = [r for r in results if r.text.startswith(f"L{PLANTED[0]} neuron {PLANTED[1]} ")]
    assert planted and "promotes '␣Paris' (rank 1)" in planted[0].text, [r.text for r in results]
    assert "(rank 1)" in results[0].text  # best matches first
    _not_blank(browser.get_screenshot_as_png())
    planted[0].find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.current_url.endswith(f"layer_001.html#n{PLANTED[1]}")
    )
    _no_alert(browser)
    assert _errors(browser) == []


def test_browser_layer_page(browser, report):
    from selenium.webdriver.common.by import By

    browser.get((report / "layer_000.html").as_uri())
    _no_alert(browser)
    assert _errors(browser) == []
    count = "return document.querySelectorAll('script').length"
    assert browser.execute_script(count) == 2
    injected = "return document.querySelectorAll('[onerror], img[src=x], script:not([src])').length"
    assert browser.execute_script(injected) == 1  # only the page's own inline search script
    texts = set(browser.execute_script(
        "return Array.from(document.querySelectorAll('.tok'), e => e.textContent)"
    ))  # fmt: skip
    assert "<script>alert(1)</script>" in texts and "⟨0x07⟩" in texts and "\\n" in texts
    _not_blank(browser.get_screenshot_as_png())
    # search from a layer page finds heads too; results are text, never markup
    box = browser.find_element(By.ID, "search-box")
    box.send_keys("<img")
    from selenium.webdriver.support.ui import WebDriverWait

    results = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li")
    )
    assert any("<img src=x onerror=alert(2)>" in r.text for r in results)
    _no_alert(browser)
    assert _errors(browser) == []


@pytest.mark.parametrize("width", [1400, 1000])
def test_browser_layer_page_fits_the_window(browser, tmp_path, width):
    """1500 neurons per layer and a 200-character token: a few screens tall, no sideways scroll."""
    from selenium.webdriver.common.by import By

    from vocablens.reports import render_report

    from synthetic_report import synthetic_data

    words = (" the", " a", " city", "x" * 200, " France", " dog")
    data = synthetic_data(n_layers=2, d_mlp=1500, n_heads=9, k=12, vocab=words)
    out = render_report(data, tmp_path / "rep", progress=False)
    browser.set_window_size(width, 1000)
    try:
        browser.get((out / "layer_001.html").as_uri())
        size = "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight," \
               " window.innerWidth]"  # fmt: skip
        scroll_width, height, inner = browser.execute_script(size)
        assert scroll_width <= inner, f"page is {scroll_width} px wide in a {inner} px window"
        assert height <= 10_000, f"page is {height} px tall"  # a few screens, not 71,000 px
        print(f"window {width}: page {scroll_width} x {height} px")
        # a link to a folded row opens its section and shows the row
        browser.get((out / "layer_001.html").as_uri() + "#n1499")
        row = browser.find_element(By.ID, "n1499")
        assert row.is_displayed()
        assert browser.execute_script("return arguments[0].closest('details').open", row)
        assert _errors(browser) == []
    finally:
        browser.set_window_size(1400, 1000)


def test_moe_report_lists_every_expert_neuron(tmp_path):
    model, tokenizer = tiny_model("mixtral")
    lm = load_model(model, tokenizer)
    out = generate_report(lm, [[1, 2, 3, 4, 5]], out=tmp_path / "rep", progress=False, umap=False,
                          ov_tokens=50)  # fmt: skip
    mlp = lm.view.mlp(0)
    html = (out / "layer_000.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr id="n([0-9.]+)"', html)
    assert len(rows) == len(set(rows)) == mlp.n_experts * mlp.d_mlp  # no expert hides another
    assert "3.15" in rows and "0.0" in rows  # named expert.index
    index = (out / "search-index.js").read_text(encoding="utf-8")
    assert '"3.15"' in index


def test_browser_search_by_meaning(browser, tmp_path):
    """A label is found by its WordNet words: "weekday" finds "day of the week"."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from vocablens.reports import render_report

    from synthetic_report import synthetic_data

    data = synthetic_data(n_layers=2, d_mlp=8, n_heads=2, k=6)
    frame = data.annotations.frame
    city = frame["label"] == "city"
    frame.loc[city, "label"] = "day of the week"
    frame.loc[city, "synset"] = "day_of_the_week.n.01"
    out = render_report(data, tmp_path / "rep", progress=False)
    text = (out / "search-index.js").read_text(encoding="utf-8")
    assert '"weekday"' in text and '"monday"' in text
    browser.get((out / "index.html").as_uri())
    box = browser.find_element(By.ID, "search-box")
    box.send_keys("weekdays")
    results = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li")
    )
    assert results and all("day of the week (WordNet: weekday)" in r.text for r in results)
    assert _errors(browser) == []
