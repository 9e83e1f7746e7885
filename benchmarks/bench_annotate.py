"""Benchmark the annotator: planted-concept accuracy and polysemantic P/R/F1, whole-model time.

Usage::

    python benchmarks/bench_annotate.py              # evaluation + all 30 SmolLM2 layers
    python benchmarks/bench_annotate.py --layers 0-3 # a quicker timing run
    python benchmarks/bench_annotate.py --maps out/  # also write the UMAP / confident-fraction PNGs

1. **Planted concepts** (``tests/concept_lists.py``): for every seed, 4 single-concept lists per
   concept and 100 mixtures of two concepts from different groups, 30 tokens each with 20 %
   noise. Two settings:

   * *curated*: tokens in GPT-2 / SmolLM2 form, noise from a curated list of common words and
     pieces; no model: WordNet features. Also with 40 % noise (a stress test).
   * *SmolLM2*: only tokens that are single tokens of SmolLM2's tokenizer, noise drawn from its
     whole vocabulary; polysemantic from the labeller's semantic groups.

   Seeds 100-104 are disjoint from the seeds the thresholds were tuned on (0-4; the test uses 0).
   The *held-out* rows use concepts (``HELD_OUT``: birds, drinks, clothing, ...) that were
   written down before the annotator first ran on them and never used for tuning.
2. **Whole model**: project the value vectors of SmolLM2-135M (30 layers x 1536 neurons x 2 signs,
   top 30, the annotator's readout and raw, where the form may be read; ``vocablens.project``) and annotate them all, from
   a cold start (WordNet opened, no cached look-ups), single process.

The evidence for the labels is ``bench_labels.py`` (real value vectors read by people); the
planted lists here are a regression test.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from concept_lists import CONCEPTS, HELD_OUT, is_correct, planted_set, prf, variants  # noqa: E402


def evaluate(cases, labeler, detector, ids_of=None) -> dict[str, float]:
    from vocablens.annotate.pipeline import single_blas_thread

    correct, singles, truth, pred = 0, 0, [], []
    with single_blas_thread():
        for case in cases:
            if not case.polysemantic:
                label = labeler.label(case.tokens)
                singles += 1
                concept = case.concepts[0]
                correct += is_correct(label.label, label.synset, label.supersense, concept) or (
                    bool(label.form) and is_correct(label.form.rstrip("s"), None, None, concept)
                )
            ids = None if ids_of is None else [ids_of[t] for t in case.tokens]
            truth.append(case.polysemantic)
            pred.append(detector.score(case.tokens, token_ids=ids).polysemantic)
    p, r, f = prf(truth, pred)
    return {"accuracy": correct / singles, "n_single": singles, "n_mixed": sum(truth),
            "precision": p, "recall": r, "f1": f}  # fmt: skip


def planted(seeds: list[int], lm) -> dict[str, dict[str, float]]:
    from vocablens.annotate import ConceptLabeler, PolysemanticityDetector

    labeler = ConceptLabeler().fit()
    results = {}
    cases = [c for s in seeds for c in planted_set(seed=s, n_single=4, n_mixed=100)]
    wordnet_detector = PolysemanticityDetector(labeler=labeler).fit()
    results["curated / wordnet"] = evaluate(cases, labeler, wordnet_detector)
    noisy = [c for s in seeds for c in planted_set(seed=s, n_single=4, n_mixed=100, noise=0.4)]
    results["curated 40% noise / wordnet"] = evaluate(noisy, labeler, wordnet_detector)
    held = [c for s in seeds for c in planted_set(seed=s, n_single=4, n_mixed=100,
                                                  concepts=HELD_OUT)]  # fmt: skip
    results["held-out / wordnet"] = evaluate(held, labeler, wordnet_detector)
    tok = lm.tokenizer
    vocab = tok.batch_decode([[i] for i in range(len(tok))])
    ids_of: dict[str, int] = {}
    for i, s in enumerate(vocab):
        ids_of.setdefault(s, i)
    single = {s for c in (*CONCEPTS, *HELD_OUT) for w in c.words for s in variants(c, w)
              if len(tok.encode(s, add_special_tokens=False)) == 1}  # fmt: skip
    pool = [vocab[i] for i in random.Random(7).sample(range(len(vocab)), 5000)]
    cases = [c for s in seeds for c in planted_set(seed=s, n_single=4, n_mixed=100,
                                                   noise_tokens=pool, vocabulary=single)]  # fmt: skip
    held = [c for s in seeds for c in planted_set(seed=s, n_single=4, n_mixed=100,
                                                  noise_tokens=pool, vocabulary=single,
                                                  concepts=HELD_OUT)]  # fmt: skip
    det = PolysemanticityDetector(labeler=labeler).fit()
    results["SmolLM2 / wordnet"] = evaluate(cases, labeler, det)
    results["SmolLM2 held-out / wordnet"] = evaluate(held, labeler, det)
    return results


def whole_model(lm, layers: str | None, maps: Path | None) -> dict[str, object]:
    from vocablens.annotate import ConceptLabeler, annotate_projections
    from vocablens.annotate import wordnet as wn_module
    from vocablens.annotate.pipeline import DEFAULT_READOUT
    from vocablens.annotate.value_umap import value_umap
    from vocablens.project.projector import project

    t0 = time.perf_counter()
    readouts = f"{DEFAULT_READOUT},raw"  # labels on cosine; the form may be read on raw too
    frame = project(lm, "values", layers=layers, k=30, readouts=readouts).to_pandas()
    t_project = time.perf_counter() - t0
    wn_module.open_wordnet.cache_clear()  # cold start: WordNet is opened again
    t0 = time.perf_counter()
    labeler = ConceptLabeler().fit()
    t1 = time.perf_counter()
    n_words = labeler.prepare(frame["token"].astype(str).tolist())  # the themes' word vectors
    t_embed = time.perf_counter() - t1
    result = annotate_projections(frame, progress=True, readout=DEFAULT_READOUT, labeler=labeler)
    t_annotate = time.perf_counter() - t0
    ann = result.frame
    fractions = result.confident_fraction()  # the one rule: values, +v side, `confident`
    overall = float(
        (fractions["fraction"] * fractions["n_vectors"]).sum() / fractions["n_vectors"].sum()
    )
    out = {
        "vectors": len(ann),
        "rows": len(frame),
        "form_readouts": ann.loc[ann["form"] != "", "form_readout"].value_counts().to_dict(),
        "project_s": t_project,
        "annotate_s": t_annotate,
        "embedded_words": n_words,
        "embed_s": t_embed,
        "ms_per_vector": 1e3 * t_annotate / len(ann),
        "confident_fraction": overall,
        "confident_both_sides": float(ann["confident"].mean()),
        "polysemantic": float(ann["polysemantic"].mean()),
        "sides_polysemantic": float(ann["sides_polysemantic"].astype(float).mean()),
        "label_kinds": ann.loc[ann["confident"], "label_kind"]
        .value_counts(normalize=True)
        .to_dict(),
        "top_semantic_labels": ann.loc[
            ann["confident"] & (ann["label_kind"] == "semantic"), "label"
        ]
        .value_counts()
        .head(15)
        .to_dict(),
        "confident_by_layer": fractions[["layer", "fraction"]].round(3).values.tolist(),
        "forms": ann.loc[ann["form"] != "", "form"].value_counts().head(10).to_dict(),
    }
    if maps is not None:
        from vocablens.reports import plots

        maps.mkdir(parents=True, exist_ok=True)
        result.write(maps / "annotations.parquet")
        ax = plots.confident_fraction(fractions)
        ax.figure.savefig(maps / "confident_fraction.png", dpi=130)
        t0 = time.perf_counter()
        last = int(ann["layer"].max())
        coords = value_umap(lm, [last], result)
        out["umap_one_layer_s"] = time.perf_counter() - t0
        coords.to_parquet(maps / f"umap_layer{last}.parquet", index=False)
        ax = plots.umap_scatter(coords)
        ax.figure.savefig(maps / f"umap_layer{last}.png", dpi=130)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="100,101,102,103,104")
    parser.add_argument("--layers", default=None, help="layers for the timing (default: all)")
    parser.add_argument("--maps", type=Path, default=None, help="write PNG maps to this folder")
    parser.add_argument("--skip-planted", action="store_true")
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args()

    from vocablens import load_model

    lm = load_model("smollm2-135m")
    results: dict[str, object] = {}
    if not args.skip_planted:
        t0 = time.perf_counter()
        results["planted"] = planted([int(s) for s in args.seeds.split(",")], lm)
        print(f"planted-concept evaluation ({time.perf_counter() - t0:.0f} s), seeds {args.seeds}")
        print(f"{'setting':<32} {'accuracy':>8} {'P':>6} {'R':>6} {'F1':>6}  singles/mixtures")
        for name, r in results["planted"].items():
            print(f"{name:<32} {r['accuracy']:8.3f} {r['precision']:6.3f} {r['recall']:6.3f} "
                  f"{r['f1']:6.3f}  {r['n_single']}/{r['n_mixed']}")  # fmt: skip
    if not args.skip_model:
        r = whole_model(lm, args.layers, args.maps)
        results["whole_model"] = r
        print(f"\nwhole model: {r['vectors']} vectors ({r['rows']} rows) projected in "
              f"{r['project_s']:.0f} s, annotated in {r['annotate_s']:.0f} s "
              f"({r['ms_per_vector']:.2f} ms/vector; of it {r['embed_s']:.0f} s embedding "
              f"{r['embedded_words']} theme words)")  # fmt: skip
        print(
            f"confident fraction (values, +v): {r['confident_fraction']:.3f} "
            f"(both sides: {r['confident_both_sides']:.3f}), "
            f"polysemantic: {r['polysemantic']:.3f}, sides differ: {r['sides_polysemantic']:.3f}"
        )
        print("confident label kinds:", {k: round(v, 3) for k, v in r["label_kinds"].items()})
        print("top semantic labels:", r["top_semantic_labels"])
        print("form descriptions:", r["forms"], "read on:", r["form_readouts"])
        print("confident (semantic) fraction by layer:", r["confident_by_layer"])
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
