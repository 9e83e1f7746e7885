"""Score the concept labels against the judged set of SmolLM2 value vectors, per readout.

Usage::

    python benchmarks/bench_labels.py                      # raw, cosine (from the lists file)
    python benchmarks/bench_labels.py --csls               # + csls (loads SmolLM2, projects)
    python benchmarks/bench_labels.py --legacy             # the labeler before issue 10's API
    python benchmarks/bench_labels.py --judged F --lists L # another judged set (the held-out)
    python benchmarks/bench_labels.py --split              # tune (odd cards) / held (even) halves
    python benchmarks/bench_labels.py --misses             # per missed odd card: judged vs machine

The judged set and its rules: ``tests/data/judged/PROTOCOL.md``. Printed per readout and layer
band (early / middle / late) and overall:

* **concept recall**: among vectors with a concept seen (``clear`` or ``weak``), the share with a
  confident, acceptable machine label (the semantic label for semantic concepts; the semantic
  label or the form description for form concepts; a polysemantic label is acceptable when one
  of its groups is);
* **false-concept rate**: among vectors seen as ``none``, the share given a confident semantic
  label;
* **polysemantic precision / recall / F1** of the machine's flag against the judges'.

A label is acceptable when, lower-cased, split into words and each word reduced to its WordNet
lemma, it contains one of the concept's ``accept`` phrases (reduced the same way) as a run of
words.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data" / "judged"
BANDS = ("early", "middle", "late")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _lemmatizer() -> Callable[[str], str]:
    from vocablens.annotate.wordnet import open_wordnet

    wn = open_wordnet()
    cache: dict[str, str] = {}

    def lemma(word: str) -> str:
        hit = cache.get(word)
        if hit is None:
            hit = word  # the first base form other than the word ("days" -> "day"), else itself
            for pos in ("n", "v", "a"):
                bases = [b for b in wn._morphy(word, pos) if b != word]
                if bases:
                    hit = bases[0]
                    break
            cache[word] = hit
        return hit

    return lemma


_LEMMA: Callable[[str], str] | None = None


def words_of(text: str) -> list[str]:
    """Lower-cased words of a label, each reduced to its WordNet lemma."""
    global _LEMMA
    if _LEMMA is None:
        _LEMMA = _lemmatizer()
    return [_LEMMA(w) for w in re.findall(r"[a-z0-9]+", text.lower())]


def acceptable(label: str, accept: Sequence[str]) -> bool:
    """Whether ``label`` contains one of the ``accept`` phrases as a run of lemmatized words."""
    if not label:
        return False
    have = words_of(label)
    for phrase in accept:
        want = words_of(phrase)
        n = len(want)
        if n and any(have[i : i + n] == want for i in range(len(have) - n + 1)):
            return True
    return False


def as_text(shown_token: str) -> str:
    """A card's token as decoded text (``"␣Paris"`` -> ``" Paris"``)."""
    return shown_token.replace("␣", " ")


def machine_labels(
    tokens: list[str], labeler: Any, legacy: Any = None, raw: list[str] | None = None,
    readout: str = "cosine",
) -> dict[str, Any]:  # fmt: skip
    """The fields scored, from the current labeller (or the legacy labeller + detector).

    ``raw``: the vector's raw top tokens, where the labeller may also read the form (as the
    annotator does when the projections hold both readouts).
    """
    if legacy is not None:
        label = labeler.label(tokens)
        poly = legacy.score(tokens)
        semantic = label.kind == "wordnet"
        return {"label": label.label, "semantic": bool(label.confident and semantic),
                "form": label.label if label.confident and not semantic else "",
                "polysemantic": bool(poly.polysemantic),
                "groups": list(poly.cluster_labels)}  # fmt: skip
    label = labeler.label(tokens, raw=raw, readout=readout)
    return {"label": label.label, "semantic": label.semantic, "form": label.form,
            "polysemantic": label.polysemantic,
            "groups": [g.label for g in label.groups] if label.polysemantic else []}  # fmt: skip


def score(judged: list[dict[str, Any]], machine: dict[str, dict[str, Any]]) -> dict[str, dict]:
    """Recall, false-concept rate and polysemantic P/R/F1 per band and overall."""
    out: dict[str, dict] = {}
    for band in (*BANDS, "all"):
        rows = [j for j in judged if band == "all" or j["band"] == band]
        seen = [j for j in rows if j["strength"] in ("clear", "weak")]
        none = [j for j in rows if j["strength"] == "none"]
        hits = sum(hit(j, machine[j["id"]]) for j in seen)
        false = sum(machine[j["id"]]["semantic"] for j in none)
        truth = [bool(j.get("polysemantic")) for j in rows]
        pred = [bool(machine[j["id"]]["polysemantic"]) for j in rows]
        tp = sum(t and p for t, p in zip(truth, pred, strict=True))
        precision = tp / sum(pred) if sum(pred) else 0.0
        recall = tp / sum(truth) if sum(truth) else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[band] = {
            "n": len(rows), "n_seen": len(seen), "recall": hits / len(seen) if seen else 0.0,
            "n_none": len(none), "false_concepts": false / len(none) if none else 0.0,
            "n_poly": sum(truth), "n_flagged": sum(pred),
            "poly_precision": precision, "poly_recall": recall, "poly_f1": f1,
        }  # fmt: skip
    return out


def hit(judgment: dict[str, Any], m: dict[str, Any]) -> bool:
    """Whether the machine's confident label is acceptable for the judged concept."""
    accepts = [judgment.get("accept") or []]
    accepts += [g.get("accept") or [] for g in judgment.get("groups") or []]
    names = [m["label"], *m["groups"]] if m["semantic"] else []
    if judgment.get("kind") == "form" and m["form"]:
        names.append(m["form"])
    return any(acceptable(name, acc) for name in names for acc in accepts)


def readout_lists(items: list[dict[str, Any]], csls: bool) -> dict[str, dict[str, list[str]]]:
    """Per readout, per vector id, its top-30 tokens as decoded text."""
    lists = {
        name: {it["id"]: [as_text(t) for t in it[name]] for it in items}
        for name in ("raw", "cosine")
    }
    if csls:
        lists["csls"] = csls_lists(items)
    return lists


def csls_lists(items: list[dict[str, Any]], k: int = 30) -> dict[str, list[str]]:
    """The csls top-k of the judged vectors, projected from SmolLM2 (needs the projector's readouts)."""
    from vocablens.model.loading import load_model
    from vocablens.project.projector import project

    lm = load_model("smollm2-135m")
    layers = sorted({it["layer"] for it in items})
    table = project(lm, "values", layers=layers, k=k, readouts="csls").to_pandas()
    table = table[table["readout"] == "csls"].sort_values(["layer", "index", "sign", "rank"])
    out: dict[str, list[str]] = {}
    wanted = {(it["layer"], it["index"], it["sign"]): it["id"] for it in items}
    for key, rows in table.groupby(["layer", "index", "sign"], sort=False):
        if key in wanted:
            out[wanted[key]] = rows["token"].astype(str).tolist()
    return out


def halves(judged: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The tuning half (odd-numbered cards, 1-based file order) and the held half (even)."""
    return {"tune": judged[0::2], "held": judged[1::2]}


def run(
    judged_path: Path, lists_path: Path, csls: bool, legacy: bool, split: bool = False,
    misses: bool = False,
) -> dict[str, dict]:  # fmt: skip
    """Score every readout; returns ``{readout: {band: metrics}}`` (``readout/half`` when split)."""
    judged = read_jsonl(judged_path)
    items = read_jsonl(lists_path)
    lists = readout_lists(items, csls)
    from vocablens.annotate import ConceptLabeler, PolysemanticityDetector

    labeler = ConceptLabeler().fit()
    detector = PolysemanticityDetector(labeler=labeler).fit() if legacy else None
    results = {}
    for readout, by_id in lists.items():
        raw = lists["raw"]
        machine = {i: machine_labels(tokens, labeler, detector, raw[i], readout)
                   for i, tokens in by_id.items()}  # fmt: skip
        mine = [j for j in judged if j["id"] in machine]
        if not split:
            results[readout] = score(mine, machine)
        else:
            for half, rows in halves(mine).items():
                results[f"{readout}/{half}"] = score(rows, machine)
        if misses and readout == "cosine":
            print_misses(halves(mine)["tune"], machine)
    return results


def print_misses(judged: list[dict[str, Any]], machine: dict[str, dict[str, Any]]) -> None:
    """Per card of ``judged`` the machine got wrong: the judged concept vs the machine's label."""
    for j in judged:
        m = machine[j["id"]]
        seen = j["strength"] in ("clear", "weak")
        wrong_poly = bool(j.get("polysemantic")) != bool(m["polysemantic"])
        if seen and hit(j, m) and not wrong_poly:
            continue
        if not seen and not m["semantic"] and not wrong_poly:
            continue
        groups = " | ".join(g.get("concept") or "" for g in j.get("groups") or [])
        what = "FALSE" if not seen else "MISS" if not hit(j, m) else "POLY"
        print(f"{what} {j['id']} [{j['strength']} {j.get('kind')}] {j.get('concept')!r}"
              f"{' poly: ' + groups if j.get('polysemantic') else ''}\n"
              f"    machine: {m['label']!r} semantic={m['semantic']} form={m['form']!r}"
              f" poly={m['polysemantic']} {m['groups']}")  # fmt: skip


def print_table(results: dict[str, dict]) -> None:
    """One Markdown table: readout x band."""
    print("| readout | band | n | concept recall | false concepts | poly P | poly R | poly F1 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for readout, bands in results.items():
        for band, m in bands.items():
            print(f"| {readout} | {band} | {m['n']} | {m['recall']:.2f} ({m['n_seen']}) | "
                  f"{m['false_concepts']:.2f} ({m['n_none']}) | {m['poly_precision']:.2f} | "
                  f"{m['poly_recall']:.2f} ({m['n_poly']}) | {m['poly_f1']:.2f} |")  # fmt: skip


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--judged", type=Path, default=DATA / "smollm2_values.jsonl")
    parser.add_argument("--lists", type=Path, default=DATA / "smollm2_values_lists.jsonl")
    parser.add_argument("--csls", action="store_true", help="also the csls readout (loads SmolLM2)")
    parser.add_argument("--legacy", action="store_true", help="score the pre-issue-10 labeller")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--split", action="store_true", help="tune (odd) / held (even) halves")
    parser.add_argument("--misses", action="store_true", help="print the odd half's misses")
    args = parser.parse_args()
    if not args.judged.is_file():
        sys.exit(f"no judged set at {args.judged}")
    results = run(args.judged, args.lists, args.csls, args.legacy, args.split, args.misses)
    print_table(results)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
