"""Benchmark corpus runs on SmolLM2-135M against the bare forward pass over the same tokens.

Both are timed in the same run, interleaved chunk by chunk (bare forward of chunk c, then ours
on chunk c), so the ratio is fair on a shared machine:

* bare = ``model(input_ids, attention_mask, logits_to_keep=1)`` on the chunk's padded batch;
* ours = the same forward with the coefficient hooks of all 30 layers feeding the running
  state (top-n per sign by packed keys, fixed-point sums, fraction active, histogram), plus the
  checkpoint writes the run makes (after the first chunk, then when due: ``_Run.save_due``).

Then the whole run (``activations_to_dir``, the same tokens) is timed end to end, and the
Geva et al. (2020) agreement it wrote is printed per layer: the fraction of top contexts whose
next token is among the value vector's top-k tokens (same sign), with the shifted-neuron
baseline.

Usage: ``python benchmarks/bench_activations.py [--tokens 4096] [--chunk-tokens 1024]
[--json out.json]`` (about 5 minutes on 2 busy cores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch

from vocablens import load_model
from vocablens.activations.accumulate import EDGES
from vocablens.activations.chunks import chunks
from vocablens.activations.corpus import open_corpus
from vocablens.activations.distributed import Shard
from vocablens.activations.files import read_activations
from vocablens.activations.run import ActivationsConfig, _Run, activations_to_dir


def speed(lm, tokens: int, chunk_tokens: int, top_n: int) -> dict:
    """Interleaved bare forward vs ours, per chunk."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-acts-"))
    config = ActivationsConfig(model=lm, out=tmp, max_tokens=tokens, chunk_tokens=chunk_tokens,
                               top_n=top_n, progress=False)  # fmt: skip
    layers = list(range(lm.view.n_layers))
    run = _Run(config, lm, open_corpus(None), layers, Shard())
    states, _, _ = run.load()
    edges = torch.tensor(EDGES, dtype=torch.float32)
    bare = ours = save = 0.0
    n_tokens = padded = saves = 0
    try:
        with torch.inference_mode():
            for chunk in chunks(run.stream(), chunk_tokens, None, run.pad):
                kwargs = dict(input_ids=chunk.input_ids, attention_mask=chunk.attention_mask,
                              use_cache=False, logits_to_keep=1)  # fmt: skip
                t0 = time.perf_counter()
                lm.model(**kwargs)
                t1 = time.perf_counter()
                run.forward(chunk, states, edges)
                t2 = time.perf_counter()
                if run.save_due():
                    run.save(states, chunk.index + 1, n_tokens + len(chunk.select))
                    saves += 1
                t3 = time.perf_counter()
                bare, ours, save = bare + t1 - t0, ours + t2 - t1, save + t3 - t2
                n_tokens += len(chunk.select)
                padded += chunk.input_ids.numel()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"tokens": n_tokens, "padded_tokens": padded, "bare_s": bare, "ours_s": ours,
            "checkpoint_s": save, "checkpoints": saves, "ratio": (ours + save) / bare,
            "ratio_without_checkpoint": ours / bare}  # fmt: skip


def whole_run(lm, tokens: int, chunk_tokens: int, top_n: int, k: int) -> dict:
    """``activations_to_dir`` end to end, and its agreement table."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-acts-"))
    try:
        t0 = time.perf_counter()
        activations_to_dir(ActivationsConfig(model=lm, out=tmp / "acts", max_tokens=tokens,
                                             chunk_tokens=chunk_tokens, top_n=top_n,
                                             agree_k=k, progress=False))  # fmt: skip
        seconds = time.perf_counter() - t0
        found = read_activations(tmp / "acts")
        size = sum(p.stat().st_size for p in (tmp / "acts").iterdir())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table = found.agreement
    return {"seconds": seconds, "bytes": size, "agreement": table.to_dict(orient="records")}


def main() -> None:
    """Run the benchmark and print (and optionally save) the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--chunk-tokens", type=int, default=1024)
    parser.add_argument("--top-n", type=int, default=20)
    parser.add_argument("--k", type=int, default=10, help="value top-k of the agreement")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    lm = load_model("smollm2-135m")
    print(f"threads: {torch.get_num_threads()}")
    result = {"speed": speed(lm, args.tokens, args.chunk_tokens, args.top_n)}
    s = result["speed"]
    print(
        f"speed: {s['tokens']} tokens ({s['padded_tokens']} padded), bare forward "
        f"{s['bare_s']:.1f} s, ours {s['ours_s']:.1f} s + checkpoints {s['checkpoint_s']:.1f} s"
        f" ({s['checkpoints']} written): {s['ratio']:.2f}x ({s['ratio_without_checkpoint']:.2f}x without checkpoints)"
    )
    result["run"] = whole_run(lm, args.tokens, args.chunk_tokens, args.top_n, args.k)
    r = result["run"]
    print(f"whole run: {r['seconds']:.1f} s, {r['bytes'] / 1e6:.1f} MB written")
    print("layer  sign  contexts  agreement  baseline")
    for row in r["agreement"]:
        print(
            f"{row['layer']:5d}  {row['sign']:+4d}  {row['contexts']:8d}  {row['rate']:9.3f}"
            f"  {row['baseline']:8.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
