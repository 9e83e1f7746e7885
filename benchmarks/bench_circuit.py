"""Circuits of SmolLM2 by node ablation, and their overlap (Merullo et al. 2024's comparison).

Measures how well SmolLM2 solves each task (all generated examples), then searches each task's
circuit on the examples it gets right (coarse-to-fine, mean ablation), times it, and compares
the IOI and Colored Objects circuits. Writes the circuits (pickle) for the report pages.

Usage: python benchmarks/bench_circuit.py [--tasks ioi,colored-objects,greater-than]
       [--examples 12] [--threshold 0.05] [--out circuits.pkl]
"""

from __future__ import annotations

import argparse
import pickle
import time

import torch

from vocablens import load_model
from vocablens.intervene.circuit import _Evaluator, find_circuit
from vocablens.intervene.overlap import compare_circuits
from vocablens.intervene.tasks import make_task


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", default="ioi,colored-objects,greater-than")
    parser.add_argument("--examples", type=int, default=12)
    parser.add_argument("--threshold", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="circuits_smollm2.pkl")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lm = load_model("smollm2-135m")
    circuits = {}
    for name in args.tasks.split(","):
        task = make_task(name, lm.tokenizer, n=48)
        probe = _Evaluator(lm, task, "zero", [])
        logits = probe.logits([])
        acc = float(task.correct(logits).float().mean())
        metric = float(task.metric(logits).mean())
        print(f"{name}: {len(task.ids)} examples of {len(task.ids[0])} tokens, "
              f"accuracy {acc:.3f}, mean metric {metric:.3f}", flush=True)  # fmt: skip
        t0 = time.perf_counter()
        circuit = find_circuit(lm, task, threshold=args.threshold, max_examples=args.examples)
        print(circuit.summary(), f"(total {time.perf_counter() - t0:.0f} s)", flush=True)
        for spec, r in list(circuit.readings.items())[:12]:
            print(f"  {spec}: OV promotes {r.ov_promoted}, top OV {r.ov_pairs[:2]}, "
                  f"top QK {r.qk_pairs[:2]}")  # fmt: skip
        circuits[name] = circuit
        with open(args.out, "wb") as f:
            pickle.dump(circuits, f)
    names = list(circuits)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            print(compare_circuits(circuits[a], circuits[b]).summary())
    print("wrote", args.out)


if __name__ == "__main__":
    main()
