"""Write a report: PNG figures and HTML pages from :class:`ReportData`, moved into place atomically.

The pages are rendered by Jinja2 with autoescape on; CSS and JavaScript are inline, the search
index is a local ``search-index.js``, figures are ``img/*.png`` by relative path. Everything is
written into a temporary folder beside the target, which replaces the target only when complete:
a failed or interrupted run leaves the previous report as it was.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from vocablens.atomic import check_replaceable_folder, replaced_folder
from vocablens.reports import page_rows as views
from vocablens.reports.people import add_people, add_people_to_index, people_lookup
from vocablens.reports.progress import Progress
from vocablens.reports.report_data import ReportData
from vocablens.reports.search import build_index, index_script, label_expansions

#: A file every report folder holds; only folders with it (or empty ones) are ever replaced.
MARKER = ".vocablens-report"

_CARD_KEYS = (
    ("family", "family"), ("model_type", "model type"), ("n_layers", "layers"),
    ("d_model", "d_model"), ("n_heads", "attention heads"), ("n_kv_heads", "key/value heads"),
    ("d_head", "d_head"), ("d_mlp", "d_mlp"), ("gated_mlp", "gated MLP"),
    ("vocab_size", "vocabulary"), ("norm", "final norm"), ("tied_embeddings", "tied embeddings"),
    ("parallel_blocks", "parallel blocks"), ("final_logit_softcap", "final logit soft-cap"),
)  # fmt: skip


def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("vocablens.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def _save(ax, path: Path, dpi: int) -> None:
    fig = ax.figure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Glyph ... missing from font"
        fig.savefig(path, dpi=dpi, pil_kwargs={"compress_level": 3})
    fig.clear()


def _card_rows(data: ReportData) -> list[tuple[str, str]]:
    rows = [("model", data.model_name)]
    for key, name in _CARD_KEYS:
        if key in data.card:
            value = data.card[key]
            rows.append((name, "–" if value is None else str(value)))
    return rows


def render_steps(n_prompts: int, n_layers: int, umap: bool, explain: bool = False) -> int:
    """How many progress steps :func:`render_report` takes (known before computing the data)."""
    n_figures = n_prompts + 2 + (n_layers if umap else 0)  # heatmaps, curves, fraction, maps
    return n_figures + n_layers + 2 + explain  # figures, layer pages, index, marker, explain


def _write(data: ReportData, folder: Path, bar: Progress, dpi: int) -> None:
    from vocablens.reports import plots  # matplotlib and seaborn load only when drawing

    cfg = data.config
    lens = data.lens
    img = folder / "img"
    img.mkdir()
    heatmaps = []
    for p, text in enumerate(lens.texts):
        name = f"img/lens_{p:02d}.png"
        with bar.step(name, "figures"):
            _save(plots.lens_heatmap(lens, p, color=cfg.heatmap_color), folder / name, dpi)
        heatmaps.append({"png": name, "text": views.shown(text)})
    with bar.step("img/lens_curves.png", "figures"):
        _save(plots.lens_curves(lens), folder / "img/lens_curves.png", dpi)
    confident_png = None
    with bar.step("img/confident_fraction.png", "figures"):
        confident = None if data.annotations is None else data.annotations.confident_fraction()
        if confident is not None and len(confident):
            confident_png = "img/confident_fraction.png"
            _save(plots.confident_fraction(confident), folder / confident_png, dpi)
    umap_pngs: dict[int, str] = {}
    if data.umap is not None:
        coords = data.umap
        for layer in data.layers:
            with bar.step(f"img/umap_{layer:03d}.png", "figures"):
                if (coords["layer"] == layer).any():
                    umap_pngs[layer] = f"img/umap_{layer:03d}.png"
                    _save(plots.umap_scatter(coords, layer), folder / umap_pngs[layer], dpi)

    k = max(cfg.table_k, cfg.search_k)
    values = views.top_lists(data.values, k)
    labels = views.annotation_lookup(data.annotations)
    people = people_lookup(data.people)
    ov = data.ov
    promoted = views.top_lists(None if ov is None else ov[ov["kind"] == "ov_promoted"], cfg.ov_k)
    pairs = views.top_lists(None if ov is None else ov[ov["kind"] == "ov"], cfg.ov_k, pairs=True)

    env = _environment()
    common = {
        "title": cfg.title or data.model_name,
        "version": _version(),
        "created": data.created,
    }
    layer_tpl = env.get_template("layer.html")
    layer_rows = []
    for i, layer in enumerate(data.layers):
        page = views.layer_page(layer)
        with bar.step(page, "pages"):
            layer_rows.append(_layer_page(data, i, layer_tpl, common, values, labels,
                                          promoted, pairs, umap_pngs.get(layer), folder, people))  # fmt: skip

    explain_pages: list[str | None] = [None] * len(lens.texts)
    if data.explanations is not None:
        from vocablens.reports.explain_pages import write_explain_pages

        with bar.step("explain pages", "pages"):
            pages = {layer: views.layer_page(layer) for layer in data.layers}
            explain_pages = write_explain_pages(data.explanations, env, common, folder,
                                                cfg.table_k, pages)  # fmt: skip

    with bar.step("index.html", "pages"):
        index = build_index(data.layers, values, labels, promoted, pairs, k=cfg.search_k,
                            label_terms=label_expansions(data.annotations))  # fmt: skip
        add_people_to_index(index, people)
        (folder / "search-index.js").write_text(index_script(index), encoding="utf-8")
        html = env.get_template("index.html").render(
            **common, card=_card_rows(data), notes=data.notes, heatmaps=heatmaps,
            color_label=plots.HEATMAP_LABELS[cfg.heatmap_color],
            curves_png="img/lens_curves.png", confident_png=confident_png,
            layer_rows=layer_rows, prompts=[views.shown(t) for t in lens.texts],
            explain_pages=explain_pages,
            timings=list(data.timings.items()),
        )  # fmt: skip
        (folder / "index.html").write_text(html, encoding="utf-8")
    with bar.step(MARKER, "pages"):
        marker = {"vocablens": _version(), "model": data.model_name, "created": data.created}
        (folder / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")


def _layer_page(data: ReportData, i: int, template: Any, common: dict[str, Any], values: Any,
                labels: Any, promoted: Any, pairs: Any, umap_png: str | None,
                folder: Path, people: Any = None) -> dict[str, Any]:  # fmt: skip
    """Write the page of ``data.layers[i]``; returns its row of the index page's layer table."""
    cfg = data.config
    layer = data.layers[i]
    neurons = add_people(views.neuron_rows(layer, values, labels, cfg.table_k), layer, people or {})
    heads = views.head_rows(layer, promoted, pairs, cfg.ov_k)
    concepts = views.top_concepts(neurons)
    polysemantic = [r for r in neurons if r["polysemantic"]]
    n_confident = sum(r["confident"] for r in neurons)
    before, after = views.neighbours(data.layers, i)
    page = views.layer_page(layer)
    html = template.render(
        **_context_args(data, layer, values),
        **common, layer=layer, lens=views.lens_rows(data, layer), neurons=neurons,
        concepts=concepts, polysemantic=polysemantic, n_confident=n_confident,
        umap_png=umap_png, heads=heads, shown_rows=cfg.table_rows,
        prev_layer=before, prev_page=None if before is None else views.layer_page(before),
        next_layer=after, next_page=None if after is None else views.layer_page(after),
    )  # fmt: skip
    (folder / page).write_text(html, encoding="utf-8")
    return {
        "layer": layer, "page": page, "n_neurons": len(neurons),
        "confident": n_confident / len(neurons) if neurons else float("nan"),
        "n_polysemantic": len(polysemantic), "concepts": concepts[:3], "n_heads": len(heads),
    }  # fmt: skip


def _context_args(data: ReportData, layer: int, values: Any) -> dict[str, Any]:
    """The layer page's top-contexts section (None when the report has no corpus run)."""
    from vocablens.reports import activation_rows as acts

    if data.contexts is None:
        return {"contexts": None}
    k = data.agree_k or data.config.table_k
    return {
        "contexts": acts.context_rows(data.contexts, layer, values, k),
        "agreement": acts.agreement_rows(data.agreement, layer),
        "agree_k": k,
        "n_contexts": acts.SHOWN_CONTEXTS,
        "contexts_source": str(data.config.activations),
    }


def _version() -> str:
    from vocablens import __version__

    return __version__


def render_report(
    data: ReportData,
    out: str | os.PathLike[str] = "report",
    *,
    progress: bool | Progress = True,
    dpi: int = 100,
) -> Path:
    """Write the report of ``data`` into the folder ``out``, replacing an earlier report there.

    Args:
        data: what to show (see :func:`~vocablens.reports.compute.compute_report`).
        out: the report folder: ``index.html``, ``layer_NNN.html``, ``img/*.png``,
            ``search-index.js``.
        progress: show progress (True / False), or the run's
            :class:`~vocablens.reports.progress.Progress` to count the steps on.
        dpi: resolution of the figures.

    Returns:
        The report folder.

    Raises:
        InputError: ``out`` is a file or a non-empty folder that is not a report.
    """
    out = check_replaceable_folder(out, MARKER, "report")
    bar = progress
    if not isinstance(bar, Progress):
        total = render_steps(len(data.lens.texts), len(data.layers), data.umap is not None,
                             data.explanations is not None)  # fmt: skip
        bar = Progress(total, enabled=bool(progress), desc="writing report")
    try:
        with replaced_folder(out) as tmp:
            _write(data, tmp, bar, dpi)
    finally:
        if bar is not progress:
            bar.finish()
    return out
