"""Speed of the full residual logit lens against its floor, on random ids and on real text.

The floor, measured in the same run: the bare forward pass (``model(input_ids)``) plus the
unembedding matrix products of the same shapes that the lens performs (one
``(rows, d_model) @ (d_model, vocab)`` product per chunk, into a reused buffer). Everything the
lens does beyond that (capture, statistics, copying out) is its overhead.

Two configurations over every ``resid`` site (31 for SmolLM2): "top-1 + KL"
(``k=1, stats=("top", "kl")``, as in the issue) and the default, all statistics with top-10.
Two corpora: random token ids, and real English text (the glosses of Debian's WordNet noun file
``/usr/share/wordnet/data.noun``, or ``examples/prompts.txt`` where it is missing) cut into
sequences of the same length.

The machine is shared and noisy, so floor and lens are timed interleaved, batch by batch, for
``--repeat`` rounds; the ratio is reported per round (median and best) with wall and CPU time.

Usage: python benchmarks/bench_lens.py [--sequences 8] [--tokens 128] [--repeat 2]
"""

from __future__ import annotations

import argparse
import inspect
import re
import resource
import statistics
import time
from pathlib import Path

import torch

from vocablens import load_model
from vocablens.lens.logit_lens import Lens

WORDNET = Path("/usr/share/wordnet/data.noun")
PROMPTS = Path(__file__).resolve().parent.parent / "examples" / "prompts.txt"
CONFIGS = {"top-1 + KL": {"k": 1, "stats": ("top", "kl")}, "all stats, top-10": {"k": 10}}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def real_text() -> str:
    """English text that is on the machine: WordNet glosses, else the example prompts."""
    if WORDNET.exists():
        glosses = []
        for line in WORDNET.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.startswith(" ") and " | " in line:
                glosses.append(line.split(" | ", 1)[1].strip())
        return " ".join(re.sub(r"\s+", " ", g) for g in glosses[:20000])
    lines = [ln for ln in PROMPTS.read_text().splitlines() if ln and not ln.startswith("#")]
    return " ".join(lines * 200)


def corpora(loaded, sequences: int, tokens: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    random_ids = torch.randint(100, loaded.view.vocab_size, (sequences, tokens), generator=gen)
    ids = loaded.tokenizer(real_text())["input_ids"][: sequences * tokens]
    assert len(ids) == sequences * tokens, "not enough real text"
    return {"random ids": random_ids, "real text": torch.tensor(ids).view(sequences, tokens)}


def timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--sequences", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    loaded = load_model(args.model)
    view, model = loaded.view, loaded.model
    lens = Lens(loaded)
    print(f"model {loaded.name}: {view.n_layers} layers, d_model {view.d_model}, "
          f"vocab {view.vocab_size}; threads {torch.get_num_threads()}")  # fmt: skip
    data = corpora(loaded, args.sequences, args.tokens)
    if "stats" not in inspect.signature(Lens.__call__).parameters:  # an older lens: all stats
        for kwargs in CONFIGS.values():
            kwargs.pop("stats", None)

    # Memory: one prompt through every layer, above the loaded model. The weights are memory-mapped
    # and only count in RSS once touched, so a 4-token forward pass comes first.
    first = data["real text"][0]
    with torch.inference_mode():
        model(first[None, :4])
    before = rss_mb()
    lens(first.tolist())
    print(f"peak memory above the loaded model, one {args.tokens}-token prompt, all layers, "
          f"all statistics: {rss_mb() - before:.0f} MB")  # fmt: skip

    n_sites = view.n_layers + 1
    per_chunk = max(1, lens.chunk_tokens // n_sites)
    rows = per_chunk * n_sites
    x = torch.randn(rows, view.d_model)
    W_U = view.W_U.detach()
    out = torch.empty(rows, view.vocab_size)  # the fastest bare product writes into a buffer

    def floor(batch: torch.Tensor) -> None:
        with torch.inference_mode():
            model(batch, use_cache=False)
            for _ in range(-(-batch.numel() // per_chunk)):  # the lens's chunk count
                torch.matmul(x, W_U.T, out=out)  # (rows, vocab)

    n_tokens = args.sequences * args.tokens
    print(f"{args.sequences} sequences x {args.tokens} tokens = {n_tokens} tokens per corpus, "
          f"{n_sites} resid sites, chunks of {per_chunk} positions ({rows} rows); "
          f"{args.repeat} interleaved rounds")  # fmt: skip
    for corpus, ids in data.items():
        prompts = [row.tolist() for row in ids]
        rounds: list[dict[str, tuple[float, float]]] = []
        for _ in range(args.repeat):
            totals = {name: (0.0, 0.0) for name in ["floor", *CONFIGS]}
            for start in range(0, len(prompts), lens.batch_size):
                batch = ids[start : start + lens.batch_size]
                runs = {"floor": lambda b=batch: floor(b)}
                for name, kwargs in CONFIGS.items():
                    part = prompts[start : start + lens.batch_size]
                    runs[name] = lambda p=part, kw=kwargs: lens(p, **kw)
                for name, fn in runs.items():
                    wall, cpu = timed(fn)
                    totals[name] = (totals[name][0] + wall, totals[name][1] + cpu)
            rounds.append(totals)
        print(f"\n{corpus}:")
        floor_walls = [r["floor"][0] for r in rounds]
        print(f"  floor (fwd + unembed)   best {n_tokens / min(floor_walls):6.1f} tok/s")
        for name in CONFIGS:
            ratio = [r[name][0] / r["floor"][0] for r in rounds]
            cpu_ratio = [r[name][1] / r["floor"][1] for r in rounds]
            best = min(r[name][0] for r in rounds)
            print(f"  lens, {name:18s} best {n_tokens / best:6.1f} tok/s   lens / floor: "
                  f"median {statistics.median(ratio):.3f}, best {min(ratio):.3f} (wall); "
                  f"median {statistics.median(cpu_ratio):.3f} (CPU time)")  # fmt: skip


if __name__ == "__main__":
    main()
