"""Contexts as evidence for the labels, scored on the judged SmolLM2 value vectors.

Usage::

    vocablens activations smollm2-135m --out acts/ --max-tokens 4096
    vocablens project smollm2-135m --what values --readout cosine -k 30 --out values/
    python benchmarks/bench_context_evidence.py --activations acts/ --projections values/

For each judged card (``tests/data/judged/``, scoring as in ``bench_labels.py``, whose functions
this script calls) the card's value vector is annotated with ``activations=`` (the annotator's
cosine readout, top 30) twice, reading the trigger tokens and the next tokens. Printed:

* **context label**: among cards with a concept, how often the labeller on the context tokens
  gives an acceptable label (confident only, and any label);
* **support**: how often the contexts support a confident semantic token-list label, for the
  acceptable ("correct") labels against the others ("wrong": not acceptable, or a concept
  where the judges saw none), at several support shares;
  and how often the context label is the token-list label itself;
* **promotion**: the recall and false-concept rate if a supported but unconfident semantic
  token-list label were made confident;
* **agreement** per band (Geva et al. 2020): on the judged cards (cosine, top-10) with the
  next-neuron baseline, and over all neurons from the run's own ``agreement.parquet`` (raw
  readout, top-10).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_labels import BANDS, DATA, hit, read_jsonl, score  # noqa: E402

SHARES = (0.05, 0.1, 0.2, 0.3)


def token_machine(row: Any) -> dict[str, Any]:
    """The scored fields of the token-list label of an annotation row."""
    poly = bool(row["polysemantic"])
    return {"label": row["label"], "semantic": bool(row["confident"]) and row["label_kind"] == "semantic",
            "form": row["form"] or "", "polysemantic": poly,
            "groups": str(row["cluster_labels"]).split("|") if poly else []}  # fmt: skip


def context_machine(row: Any, confident_only: bool) -> dict[str, Any]:
    """The scored fields of the context label (semantic only; form labels do not name concepts)."""
    semantic = row["context_label_kind"] == "semantic" and (
        bool(row["context_confident"]) or not confident_only
    )
    form = row["context_label"] if row["context_label_kind"] == "form" else ""
    return {"label": row["context_label"], "semantic": semantic, "form": form,
            "polysemantic": False, "groups": []}  # fmt: skip


def judged_table(projections: Path, judged: list[dict[str, Any]]) -> pd.DataFrame:
    """The projection rows of the judged vectors (cosine readout)."""
    from vocablens.project.files import read_projections

    table = read_projections(projections)
    wanted = pd.DataFrame([(j["layer"], j["index"], j["sign"]) for j in judged],
                          columns=["layer", "index", "sign"])  # fmt: skip
    return table.merge(wanted, on=["layer", "index", "sign"], how="inner")


def annotate(table: pd.DataFrame, activations: Path, tokens: str, manifest: dict) -> pd.DataFrame:
    """The judged vectors annotated with the context evidence (model checked by manifest)."""
    from vocablens.annotate import annotate_projections
    from vocablens.annotate.context_evidence import check_run, open_context_run

    run = open_context_run(activations)
    check_run(run, manifest, sorted(int(x) for x in table["layer"].unique()))
    return annotate_projections(table, activations=run, context_tokens=tokens).frame


def by_id(frame: pd.DataFrame, judged: list[dict[str, Any]]) -> dict[str, Any]:
    """Annotation rows keyed by judged card id."""
    rows = {(int(r["layer"]), int(r["index"]), int(r["sign"])): r for _, r in frame.iterrows()}
    return {j["id"]: rows[(j["layer"], j["index"], j["sign"])] for j in judged}


def evaluate(judged: list[dict[str, Any]], rows: dict[str, Any]) -> dict[str, Any]:
    """Every number of the module docstring, for one annotated set."""
    out: dict[str, Any] = {}
    seen = [j for j in judged if j["strength"] in ("clear", "weak")]
    for name, confident_only in (("confident", True), ("any", False)):
        for band in (*BANDS, "all"):
            cards = [j for j in seen if band == "all" or j["band"] == band]
            hits = sum(hit(j, context_machine(rows[j["id"]], confident_only)) for j in cards)
            out[f"context_label/{name}/{band}"] = (hits / len(cards) if cards else 0.0, len(cards))
    token = {j["id"]: token_machine(rows[j["id"]]) for j in judged}
    correct = [j for j in seen if token[j["id"]]["semantic"] and hit(j, token[j["id"]])]
    wrong = [j for j in judged if token[j["id"]]["semantic"] and j not in correct]
    for share in SHARES:
        for name, cards in (("correct", correct), ("wrong", wrong)):
            held = sum(float(rows[j["id"]]["context_support_share"]) >= share for j in cards)
            out[f"support/{share}/{name}"] = (held / len(cards) if cards else 0.0, len(cards))
    for name, cards in (("correct", correct), ("wrong", wrong)):
        same = sum(rows[j["id"]]["context_label"] == rows[j["id"]]["label"] for j in cards)
        out[f"same/{name}"] = same / len(cards) if cards else 0.0
    out["mean_share/correct"] = _mean([rows[j["id"]]["context_support_share"] for j in correct])
    out["mean_share/wrong"] = _mean([rows[j["id"]]["context_support_share"] for j in wrong])
    base = score(judged, token)["all"]
    out["labels/recall"], out["labels/false"] = base["recall"], base["false_concepts"]
    for share in SHARES:
        promoted = {}
        for j in judged:
            m, row = dict(token[j["id"]]), rows[j["id"]]
            if (not m["semantic"] and row["label_kind"] == "semantic" and row["label"]
                    and float(row["context_support_share"]) >= share):  # fmt: skip
                m["semantic"] = True
            promoted[j["id"]] = m
        got = score(judged, promoted)["all"]
        out[f"promote/{share}"] = (got["recall"], got["false_concepts"],
                                   sum(promoted[i]["semantic"] > token[i]["semantic"]
                                       for i in promoted))  # fmt: skip
    for band in (*BANDS, "all"):
        cards = [j for j in judged if band == "all" or j["band"] == band]
        rates = [rows[j["id"]]["context_agreement"] for j in cards]
        out[f"agreement/{band}"] = (_mean(rates), sum(pd.notna(r) for r in rates))
    return out


def _mean(values: list[Any]) -> float:
    kept = [float(v) for v in values if pd.notna(v)]
    return sum(kept) / len(kept) if kept else float("nan")


def baseline_agreement(judged: list[dict[str, Any]], activations: Path, table: pd.DataFrame,
                       projections: Path) -> dict[str, float]:  # fmt: skip
    """The judged cards' agreement with the next neuron's value vector (per band)."""
    from vocablens.activations.agreement import context_hits
    from vocablens.activations.files import read_activations
    from vocablens.project.files import read_projections

    contexts = read_activations(activations).contexts
    keys = pd.DataFrame([(j["layer"], j["index"], j["sign"], j["band"]) for j in judged],
                        columns=["layer", "index", "sign", "band"])  # fmt: skip
    contexts = contexts.merge(keys, on=["layer", "index", "sign"])
    contexts = contexts[contexts["next_token_id"] >= 0].reset_index(drop=True)
    layers = sorted(int(x) for x in keys["layer"].unique())
    values = read_projections(projections)
    values = values[values["layer"].isin(layers) & (values["rank"] < 10)]
    contexts["base"] = context_hits(contexts, values, 10, shift=1)
    per = contexts.groupby(["band", "layer", "index", "sign"])["base"].mean().groupby("band").mean()
    out = {band: float(per.get(band, float("nan"))) for band in BANDS}
    out["all"] = float(contexts.groupby(["layer", "index", "sign"])["base"].mean().mean())
    return out


def run_agreement(activations: Path) -> dict[str, tuple[float, float]]:
    """Per band, the run's own agreement over all neurons (raw readout): (rate, baseline) %."""
    from vocablens.activations.files import read_activations

    table = read_activations(activations).agreement
    if table is None:
        return {}
    table = table.assign(band=pd.cut(table["layer"], [-1, 9, 19, 29], labels=list(BANDS)))
    out = {}
    for band, part in [*table.groupby("band", observed=True), ("all", table)]:
        weight = part["contexts"]
        out[str(band)] = (100 * float((part["rate"] * weight).sum() / weight.sum()),
                          100 * float((part["baseline"] * weight).sum() / weight.sum()))  # fmt: skip
    return out


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--activations", type=Path, required=True)
    parser.add_argument("--projections", type=Path, required=True)
    parser.add_argument("--judged", type=Path, default=DATA / "smollm2_values.jsonl")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    judged = read_jsonl(args.judged)
    manifest = json.loads((args.projections / "manifest.json").read_text())
    from vocablens.annotate.context_evidence import open_context_run

    have = set(open_context_run(args.activations).layers)
    judged = [j for j in judged if j["layer"] in have]
    table = judged_table(args.projections, judged)
    results = {}
    for tokens in ("trigger", "next"):
        rows = by_id(annotate(table, args.activations, tokens, manifest), judged)
        results[tokens] = evaluate(judged, rows)
    results["baseline"] = baseline_agreement(judged, args.activations, table, args.projections)
    results["run_agreement"] = run_agreement(args.activations)
    print_tables(results, len(judged))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1))


def print_tables(results: dict[str, Any], n: int) -> None:
    """The numbers as Markdown tables."""
    print(f"judged cards: {n}\n")
    print("| context tokens | band | acceptable context label, confident | any |")
    print("| --- | --- | --- | --- |")
    for tokens in ("trigger", "next"):
        r = results[tokens]
        for band in (*BANDS, "all"):
            (c, nc), (a, _) = r[f"context_label/confident/{band}"], r[f"context_label/any/{band}"]
            print(f"| {tokens} | {band} | {c:.2f} ({nc}) | {a:.2f} |")
    print(
        "\n| context tokens | support share ≥ | correct labels supported | wrong labels supported |"
    )
    print("| --- | --- | --- | --- |")
    for tokens in ("trigger", "next"):
        r = results[tokens]
        for share in SHARES:
            (c, nc), (w, nw) = r[f"support/{share}/correct"], r[f"support/{share}/wrong"]
            print(f"| {tokens} | {share} | {c:.2f} ({nc}) | {w:.2f} ({nw}) |")
        print(f"| {tokens} | mean share | {r['mean_share/correct']:.3f} | "
              f"{r['mean_share/wrong']:.3f} |")  # fmt: skip
        print(f"| {tokens} | context label = label | {r['same/correct']:.2f} | "
              f"{r['same/wrong']:.2f} |")  # fmt: skip
    print("\n| context tokens | rule | concept recall | false concepts | labels promoted |")
    print("| --- | --- | --- | --- | --- |")
    for tokens in ("trigger", "next"):
        r = results[tokens]
        print(
            f"| {tokens} | tokens only | {r['labels/recall']:.2f} | {r['labels/false']:.2f} | 0 |"
        )
        for share in SHARES:
            rec, false, count = r[f"promote/{share}"]
            print(f"| {tokens} | promote at share ≥ {share} | {rec:.2f} | {false:.2f} | {count} |")
    print(
        "\n| band | judged cards: agreement % (cosine top-10) | baseline % | "
        "all neurons (run, raw top-10) % | baseline % |"
    )
    print("| --- | --- | --- | --- | --- |")
    run, base = results["run_agreement"], results["baseline"]
    for band in (*BANDS, "all"):
        rate, count = results["trigger"][f"agreement/{band}"]
        whole = run.get(band, (float("nan"), float("nan")))
        print(f"| {band} | {100 * rate:.2f} ({count}) | {100 * base[band]:.2f} | "
              f"{whole[0]:.2f} | {whole[1]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
