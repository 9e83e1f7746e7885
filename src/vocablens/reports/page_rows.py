"""Turn :class:`~vocablens.reports.report_data.ReportData` into plain rows for the page templates.

No model, no HTML here: lists and dicts of strings and numbers. Token strings pass through
:func:`vocablens.tokens.shown` (the one display rule of every view); HTML escaping is the
templates' job (Jinja2 autoescape).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from vocablens.tokens import shown  # the one display rule of every view

if TYPE_CHECKING:
    import pandas as pd

    from vocablens.annotate.result import Annotations
    from vocablens.reports.report_data import ReportData

Unit = int | str  # a vector's name on a page: its index, or "expert.index" in an MoE layer
Key = tuple[int, Unit, int]  # (layer, unit, sign)


def unit(expert: int, index: int) -> Unit:
    """How a page names a vector: ``index`` in a dense layer, ``"expert.index"`` in an MoE layer."""
    return int(index) if expert < 0 else f"{int(expert)}.{int(index)}"


def unit_order(name: Unit) -> tuple[int, int]:
    """Sort key of :func:`unit` names: by expert (-1: dense), then index."""
    if isinstance(name, int):
        return (-1, name)
    expert, index = name.split(".")
    return (int(expert), int(index))


def _experts(df: pd.DataFrame) -> np.ndarray:
    if "expert" in df:
        return df["expert"].to_numpy(dtype=np.int64)
    return np.full(len(df), -1, dtype=np.int64)


def layer_page(layer: int) -> str:
    """File name of a layer's page."""
    return f"layer_{layer:03d}.html"


def top_lists(df: pd.DataFrame | None, k: int, *, pairs: bool = False) -> dict[Key, list[tuple]]:
    """Group a long projection table into ranked lists per ``(layer, unit, sign)``.

    Args:
        df: rows with ``layer``, ``index``, ``sign``, ``rank``, ``token``, ``score`` (and
            ``src_token`` when ``pairs``; ``expert`` when any), or None.
        k: keep ranks ``0..k-1``.
        pairs: entries are ``(src_token, token, score)`` instead of ``(token, score)``.

    Returns:
        ``{(layer, unit, sign): [(token, score), ...]}`` in rank order (see :func:`unit`).
    """
    if df is None or not len(df):
        return {}
    if "expert" not in df:
        df = df.assign(expert=-1)
    df = df[df["rank"] < k].sort_values(["layer", "expert", "index", "sign", "rank"], kind="stable")
    keys = df[["layer", "expert", "index", "sign"]].to_numpy(dtype=np.int64)  # (rows, 4)
    memo: dict[str, str] = {}

    def show(t: object) -> str:
        t = str(t)
        found = memo.get(t)
        if found is None:
            found = memo[t] = shown(t)
        return found

    tokens = [show(t) for t in df["token"].tolist()]
    scores = df["score"].to_numpy(dtype=float)
    srcs = [show(t) for t in df["src_token"].tolist()] if pairs else None
    change = np.flatnonzero(np.any(keys[1:] != keys[:-1], axis=1)) + 1
    starts = np.concatenate([[0], change]).tolist()
    ends = [*starts[1:], len(keys)]
    out: dict[Key, list[tuple]] = {}
    for a, b in zip(starts, ends, strict=True):
        key = (int(keys[a, 0]), unit(keys[a, 1], keys[a, 2]), int(keys[a, 3]))
        if srcs is None:
            out[key] = [(tokens[i], float(scores[i])) for i in range(a, b)]
        else:
            out[key] = [(srcs[i], tokens[i], float(scores[i])) for i in range(a, b)]
    return out


@dataclass(frozen=True)
class NeuronLabel:
    """A value vector's concept as the report shows it.

    Attributes:
        label: the promoted side's concept ("" when none).
        supersense: its WordNet supersense ("" when none).
        coverage: fraction of the top tokens the label explains.
        confident: the label is confident.
        polysemantic: the annotator flagged the vector as polysemantic.
        suppressed_label: the suppressed side's confident concept ("" when none).
    """

    label: str = ""
    supersense: str = ""
    coverage: float = 0.0
    confident: bool = False
    polysemantic: bool = False
    suppressed_label: str = ""


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return shown(str(value))


def annotation_lookup(annotations: Annotations | None) -> dict[tuple[int, Unit], NeuronLabel]:
    """Per ``(layer, unit)`` the value vector's labels, from an annotation table (see :func:`unit`).

    Reads the rows of kind ``"values"``: the ``+1`` row gives the label, the ``-1`` row the
    suppressed side's label when that one is confident.
    """
    if annotations is None or not len(annotations):
        return {}
    ann = annotations.frame
    ann = ann[ann["kind"] == "values"]
    cols = {c: ann[c].tolist() for c in ("layer", "index", "sign", "label", "supersense",
                                          "coverage", "confident", "polysemantic")}  # fmt: skip
    experts = _experts(ann)
    out: dict[tuple[int, Unit], NeuronLabel] = {}
    suppressed: dict[tuple[int, Unit], str] = {}
    for i in range(len(ann)):
        key = (int(cols["layer"][i]), unit(experts[i], cols["index"][i]))
        if cols["sign"][i] < 0:
            if cols["confident"][i]:
                suppressed[key] = _text(cols["label"][i])
            continue
        out[key] = NeuronLabel(
            label=_text(cols["label"][i]),
            supersense=_text(cols["supersense"][i]),
            coverage=float(cols["coverage"][i]),
            confident=bool(cols["confident"][i]),
            polysemantic=bool(cols["polysemantic"][i]),
        )
    for key, label in suppressed.items():
        base = out.get(key, NeuronLabel())
        out[key] = NeuronLabel(base.label, base.supersense, base.coverage, base.confident,
                               base.polysemantic, label)  # fmt: skip
    return out


def lens_rows(data: ReportData, layer: int) -> list[dict[str, Any]]:
    """Per prompt, the logit lens as block ``layer`` leaves it (resid ``layer + 1``).

    Each prompt: ``{"text", "rows"}``; each row one position: input token, top-1 entering the
    block, the top tokens with probabilities leaving it, entropy, KL to final, next-token CE.
    """
    lens = data.lens
    after = lens.site_index("resid", layer + 1)
    before = lens.site_index("resid", layer) if ("resid", layer) in lens.sites else None
    prompts = []
    for p, ids in enumerate(lens.token_ids):
        rows = []
        for t in range(len(ids)):
            top = [(shown(lens.token(i)), float(q))
                   for i, q in zip(lens.top_ids[p, after, t], lens.top_probs[p, after, t], strict=True)
                   if i >= 0]  # fmt: skip
            entering = "" if before is None else shown(lens.token(lens.top_ids[p, before, t, 0]))
            rows.append({
                "pos": t, "token": shown(lens.tokens[p][t]), "entering": entering, "top": top,
                "entropy": float(lens.entropy[p, after, t]),
                "kl": float(lens.kl_to_final[p, after, t]),
                "ce": float(lens.next_token_ce[p, after, t]),
                "final": shown(lens.token(lens.final_top1[p, t])),
            })  # fmt: skip
        prompts.append({"text": shown(lens.texts[p]), "rows": rows})
    return prompts


def neuron_rows(
    layer: int,
    values: dict[Key, list[tuple]],
    labels: dict[tuple[int, Unit], NeuronLabel],
    k: int,
) -> list[dict[str, Any]]:
    """One row per value vector of ``layer``: labelled ones first (by coverage), then by index."""
    indices = sorted({key[1] for key in values if key[0] == layer}
                     | {n for (lay, n) in labels if lay == layer}, key=unit_order)  # fmt: skip
    rows: list[dict[str, Any]] = []
    for n in indices:
        lab = labels.get((layer, n), NeuronLabel())
        rows.append({
            "index": n, "label": lab.label, "supersense": lab.supersense,
            "coverage": lab.coverage, "confident": lab.confident,
            "polysemantic": lab.polysemantic, "suppressed_label": lab.suppressed_label,
            "promoted": [t for t, _ in values.get((layer, n, 1), [])[:k]],
            "suppressed": [t for t, _ in values.get((layer, n, -1), [])[:k]],
        })  # fmt: skip
    rows.sort(
        key=lambda r: (
            not r["confident"],
            -r["coverage"] if r["confident"] else 0,
            unit_order(r["index"]),
        )
    )
    return rows


def top_concepts(rows: list[dict[str, Any]], n: int = 15) -> list[dict[str, Any]]:
    """The most frequent confident concepts among a layer's neuron rows, with example indices."""
    counts = Counter(r["label"] for r in rows if r["confident"] and r["label"])
    out = []
    for label, count in counts.most_common(n):
        indices = [r["index"] for r in rows if r["confident"] and r["label"] == label][:6]
        out.append({"label": label, "count": count, "indices": indices})
    return out


def neighbours(layers: list[int], i: int) -> tuple[int | None, int | None]:
    """The report layers before and after ``layers[i]`` (None at either end)."""
    before = layers[i - 1] if i > 0 else None
    after = layers[i + 1] if i + 1 < len(layers) else None
    return before, after


def head_rows(
    layer: int, promoted: dict[Key, list[tuple]], pairs: dict[Key, list[tuple]], k: int
) -> list[dict[str, Any]]:
    """One entry per attention head of ``layer``: most promoted tokens and top OV pairs."""
    heads = sorted({key[1] for key in (*promoted, *pairs) if key[0] == layer})
    return [
        {
            "head": h,
            "promoted": promoted.get((layer, h, 1), [])[:k],
            "pairs": pairs.get((layer, h, 1), [])[:k],
        }
        for h in heads
    ]
