"""Benchmark the readouts (raw, cosine, csls) on SmolLM2-135M: speed and hubness.

Speed, as ratios against a floor timed in the same run, interleaved layer by layer (floor, raw,
cosine, csls for layer 0, then layer 1, ...): the floor is the bare float32 matmul
``(chunk, 576) @ (576, 49152)`` of the same 1024-row chunks into a reused buffer; each readout is
``Projector.ffn(layer, ["values"])`` under it. The one-time costs are reported apart: the readout
preparation, the untrained-token detection, and the CSLS hub statistic (one streamed pass over
all 46,080 value vectors).

Hubness, per readout, over the top-30 of both signs of all 46,080 value vectors (2,764,800
slots): the share of all slots held by the 100 tokens that occur most often (the hubs), the share
of vectors whose lists hold the most frequent token, and the top hubs with the share of vectors
whose promoted or suppressed top-30 they sit in. A per-token standardised cosine
(``(cos - mean_t) / std_t`` over all value vectors, the other hubness correction the issue names)
is measured alongside as ``zscore`` (benchmark only; not a library readout).

Usage: ``python benchmarks/bench_readouts.py [--layers N] [--json out.json]``
(about 8 minutes on 2 busy cores for all 30 layers).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

import torch

from vocablens import load_model
from vocablens.model.untrained import untrained_tokens
from vocablens.project.projector import Projector
from vocablens.project.readouts import READOUTS
from vocablens.project.topk import Readout, rows_per_block, vector_topk
from vocablens.tokens import token_strings

K = 30
BLOCK_MB = 192
N_HUBS = 100
SHOW = 12


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _zscore_readout(projector: Projector) -> Readout:
    """Per-token standardised cosine: mean and std of each token's cosine over all values."""
    cos_T = projector._cosine_columns("values").R_T  # (d_model, n_cols)
    total = torch.zeros(cos_T.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    n = 0
    for layer in range(projector.view.n_layers):
        unit = projector.unit_vectors("values", projector.view.mlp(layer).W_out)  # (d_mlp, d)
        cos = unit @ cos_T  # (d_mlp, n_cols)
        total += cos.sum(0).double()
        squares += cos.pow(2).sum(0).double()
        n += cos.shape[0]
    mean = total / n
    std = (squares / n - mean**2).clamp_min(1e-12).sqrt()
    R_T = (cos_T / std.float()[None, :]).contiguous()  # (d_model, n_cols)
    offset = (-mean / std).float()  # (n_cols,)
    offsets = torch.stack([offset, offset])  # (2, n_cols)
    mask = projector._mask_offsets(projector._cosine_columns("values"))  # untrained: never chosen
    return Readout(R_T, projector._scratch, offsets=offsets if mask is None else offsets + mask)


def _hubs(name: str, ids: list[torch.Tensor], n_vectors: int, tokenizer) -> dict:
    """Hub statistics of one readout from its (n, 2, k) token-id tables."""
    counts: Counter[int] = Counter()
    per_vector: Counter[int] = Counter()
    for table in ids:
        counts.update(table.reshape(-1).tolist())
        for row in table.reshape(table.shape[0], -1):  # (2 k,) one vector's slots
            per_vector.update(set(row.tolist()))
    slots = sum(counts.values())
    top = counts.most_common(N_HUBS)
    strings = token_strings(tokenizer, [token for token, _ in top[:SHOW]])
    return {
        "readout": name,
        "slots": slots,
        "distinct_tokens": len(counts),
        "top100_share": sum(count for _, count in top) / slots,
        "top_hubs": [
            {"token": s, "slot_share": counts[t] / slots, "vector_share": per_vector[t] / n_vectors}
            for (t, _), s in zip(top[:SHOW], strings, strict=True)
        ],
    }


def main() -> None:
    """Run the benchmark and print (and optionally save) the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=None, help="first N layers (default: all)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(2)
    lm = load_model("smollm2-135m")
    view = lm.view
    n_layers = args.layers or view.n_layers
    results: dict = {"threads": torch.get_num_threads(), "k": K, "layers": n_layers}
    results["untrained_s"], masked = _timed(lambda: untrained_tokens(view))
    results["untrained_tokens"] = len(masked)
    with torch.inference_mode():
        raw = Projector(lm, K, block_mb=BLOCK_MB)
        results["prep_raw_s"], _ = _timed(raw.write_readout)
        projectors = {name: raw.with_readout(name) for name in READOUTS}
        projectors["cosine"]._lazy("untrained", lambda: masked)
        results["prep_cosine_s"], _ = _timed(lambda: projectors["cosine"].vector_readout("values"))
        results["hub_pass_s"], _ = _timed(lambda: projectors["csls"].hub("values"))
        results["prep_zscore_s"], zscore = _timed(lambda: _zscore_readout(projectors["cosine"]))
        R_T = view.W_U.detach().T.contiguous()  # (d_model, vocab): the floor's operand
        rows = rows_per_block(R_T.shape[1], BLOCK_MB)
        buffer = torch.zeros(rows, R_T.shape[1])  # (rows, vocab)

        def floor(vectors):
            for start in range(0, vectors.shape[0], rows):
                chunk = vectors[start : start + rows]  # (c, d_model)
                torch.matmul(chunk, R_T, out=buffer[: chunk.shape[0]])  # (c, vocab)

        seconds = {name: 0.0 for name in ("floor", *READOUTS, "zscore")}
        ids: dict[str, list[torch.Tensor]] = {name: [] for name in (*READOUTS, "zscore")}
        cosine = projectors["cosine"]
        for layer in range(n_layers):
            vectors = view.mlp(layer).W_out.detach()  # (d_mlp, d_model)
            seconds["floor"] += _timed(lambda v=vectors: floor(v))[0]
            for name in READOUTS:
                wall, tables = _timed(lambda n=name, x=layer: projectors[n].ffn(x, ["values"]))
                seconds[name] += wall
                ids[name].append(tables[0].token_ids)
            wall, top = _timed(
                lambda v=vectors: vector_topk(cosine.unit_vectors("values", v), zscore, K)
            )
            seconds["zscore"] += wall
            ids["zscore"].append(cosine.vector_tokens[top.cols])
    n_vectors = n_layers * view.mlp(0).d_mlp
    results["vectors"] = n_vectors
    results["seconds"] = seconds
    results["ratio_to_floor"] = {
        name: seconds[name] / seconds["floor"] for name in (*READOUTS, "zscore")
    }
    results["hub_pass_ratio_to_floor"] = (
        results["hub_pass_s"] / seconds["floor"] * (n_layers / view.n_layers)
    )
    results["hubs"] = [_hubs(name, ids[name], n_vectors, lm.tokenizer) for name in ids]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
