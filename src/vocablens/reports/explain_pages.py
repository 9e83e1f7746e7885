"""The report's "explain" pages: one per prompt, its prediction's top contributors (no model here).

Reads the :class:`~vocablens.explain.result.Explanation` objects of
:attr:`ReportData.explanations <vocablens.reports.report_data.ReportData.explanations>` and
writes ``explain_NN.html`` per prompt from the ``explain.html`` template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vocablens.explain.table import SUM_TOLERANCE, component_name
from vocablens.tokens import shown


def explain_page(prompt: int) -> str:
    """The file name of prompt ``prompt``'s explain page."""
    return f"explain_{prompt:02d}.html"


def _row(row: Any, layer_pages: dict[int, str]) -> dict[str, Any]:
    layer = int(row.layer)
    return {"name": component_name(row), "layer": "emb" if layer < 0 else layer,
            "page": layer_pages.get(layer), "anchor": f"n{int(row.index)}"
            if row.component == "neuron" and int(row.expert) < 0 else "",
            "contribution": float(row.contribution), "label": row.label or ""}  # fmt: skip


def explain_rows(e: Any, k: int, layer_pages: dict[int, str]) -> dict[str, Any]:
    """What one explain page shows: the readout, the check, per layer its top ``k``, overall top."""
    layers = []
    geva = {g.layer: g for g in e.geva}
    table = e.to_pandas()  # once: a row per neuron of the model
    for lay in e.layers:
        top = e.top(k, layer=lay.layer, table=table)
        g = geva.get(lay.layer)
        layers.append({
            "layer": lay.layer, "page": layer_pages.get(lay.layer), "attn": lay.attn,
            "mlp": lay.mlp, "total": lay.total,
            "top": [_row(r, layer_pages) for r in top.itertuples(index=False)],
            "needed": [] if g is None else list(g.needed.values()),
            "subs": [] if g is None else [(s.index if s.expert < 0 else f"{s.expert}/{s.index}",
                                           s.contribution, s.rank) for s in g.top[:3]],
        })  # fmt: skip
    fractions = [f"{f * 100:.0f}%" for f in e.geva[0].needed] if e.geva else []
    return {
        "text": shown(e.text), "token": shown(e.tokens[e.position]), "position": e.position,
        "target": shown(e.target), "predicted": shown(e.predicted),
        "scale": e.final_norm_scale, "total": e.total, "residual": e.residual_logit,
        "error": e.error, "ok": abs(e.error) <= SUM_TOLERANCE, "logit": e.logit,
        "model_logit": e.model_logit, "embeddings": e.embeddings, "layers": layers,
        "top": [_row(r, layer_pages) for r in e.top(2 * k, table=table).itertuples(index=False)],
        "fractions": fractions,
    }  # fmt: skip


def write_explain_pages(
    explanations: list[Any], env: Any, common: dict[str, Any], folder: Path, k: int,
    layer_pages: dict[int, str],
) -> list[str | None]:  # fmt: skip
    """Write one page per explained prompt; returns each prompt's page (None: not explained)."""
    template = env.get_template("explain.html")
    pages: list[str | None] = []
    for p, e in enumerate(explanations):
        if e is None:
            pages.append(None)
            continue
        page = explain_page(p)
        html = template.render(**common, prompt=p, e=explain_rows(e, k, layer_pages))
        (folder / page).write_text(html, encoding="utf-8")
        pages.append(page)
    return pages
