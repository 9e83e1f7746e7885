"""Speed of ``explain`` (direct logit attribution of one prediction) against the bare forward pass.

The floor, measured in the same run, interleaved prompt by prompt: the bare forward pass of the
same prompt (``model(input_ids, attention_mask, use_cache=False)``, the call ``explain`` makes,
without hooks). Timed per prompt: the forward pass with the recording hooks only, ``explain``
without the Geva value ranks (``geva_top=0``: heads, neurons, biases, sums) and with them
(``geva_top=10``, the default: 10 value vectors per layer projected onto the vocabulary).

Prompts: the report's eight example prompts (5-12 tokens) and a 128-token stretch of English
text (Debian WordNet's noun glosses, or the example prompts where WordNet is missing).

Usage: python benchmarks/bench_explain.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from bench_lens import real_text
from vocablens import load_model
from vocablens.explain import explain
from vocablens.explain.attribution import _forward
from vocablens.reports.prompts import default_prompts


def bare(lm, ids: list[int]) -> None:
    input_ids = torch.tensor([ids])
    with torch.inference_mode():
        lm.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), use_cache=False)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lm = load_model("smollm2-135m")
    long = lm.tokenizer.decode(lm.tokenizer(real_text())["input_ids"][:128])
    sets = {"example prompts (5-12 tokens)": default_prompts(), "128-token text": [long]}
    explain(lm, "warm up", geva_top=10)
    print(f"torch threads: {torch.get_num_threads()}")
    for name, prompts in sets.items():
        ids = [lm.tokenizer(p)["input_ids"] for p in prompts]
        rows: dict[str, list[float]] = {"hooks only": [], "explain, geva_top=0": [],
                                        "explain, geva_top=10": []}  # fmt: skip
        floors = []
        for _ in range(args.repeat):
            for prompt, tokens in zip(prompts, ids, strict=True):
                floor = timed(lambda t=tokens: bare(lm, t))
                floors.append(floor)
                rows["hooks only"].append(
                    timed(lambda t=tokens: _forward(lm, t, len(t) - 1)) / floor
                )
                for top in (0, 10):
                    seconds = timed(lambda p=prompt, g=top: explain(lm, p, geva_top=g))
                    rows[f"explain, geva_top={top}"].append(seconds / floor)
        print(f"\n{name}: bare forward median {statistics.median(floors) * 1000:.0f} ms")
        for label, ratios in rows.items():
            print(f"  {label:22s} / forward: median {statistics.median(ratios):.2f}, "
                  f"best {min(ratios):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
