"""Benchmark parameter projections on SmolLM2-135M against a matmul floor measured in the same run.

Timings on a shared machine are noisy, so every number is a ratio against a floor timed in the
same run, interleaved layer by layer (floor, ours, naive for layer 0, then layer 1, ...):

* FFN value projection, 30 x 1536 vectors, both signs, vocab 49152, k=30:
  floor = the bare float32 matmul ``(chunk, d_model) @ (d_model, vocab)`` of the same chunks into
  a reused buffer; ours = :meth:`Projector.ffn`; naive = a layer's full logits, then
  ``topk`` largest and smallest (on every third layer, against the floor of those layers).
* Peak memory above the loaded model (``VmHWM`` after resetting it, Linux) for the whole
  projection including ``to_pandas()``, for 3 and for 10 layers (4608 and 15360 vectors).
* The same value-projection ratio on one thread in CPU time (3 layers): less sensitive to
  other processes competing for the two cores.
* OV / QK circuits per head (all tokens, and whole-word tokens only): ours = ``pair_topk`` vs the
  matmul floor of the same shapes and FLOPs, and the whole-model estimate.

Usage: ``python benchmarks/bench_project.py [--heads 1] [--parts memory,values,circuits]
[--json out.json]`` (3 to 5 minutes on 2 cores, longer when other processes compete).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import torch

from vocablens import load_model
from vocablens.model.tokenizer import whole_word_tokens
from vocablens.project import circuits
from vocablens.project.projector import Projector, project
from vocablens.project.topk import pair_topk, rows_per_block

K = 30
BLOCK_MB = 192
NAIVE_EVERY = 3


def _status() -> dict[str, int]:
    text = Path("/proc/self/status").read_text()
    return {
        key: int(re.search(rf"{key}:\s+(\d+)", text).group(1)) * 1024 for key in ("VmRSS", "VmHWM")
    }


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def memory_child(n_layers: int) -> None:
    """In a fresh process: peak RSS above the loaded model for ``n_layers`` layers of values."""
    lm = load_model("smollm2-135m")
    base = _status()["VmRSS"]
    _reset_peak()
    with torch.inference_mode():
        frame = project(lm, "values", layers=range(n_layers), k=K, block_mb=BLOCK_MB).to_pandas()
    peak = (_status()["VmHWM"] - base) / 2**20
    print(json.dumps({"layers": n_layers, "rows": len(frame), "peak_above_model_mb": peak}))


def memory() -> dict[str, float]:
    """Peak RSS above the model for 3 and 10 layers of values (4608, 15360 vectors).

    Each in a fresh process (a process's earlier allocations would hide the peak).
    """
    out = {}
    for n_layers in (3, 10):
        command = [sys.executable, __file__, "--memory-child", str(n_layers)]
        lines = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        result = json.loads(lines.strip().splitlines()[-1])
        out[f"peak_above_model_mb_{n_layers}_layers"] = result["peak_above_model_mb"]
        out[f"rows_{n_layers}_layers"] = result["rows"]
    return out


def values(lm, n_layers: int | None = None) -> dict[str, float]:
    """Interleaved per-layer timings of floor, ours and naive for the FFN value projection."""
    view = lm.view
    n_layers = n_layers or view.n_layers
    projector = Projector(lm, K, block_mb=BLOCK_MB)
    prep_wall, prep_cpu = _timed(projector.write_readout)
    R_T = view.W_U.detach().T.contiguous()  # (d_model, vocab): the floor's operand
    rows = rows_per_block(R_T.shape[1], BLOCK_MB)
    buffer = torch.zeros(rows, R_T.shape[1])  # (rows, vocab), touched: no page faults

    def floor(vectors):
        for start in range(0, vectors.shape[0], rows):
            chunk = vectors[start : start + rows]  # (c, d_model)
            torch.matmul(chunk, R_T, out=buffer[: chunk.shape[0]])  # (c, vocab)

    def naive(vectors):
        logits = vectors @ R_T  # (d_mlp, vocab): a whole layer at once
        logits.topk(K, dim=1)
        logits.topk(K, dim=1, largest=False)

    totals = {name: [0.0, 0.0] for name in ("floor", "ours", "naive", "floor_naive")}
    per_layer = []
    for layer in range(n_layers):
        vectors = view.mlp(layer).W_out.detach()  # (d_mlp, d_model)
        times = {
            "floor": _timed(partial(floor, vectors)),
            "ours": _timed(partial(projector.ffn, layer, ["values"])),
        }
        if layer % NAIVE_EVERY == 0:  # the naive way on every third layer, vs the same floor
            times["naive"] = _timed(partial(naive, vectors))
            times["floor_naive"] = times["floor"]
        for name, (wall, cpu) in times.items():
            totals[name][0] += wall
            totals[name][1] += cpu
        per_layer.append(times["ours"][0] / times["floor"][0])
    totals["ours"][0] += prep_wall
    totals["ours"][1] += prep_cpu
    (floor_wall, floor_cpu), (ours_wall, ours_cpu) = totals["floor"], totals["ours"]
    (naive_wall, naive_cpu), (floor_n_wall, floor_n_cpu) = totals["naive"], totals["floor_naive"]
    return {
        "vectors": n_layers * view.mlp(0).d_mlp,
        "floor_s": floor_wall,
        "ours_s": ours_wall,
        "readout_prep_s": prep_wall,
        "ours_ratio": ours_wall / floor_wall,
        "ours_ratio_median_layer": statistics.median(per_layer),
        "ours_ratio_cpu": ours_cpu / floor_cpu,
        "naive_ratio": naive_wall / floor_n_wall,
        "naive_ratio_cpu": naive_cpu / floor_n_cpu,
    }


def circuits_bench(lm, heads: int) -> dict[str, dict[str, float]]:
    """Per-head OV and QK time vs the matmul floor of the same shapes, all tokens and words."""
    view = lm.view
    attn = view.attention(view.n_layers // 2)
    results = {}
    for label, tokens in (("all", None), ("words", whole_word_tokens(lm.tokenizer))):
        projector = Projector(lm, K, tokens=tokens, src_tokens=tokens, block_mb=128)
        src, keys = projector._inputs("src_tokens"), projector._inputs("tokens")
        readout_T = projector.write_readout().R_T[:, : len(projector.tokens)]
        totals = {"floor_ov": 0.0, "ov": 0.0, "floor_qk": 0.0, "qk": 0.0}
        for head in range(heads):
            left, right = circuits.ov_factors(attn, head, src, readout_T)
            rows = rows_per_block(right.shape[1], 128)
            buffer = torch.zeros(rows, right.shape[1])  # touched: no page faults in the floor

            def floor(left=left, right=right, rows=rows, buffer=buffer):
                for start in range(0, left.shape[0], rows):
                    part = left[start : start + rows]  # (b, d_head)
                    torch.matmul(part, right, out=buffer[: part.shape[0]])  # (b, n_tokens)

            q_left, q_right = circuits.qk_factors(attn, head, src, keys)
            scratch = projector._scratch  # reused like in Projector.ov / Projector.qk
            ov = partial(pair_topk, left, right, K, col_max=True, scratch=scratch)
            qk = partial(pair_topk, q_left, q_right, K, scratch=scratch)
            totals["floor_ov"] += _timed(floor)[0]  # floor, ov, floor, qk: interleaved
            totals["ov"] += _timed(ov)[0]
            totals["floor_qk"] += _timed(floor)[0]
            totals["qk"] += _timed(qk)[0]
        n_heads_model = view.n_layers * view.n_heads
        per_head = {name: value / heads for name, value in totals.items()}
        results[label] = {
            "tokens": len(projector.tokens),
            "floor_per_head_s": (per_head["floor_ov"] + per_head["floor_qk"]) / 2,
            "ov_per_head_s": per_head["ov"],
            "qk_per_head_s": per_head["qk"],
            "ov_ratio": per_head["ov"] / per_head["floor_ov"],
            "qk_ratio": per_head["qk"] / per_head["floor_qk"],
            "whole_model_ov_plus_qk_min": n_heads_model * (per_head["ov"] + per_head["qk"]) / 60,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", type=int, default=1, help="heads timed per circuit")
    parser.add_argument("--parts", default="memory,values,circuits", help="what to run")
    parser.add_argument("--json", default=None, help="also write the numbers here")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child)
        return
    parts = args.parts.split(",")
    torch.manual_seed(0)
    report: dict = {"threads": torch.get_num_threads(), "k": K, "block_mb": BLOCK_MB}
    if "memory" in parts:
        report["memory"] = memory()
        print(json.dumps(report, indent=2), flush=True)
    lm = load_model("smollm2-135m")
    with torch.inference_mode():
        if "values" in parts:
            report["values"] = values(lm)
            print(json.dumps(report["values"], indent=2), flush=True)
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            report["values_1_thread_3_layers"] = values(lm, n_layers=3)
            torch.set_num_threads(threads)
            print(json.dumps(report["values_1_thread_3_layers"], indent=2), flush=True)
        if "circuits" in parts:
            report["circuits"] = circuits_bench(lm, args.heads)
            print(json.dumps(report["circuits"], indent=2), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
