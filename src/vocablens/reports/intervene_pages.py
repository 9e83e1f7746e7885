"""Pages of the interventions analyses: causal tracing, a circuit, the overlap of two circuits.

Each page is a folder (``index.html``, ``img/*.png``, ``data.json``) written from typed results
(:mod:`vocablens.intervene`); nothing here touches a model. The folder appears whole or not at
all (written aside, then swapped in), in the report's style.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vocablens.atomic import check_replaceable_folder, replaced_folder
from vocablens.reports import intervene_plots as plots
from vocablens.reports.render import _environment, _save, _version
from vocablens.tokens import shown

if TYPE_CHECKING:
    from vocablens.intervene.circuit import Circuit
    from vocablens.intervene.overlap import Overlap
    from vocablens.intervene.tracing import TraceResult, TraceSummary

#: A file every page folder holds; only folders with it (or empty ones) are ever replaced.
MARKER = ".vocablens-analysis"


def _write(out: str | os.PathLike[str], kind: str, heading: str, title: str,
           sections: list[dict[str, Any]], figures: dict[str, Any], data: dict[str, Any],
           dpi: int = 100) -> Path:  # fmt: skip
    target = check_replaceable_folder(out, MARKER, "page")
    with replaced_folder(target) as tmp:
        (tmp / "img").mkdir()
        for name, ax in figures.items():
            _save(ax, tmp / "img" / name, dpi)
        page = _environment().get_template("analysis.html").render(
            kind=kind, heading=heading, title=title, sections=sections, version=_version(),
            created=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        )  # fmt: skip
        (tmp / "index.html").write_text(page, encoding="utf-8")
        (tmp / "data.json").write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
        (tmp / MARKER).write_text("vocablens analysis page\n", encoding="utf-8")
    return target


def _section(id_: str, title: str, lines=(), images=(), table=None) -> dict[str, Any]:
    return {"id": id_, "title": title, "lines": list(lines), "images": list(images), "table": table}


def write_trace_page(
    traces: list[TraceResult], summary: TraceSummary, out: str | os.PathLike[str], *,
    model: str = "", full: TraceResult | None = None,
) -> Path:  # fmt: skip
    """The causal-tracing page: per-layer averages, heatmaps, and the vocabulary view."""
    figures: dict[str, Any] = {"layers.png": plots.trace_layers(summary)}
    sections = [_section("summary", "Average indirect effect per layer", [
        f"{summary.n_prompts} prompts; mean p(correct) clean {summary.mean_clean:.3f}, "
        f"corrupted {summary.mean_corrupt:.3f}.",
        "Solid: the state at the last subject token restored; dashed: at the last token.",
    ], ["img/layers.png"])]  # fmt: skip
    rows = []
    for k, kind in enumerate(summary.kinds):
        for where, grid in (("last subject token", summary.last_subject),
                            ("last token", summary.last_token)):  # fmt: skip
            rows.append([kind, where, f"{grid[k].max():.3f}", str(int(grid[k].argmax()))])
    sections[0]["table"] = {
        "header": ["state", "position", "peak effect", "at layer"],
        "rows": rows,
    }
    shown_traces = [full] if full is not None else []
    shown_traces += [t for t in traces if t.scores.shape[-1] and not _partial(t)][:3]
    for i, trace in enumerate(shown_traces):
        images = []
        for kind in trace.kinds:
            name = f"trace{i}_{kind}.png"
            figures[name] = plots.trace_heatmap(trace, kind)
            images.append(f"img/{name}")
        promoted = [f"best {kind}: layer {layer}, token {shown(trace.tokens[pos])!r} promotes "
                    + " ".join(shown(t) for t in tokens)
                    for kind, (layer, pos, tokens) in trace.promoted.items()]  # fmt: skip
        sections.append(_section(f"trace{i}", f"Trace: {trace.prompt} → {shown(trace.target)}", [
            f"p clean {trace.p_clean:.3f}, corrupted {trace.p_corrupt:.3f}; subject tokens "
            f"{trace.subject[0]}..{trace.subject[1] - 1} (marked *).", *promoted], images))  # fmt: skip
    table = {"header": ["prompt", "target", "p clean", "p corrupted"],
             "rows": [[t.prompt, shown(t.target), f"{t.p_clean:.3f}", f"{t.p_corrupt:.3f}"]
                      for t in traces]}  # fmt: skip
    sections.append(_section("prompts", "Prompts", table=table))
    data = {"summary": {k: getattr(summary, k).tolist() if hasattr(getattr(summary, k), "tolist")
                        else getattr(summary, k) for k in summary.__dataclass_fields__}}  # fmt: skip
    return _write(out, "causal tracing", "Causal tracing", model, sections, figures, data)


def _partial(trace: TraceResult) -> bool:
    import numpy as np

    return bool(np.isnan(trace.scores).any())


def write_circuit_page(
    circuit: Circuit, out: str | os.PathLike[str], *, compare: Sequence[tuple[Circuit, Overlap]] = ()
) -> Path:  # fmt: skip
    """The circuit page: the node grid, metrics, each head's OV/QK reading, and overlaps."""
    figures: dict[str, Any] = {"circuit.png": plots.circuit_grid(circuit)}
    sections = [_section("circuit", f"The {circuit.task} circuit", circuit.summary().splitlines(),
                         ["img/circuit.png"])]  # fmt: skip
    rows = []
    for head in circuit.heads:
        r = circuit.readings.get(head.spec)
        if r is None:
            rows.append([head.spec, "", "", ""])
            continue
        pair = lambda ps: "; ".join(f"{shown(a)} → {shown(b)}" for a, b, _ in ps)  # noqa: E731
        rows.append([head.spec, " ".join(shown(t) for t in r.ov_promoted), pair(r.ov_pairs),
                     pair(r.qk_pairs)])  # fmt: skip
    sections.append(
        _section(
            "heads",
            "Heads, read in the task's tokens",
            [
                "OV: what attending to a token writes (source → output); QK: which key a query attends to."
            ],
            table={"header": ["head", "OV promotes", "top OV pairs", "top QK pairs"], "rows": rows},
        )
    )
    for i, (other, overlap) in enumerate(compare):
        name = f"overlap{i}.png"
        figures[name] = plots.overlap_layers(overlap)
        figures[f"other{i}.png"] = plots.circuit_grid(other)
        sections.append(_section(f"overlap{i}", f"Overlap with {other.task}", [
            overlap.summary(), "shared: " + (", ".join(overlap.shared) or "none"),
            *other.summary().splitlines()], [f"img/{name}", f"img/other{i}.png"]))  # fmt: skip
    data = {"task": circuit.task, "nodes": [n.spec for n in circuit.nodes],
            "faithfulness": circuit.faithfulness, "removal_cost": circuit.removal_cost,
            "metric_full": circuit.metric_full, "metric_circuit": circuit.metric_circuit,
            "metric_without": circuit.metric_without, "seconds": circuit.seconds,
            "overlaps": [o.summary() for _, o in compare]}  # fmt: skip
    return _write(
        out, "circuit", f"Circuit: {circuit.task}", circuit.model, sections, figures, data
    )
