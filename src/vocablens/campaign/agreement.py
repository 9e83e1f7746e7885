"""Agreement between annotators, accuracy on gold, and the machine labeller against people.

Every statistic comes from a maintained package, fed the current labels (the latest answer of
each annotator per item):

* Krippendorff's α, nominal: ``krippendorff.alpha`` (annotators x items, NaN where missing);
* Krippendorff's α over label *sets* with MASI distance: ``nltk.metrics.agreement.AnnotationTask``
  with ``nltk.metrics.distance.masi_distance`` (a polysemantic label is the set of its groups);
* Fleiss' κ: ``statsmodels.stats.inter_rater.fleiss_kappa`` on the items with the most common
  number of raters (Fleiss needs the same number for every item);
* Cohen's κ per pair of annotators: ``sklearn.metrics.cohen_kappa_score`` on their shared items.

A statistic that is undefined (one annotator, one value in the whole data) is NaN.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vocablens.campaign.answers import NO_CONCEPT, normal
from vocablens.campaign.tables import adjudications_frame, current_labels, items_frame, labels_frame

if TYPE_CHECKING:
    from vocablens.campaign.store import CampaignStore


def _rated(current: pd.DataFrame) -> pd.DataFrame:
    """The labels of items that two or more annotators labelled."""
    counts = current.groupby("item_id")["annotator"].transform("size")
    return current[counts >= 2]


def alpha_nominal(current: pd.DataFrame) -> float:
    """Krippendorff's α (nominal) of ``value`` over annotators x items."""
    import krippendorff

    rated = _rated(current)
    if rated["annotator"].nunique() < 2 or rated["value"].nunique() < 2:
        return math.nan
    codes = {v: i for i, v in enumerate(sorted(rated["value"].unique()))}
    table = rated.assign(code=rated["value"].map(codes)).pivot_table(
        index="annotator", columns="item_id", values="code", aggfunc="last"
    )  # (annotators, items), NaN where missing
    return float(krippendorff.alpha(reliability_data=table.to_numpy(dtype=float),
                                    level_of_measurement="nominal"))  # fmt: skip


def alpha_masi(current: pd.DataFrame) -> float:
    """Krippendorff's α with MASI distance between label sets (nltk's AnnotationTask)."""
    from nltk.metrics.agreement import AnnotationTask
    from nltk.metrics.distance import masi_distance

    rated = _rated(current)
    if rated["annotator"].nunique() < 2 or rated["value"].nunique() < 2:
        return math.nan
    data = [(a, str(i), s) for a, i, s in
            zip(rated["annotator"], rated["item_id"], rated["label_set"], strict=True)]  # fmt: skip
    try:
        return float(AnnotationTask(data=data, distance=masi_distance).alpha())
    except ZeroDivisionError:
        return math.nan


def fleiss(current: pd.DataFrame) -> float:
    """Fleiss' κ over the items with the most common number (>= 2) of raters."""
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    rated = _rated(current)
    if not len(rated) or rated["value"].nunique() < 2:
        return math.nan
    sizes = rated.groupby("item_id").size()
    n = int(sizes.mode().max())
    keep = sizes.index[sizes == n]
    codes = {v: i for i, v in enumerate(sorted(rated["value"].unique()))}
    rows = [part["value"].map(codes).to_numpy()[:n]
            for _, part in rated[rated["item_id"].isin(keep)].groupby("item_id")]  # fmt: skip
    table, _ = aggregate_raters(np.stack(rows))  # (items, categories) counts
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(fleiss_kappa(table, method="fleiss"))


def cohen_pairs(current: pd.DataFrame) -> pd.DataFrame:
    """Cohen's κ for every pair of annotators with two or more shared items."""
    from sklearn.metrics import cohen_kappa_score

    by = {
        a: dict(zip(p["item_id"], p["value"], strict=True)) for a, p in current.groupby("annotator")
    }
    rows = []
    for a, b in itertools.combinations(sorted(by), 2):
        shared = sorted(set(by[a]) & set(by[b]))
        if len(shared) < 2:
            continue
        x, y = [by[a][i] for i in shared], [by[b][i] for i in shared]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            kappa = float(cohen_kappa_score(x, y)) if len(set(x) | set(y)) > 1 else math.nan
        rows.append({"a": a, "b": b, "shared": len(shared), "kappa": kappa})
    return pd.DataFrame(rows, columns=["a", "b", "shared", "kappa"])


def _gold_value(text: str) -> str:
    text = normal(text)
    return NO_CONCEPT if text in ("", "none", NO_CONCEPT) else text


def per_annotator(current: pd.DataFrame, gold: dict[int, str]) -> pd.DataFrame:
    """Per annotator: labels, mean pairwise Cohen's κ, agreement with the others, gold accuracy."""
    pairs = cohen_pairs(current)
    rows = []
    for name, part in current.groupby("annotator"):
        mine = pairs[(pairs["a"] == name) | (pairs["b"] == name)]["kappa"].dropna()
        others = current[(current["annotator"] != name) & current["item_id"].isin(part["item_id"])]
        agree = [float((others[others["item_id"] == i]["value"] == v).mean())
                 for i, v in zip(part["item_id"], part["value"], strict=True)
                 if (others["item_id"] == i).any()]  # fmt: skip
        scored = [(v == _gold_value(gold[i])) for i, v in
                  zip(part["item_id"], part["value"], strict=True) if i in gold]  # fmt: skip
        rows.append({
            "annotator": name, "labels": len(part),
            "cohen_kappa_mean": float(mine.mean()) if len(mine) else math.nan,
            "agreement_with_others": float(np.mean(agree)) if agree else math.nan,
            "gold_items": len(scored),
            "gold_accuracy": float(np.mean(scored)) if scored else math.nan,
        })  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=[
            "annotator",
            "labels",
            "cohen_kappa_mean",
            "agreement_with_others",
            "gold_items",
            "gold_accuracy",
        ],
    )


def machine_vs_people(adjudicated: pd.DataFrame) -> pd.DataFrame:
    """The labeller's precision and recall against adjudicated labels, per layer and readout.

    A machine label counts as predicted when it is confident and not empty, and as right when
    it is one of the adjudicated label's concepts; the positives are the adjudicated items with
    a concept. Also: the score threshold with the best F1 (``threshold``; NaN without scores).
    """
    rows: list[dict[str, Any]] = []
    for _, adj in adjudicated.iterrows():
        truth = (
            set()
            if adj["no_concept"]
            else {normal(adj["concept"])} | {normal(g) for g in adj["groups"]}
        )
        for readout, m in (adj["machine"] or {}).items():
            label = normal(m.get("label") or "")
            rows.append({"layer": int(adj["layer"]), "readout": readout,
                         "predicted": bool(m.get("confident")) and bool(label),
                         "labelled": bool(label), "right": bool(label) and label in truth,
                         "positive": bool(truth), "score": m.get("score")})  # fmt: skip
    columns = ["layer", "readout", "items", "precision", "recall", "threshold",
               "threshold_precision", "threshold_recall"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    out = []
    for (layer, readout), part in frame.groupby(["layer", "readout"]):
        predicted, positives = int(part["predicted"].sum()), int(part["positive"].sum())
        hits = int((part["predicted"] & part["right"]).sum())
        best = _best_threshold(part, positives)
        out.append({"layer": layer, "readout": readout, "items": len(part),
                    "precision": hits / predicted if predicted else math.nan,
                    "recall": hits / positives if positives else math.nan, **best})  # fmt: skip
    return pd.DataFrame(out, columns=columns)


def _best_threshold(part: pd.DataFrame, positives: int) -> dict[str, float]:
    """The score threshold (label kept when ``score >= t``) with the best F1 against people."""
    best = {"threshold": math.nan, "threshold_precision": math.nan, "threshold_recall": math.nan}
    scored = part[part["labelled"] & part["score"].notna()]
    if not len(scored) or not positives:
        return best
    f1_best = -1.0
    for t in sorted(set(scored["score"].astype(float))):
        kept = scored[scored["score"].astype(float) >= t]
        hits = int(kept["right"].sum())
        p, r = hits / len(kept), hits / positives
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 > f1_best:
            f1_best = f1
            best = {"threshold": t, "threshold_precision": p, "threshold_recall": r}
    return best


@dataclass
class AgreementReport:
    """Agreement of a campaign.

    Attributes:
        overall: ``alpha_nominal``, ``alpha_masi``, ``fleiss_kappa``, ``items``, ``labels``.
        per_layer: one row per layer: ``layer``, ``items``, ``alpha_nominal``, ``alpha_masi``,
            ``fleiss_kappa``.
        pairs: Cohen's κ per pair (:func:`cohen_pairs`).
        annotators: :func:`per_annotator`.
        machine: :func:`machine_vs_people`.
    """

    overall: dict[str, float]
    per_layer: pd.DataFrame
    pairs: pd.DataFrame
    annotators: pd.DataFrame
    machine: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as null)."""

        def clean(records: list[dict]) -> list[dict]:
            return [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                     for k, v in r.items()} for r in records]  # fmt: skip

        return {"overall": clean([self.overall])[0],
                **{name: clean(getattr(self, name).to_dict("records"))
                   for name in ("per_layer", "pairs", "annotators", "machine")}}  # fmt: skip

    def text(self) -> str:
        """A plain-text summary (what ``vocablens campaign agreement`` prints)."""
        o = self.overall
        lines = [f"items rated by 2+: {o['items']}  labels: {o['labels']}",
                 f"Krippendorff alpha (nominal): {o['alpha_nominal']:.3f}",
                 f"Krippendorff alpha (MASI, label sets): {o['alpha_masi']:.3f}",
                 f"Fleiss kappa: {o['fleiss_kappa']:.3f}", "", "per layer:",
                 self.per_layer.to_string(index=False, float_format="%.3f"), "", "per annotator:",
                 self.annotators.to_string(index=False, float_format="%.3f")]  # fmt: skip
        if len(self.pairs):
            lines += [
                "",
                "Cohen kappa per pair:",
                self.pairs.to_string(index=False, float_format="%.3f"),
            ]
        if len(self.machine):
            lines += [
                "",
                "machine vs adjudicated (per layer, readout):",
                self.machine.to_string(index=False, float_format="%.3f"),
            ]
        return "\n".join(lines)


def _stats(current: pd.DataFrame) -> dict[str, float]:
    return {"alpha_nominal": alpha_nominal(current), "alpha_masi": alpha_masi(current),
            "fleiss_kappa": fleiss(current), "items": int(_rated(current)["item_id"].nunique()),
            "labels": len(current)}  # fmt: skip


def agreement(store: CampaignStore) -> AgreementReport:
    """Agreement, gold accuracy and machine-vs-people of a campaign (see the module docstring)."""
    current = current_labels(labels_frame(store))
    items = items_frame(store)
    gold = {
        int(i): g
        for i, g in zip(items["item_id"], items["gold"], strict=True)
        if isinstance(g, str)
    }
    layers = []
    for layer, part in current.groupby("layer"):
        stats = _stats(part)
        layers.append({"layer": int(layer), "items": stats["items"],
                       **{k: stats[k] for k in ("alpha_nominal", "alpha_masi", "fleiss_kappa")}})  # fmt: skip
    per_layer = pd.DataFrame(layers, columns=["layer", "items", "alpha_nominal", "alpha_masi",
                                              "fleiss_kappa"])  # fmt: skip
    return AgreementReport(overall=_stats(current), per_layer=per_layer,
                           pairs=cohen_pairs(current), annotators=per_annotator(current, gold),
                           machine=machine_vs_people(adjudications_frame(store)))  # fmt: skip
