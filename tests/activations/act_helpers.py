"""Shared pieces of the activations tests: tiny model folders, corpora, runs, comparisons."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from vocablens.activations.files import read_activations
from vocablens.activations.run import ActivationsConfig, activations_to_dir

from tiny_models import VOCAB, tiny_model
from tiny_tokenizer import save_tiny, tiny_tokenizer

#: Small chunks and windows, so that a 40-document corpus spans many chunks and windows.
SMALL = dict(chunk_tokens=64, seq_len=16, top_n=5, context=8, progress=False)


def model_dir(family: str, folder: Path, seed: int = 0) -> Path:
    """A tiny random model of ``family`` with a word-level tokenizer (words ``w4 …``)."""
    model, _ = tiny_model(family, seed)
    save_tiny(model, tiny_tokenizer(VOCAB[family]), folder)
    return folder


def write_corpus(path: Path, n_docs: int = 40, seed: int = 0, vocab: int = 88) -> Path:
    """A JSONL corpus of ``n_docs`` documents of 1..30 random words."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(n_docs):
            words = [f"w{rng.randint(4, vocab - 1)}" for _ in range(rng.randint(1, 30))]
            handle.write(json.dumps({"text": " ".join(words)}) + "\n")
    return path


def run(model, out: Path, corpus: Path, **options) -> Path:
    """One corpus run with :data:`SMALL` options (overridden by ``options``)."""
    return activations_to_dir(
        ActivationsConfig(model=model, out=out, corpus=corpus, **{**SMALL, **options})
    )


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Every result table of a run folder."""
    found = read_activations(folder)
    return {"stats": found.stats, "contexts": found.contexts, "agreement": found.agreement}


def assert_same_run(a: Path, b: Path) -> None:
    """Two run folders hold identical tables (bit for bit)."""
    ta, tb = tables(a), tables(b)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True)


def hooked_forward(lm: Any, chunk: Any, module: Any, grab: Any, pre: bool = False) -> Any:
    """What ``grab(args, output)`` takes from ``module`` in one forward pass of ``chunk``.

    ``pre``: a pre-hook (``output`` is None). The hook is removed whatever happens.
    """
    seen: list[Any] = []
    if pre:
        handle = module.register_forward_pre_hook(lambda m, args: seen.append(grab(args, None)))
    else:
        handle = module.register_forward_hook(lambda m, args, out: seen.append(grab(args, out)))
    try:
        with torch.inference_mode():
            lm.model(input_ids=chunk.input_ids, attention_mask=chunk.attention_mask,
                     use_cache=False)  # fmt: skip
    finally:
        handle.remove()
    return seen[0]
