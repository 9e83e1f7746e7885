"""Speed and memory of the full residual logit lens on the embedded model (SmolLM2-135M).

Prints tokens per second of the full lens (every resid layer, every position, top-k, entropy,
KL to final, next-token CE, target rank) against, measured in the same run:

(a) the bare forward pass (``model(input_ids)``, full logits), and
(b) the floor: the forward pass plus the unembedding matrix products of the same shapes that the
    lens performs (one ``(rows, d_model) @ (d_model, vocab)`` product per chunk).

and the peak memory above the loaded model for one 128-token prompt through every layer.

Usage: python benchmarks/bench_lens.py [--sequences 64] [--tokens 128] [--model smollm2-135m]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from vocablens import load_model
from vocablens.lens.logit_lens import Lens


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--sequences", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--top-k", type=int, default=10)
    args = parser.parse_args()

    loaded = load_model(args.model)
    view, model = loaded.view, loaded.model
    lens = Lens(loaded)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(100, view.vocab_size, (args.sequences, args.tokens), generator=gen)
    print(f"model {loaded.name}: {view.n_layers} layers, d_model {view.d_model}, "
          f"vocab {view.vocab_size}; threads {torch.get_num_threads()}")  # fmt: skip

    # Memory: one prompt through every layer, above the loaded model. The weights are memory-mapped
    # and only count in RSS once touched, so a 4-token forward pass comes first.
    with torch.inference_mode():
        model(ids[:1, :4])
    before = rss_mb()
    lens(ids[0].tolist(), k=args.top_k)
    print(f"peak memory above the loaded model, one {args.tokens}-token prompt, all layers: "
          f"{rss_mb() - before:.0f} MB (max RSS {rss_mb():.0f} MB)")  # fmt: skip

    n_tokens = ids.numel()
    prompts = [row.tolist() for row in ids]
    batch = lens.batch_size

    def forward() -> None:
        with torch.inference_mode():
            for start in range(0, len(ids), batch):
                model(ids[start : start + batch], use_cache=False)

    n_sites = view.n_layers + 1
    per_chunk = max(1, lens.chunk_tokens // n_sites)
    rows = per_chunk * n_sites
    n_products = -(-args.tokens // per_chunk) * args.sequences  # chunks never span prompts
    x = torch.randn(rows, view.d_model)
    W_U = view.W_U.detach()
    out = torch.empty(rows, view.vocab_size)  # the fastest bare product writes into a buffer

    def products() -> None:
        with torch.inference_mode():
            for _ in range(n_products):
                torch.matmul(x, W_U.T, out=out)  # (rows, vocab)

    t_forward = timed(forward)
    t_products = timed(products)
    t_lens = timed(lambda: lens(prompts, k=args.top_k))
    floor = t_forward + t_products
    print(f"{args.sequences} sequences x {args.tokens} tokens = {n_tokens} tokens")
    print(f"  bare forward        {t_forward:8.2f} s  {n_tokens / t_forward:10.0f} tok/s")
    print(f"  unembed products    {t_products:8.2f} s  ({n_products} x ({rows}, {view.d_model}) "
          f"@ ({view.d_model}, {view.vocab_size}))")  # fmt: skip
    print(f"  floor (fwd+unembed) {floor:8.2f} s  {n_tokens / floor:10.0f} tok/s")
    print(f"  full lens           {t_lens:8.2f} s  {n_tokens / t_lens:10.0f} tok/s")
    print(f"ratio lens / bare forward: {t_lens / t_forward:.2f}x")
    print(f"ratio lens / floor:        {t_lens / floor:.2f}x   (aim: <= 1.25x)")


if __name__ == "__main__":
    main()
