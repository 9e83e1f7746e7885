"""Causal tracing on SmolLM2 (Meng et al. 2022's per-layer figure), on the facts it knows.

Measures which of :data:`vocablens.intervene.facts.FACTS` SmolLM2 gets right, traces the first
``--prompts`` of them at the last subject token and the last token (``positions="summary"``,
window 10, noise 3x, ``--seeds`` draws) and one full heatmap, then prints the average indirect
effect per layer and writes the traces (pickle) for the report page.

Usage: python benchmarks/bench_trace.py [--prompts 12] [--seeds 2] [--out trace.pkl]
"""

from __future__ import annotations

import argparse
import pickle
import time

import numpy as np
import torch

from vocablens import load_model
from vocablens.intervene.facts import FACTS, known_facts
from vocablens.intervene.tracing import summarize, trace


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="trace_smollm2.pkl")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)  # 2 shared cores: one thread is faster than two
    lm = load_model("smollm2-135m")
    t0 = time.perf_counter()
    known = known_facts(lm, FACTS)
    print(f"known facts: {len(known)} of {len(FACTS)} ({time.perf_counter() - t0:.1f} s)")
    seeds = tuple(range(args.seeds))
    t0 = time.perf_counter()
    traces = [
        trace(lm, p, s, seeds=seeds, positions="summary") for p, s, _ in known[: args.prompts]
    ]
    took = time.perf_counter() - t0
    summary = summarize(traces)
    print(f"{len(traces)} prompts x {len(seeds)} seeds, summary positions: {took:.0f} s")
    print(f"mean p_clean {summary.mean_clean:.3f}, mean p_corrupt {summary.mean_corrupt:.3f}")
    for k, kind in enumerate(summary.kinds):
        for name, grid in (
            ("last subject", summary.last_subject),
            ("last token", summary.last_token),
        ):
            row = grid[k]
            print(f"{kind:8} {name:12} peak {row.max():.3f} at layer {int(row.argmax())}: "
                  + " ".join(f"{v:.2f}" for v in row))  # fmt: skip
    t0 = time.perf_counter()
    full = trace(lm, *known[0][:2], seeds=seeds[:1])
    print(f"full heatmap of {known[0][0]!r}: {time.perf_counter() - t0:.0f} s")
    for kind, (layer, pos, tokens) in full.promoted.items():
        print(f"  best {kind}: layer {layer} pos {pos} ({full.tokens[pos]!r}) promotes {tokens}")
    with open(args.out, "wb") as f:
        pickle.dump({"traces": traces, "full": full, "summary": summary}, f)
    print("wrote", args.out, np.round(summary.last_subject.max(axis=1), 3))


if __name__ == "__main__":
    main()
