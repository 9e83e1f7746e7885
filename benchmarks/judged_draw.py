"""Draw a judged set of SmolLM2 value vectors and write their reading cards.

Each card shows a value vector's top-30 tokens under the raw readout (``W_U @ (g * v)``, the
exact direct effect on the logits) and the cosine readout (the same score divided by each
token's unembedding norm), side by side, for one sign. Untrained tokens (the rows of SmolLM2's
unembedding that never moved from their shared initial direction: ``<jupyter_*>``, ``<issue_*>``,
…) are left out of both lists here, as the readouts do. The cards are what a judge reads; the
judgments go to ``tests/data/judged/<name>.jsonl`` (protocol: ``tests/data/judged/PROTOCOL.md``).

Usage: ``python benchmarks/judged_draw.py --seed 2026 --per-band 60 --name smollm2_values``.
The held-out set is drawn the same way with another seed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from vocablens.model.loading import load_model
from vocablens.model.vectors import value_vectors
from vocablens.tokens import shown

BANDS = {"early": range(0, 10), "middle": range(10, 20), "late": range(20, 30)}
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "judged"


def draw(seed: int, per_band: int, n_neurons: int) -> list[dict]:
    """Layer uniform within each band, neuron uniform, sign ±1 with equal odds."""
    rng = np.random.default_rng(seed)
    items = []
    for band, layers in BANDS.items():
        seen: set[tuple[int, int, int]] = set()
        while len(seen) < per_band:
            key = (
                int(rng.choice(list(layers))),
                int(rng.integers(n_neurons)),
                int(rng.choice([1, -1])),
            )
            if key not in seen:
                seen.add(key)
                items.append({"band": band, "layer": key[0], "index": key[1], "sign": key[2]})
    return items


def readout_inputs(lm) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """What both readouts of a value vector need, all float32.

    Returns ``W_U``, its row norms, the final norm's gain and the value vectors
    ``(layers, d_mlp, d_model)``.
    """
    view = lm.view
    W_U = view.W_U.detach().float()  # (vocab, d_model)
    norms = W_U.norm(dim=1)  # (vocab,)
    gain = view.norm_gain.detach().float()  # (d_model,)
    flat, _ = value_vectors(lm)  # (layers * d_mlp, d_model), layer-major
    vectors = torch.from_numpy(flat).view(view.n_layers, -1, view.d_model)  # (L, d_mlp, d)
    return W_U, norms, gain, vectors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--per-band", type=int, default=60)
    parser.add_argument("--name", default="smollm2_values")
    parser.add_argument("--k", type=int, default=30)
    args = parser.parse_args()

    lm = load_model("smollm2-135m")
    W_U, norms, gain, vectors = readout_inputs(lm)
    unit = W_U / norms[:, None]  # (vocab, d_model)
    anchor = lm.tokenizer.convert_tokens_to_ids("<jupyter_code>")
    untrained = (unit @ unit[anchor]) > 0.99  # (vocab,)
    view = lm.view
    items = draw(args.seed, args.per_band, vectors.shape[1])
    names = lm.tokenizer.convert_ids_to_tokens(list(range(view.vocab_size)))
    texts = [shown(lm.tokenizer.convert_tokens_to_string([t])) for t in names]

    lines = [f"# Reading cards: {args.name} (seed {args.seed}, {len(items)} vectors)\n"]
    for n, item in enumerate(items):
        v = vectors[item["layer"], item["index"]].float() * gain * item["sign"]  # (d_model,)
        raw = W_U @ v  # (vocab,)
        cos = raw / norms  # (vocab,)
        raw[untrained] = -torch.inf
        cos[untrained] = -torch.inf
        top_raw = raw.topk(args.k).indices.tolist()
        top_cos = cos.topk(args.k).indices.tolist()
        item["id"] = f"L{item['layer']}.N{item['index']}.{'+' if item['sign'] > 0 else '-'}"
        item["raw"] = [texts[i] for i in top_raw]
        item["cosine"] = [texts[i] for i in top_cos]
        lines.append(f"## {n + 1}. {item['id']} ({item['band']})\n")
        lines.append("| rank | raw | cosine |\n| --- | --- | --- |")
        for r in range(args.k):
            a, b = item["raw"][r].replace("|", "\\|"), item["cosine"][r].replace("|", "\\|")
            lines.append(f"| {r + 1} | `{a}` | `{b}` |")
        lines.append("")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.name}_cards.md").write_text("\n".join(lines), encoding="utf-8")
    with open(OUT / f"{args.name}_lists.jsonl", "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} cards to {OUT}")


if __name__ == "__main__":
    main()
