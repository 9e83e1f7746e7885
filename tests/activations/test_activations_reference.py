"""Corpus runs against a brute-force reference: the full tokens × neurons matrix, sorted.

The reference captures every coefficient of every token (a plain hook on the down projection,
named here per family), builds the top-n per neuron and sign by a full sort (value, then the
earlier global position), and the statistics in float64. Top-n must match exactly (positions and
values), mean / variance to float64 rounding, the fraction active exactly, and every quantile
estimate must lie in the bin of the exact quantile.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from act_helpers import SMALL, hooked_forward, model_dir, run, tables, write_corpus

from vocablens import load_model
from vocablens.activations.accumulate import EDGES, HIST_EVERY
from vocablens.activations.chunks import chunks, tokenized_documents, windows
from vocablens.activations.corpus import open_corpus
from vocablens.activations.tables import QUANTILE_COLUMNS, QUANTILES
from vocablens.model.families import module_at

DOWN = {"llama": "model.layers.{}.mlp.down_proj", "gpt2": "transformer.h.{}.mlp.c_proj",
        "opt": "model.decoder.layers.{}.fc2"}  # fmt: skip


def reference_matrix(lm, corpus, layer: int, **options) -> tuple[np.ndarray, np.ndarray]:
    """Every recorded token's coefficients ``(T, d_mlp)`` and global positions ``(T,)``."""
    module = module_at(lm.model, DOWN[lm.view.family.name].format(layer))
    rows, positions = [], []
    docs = tokenized_documents(open_corpus(corpus).documents(), lm.tokenizer)
    stream = windows(docs, options["seq_len"], options.get("max_tokens"))
    for chunk in chunks(stream, options["chunk_tokens"]):
        coefficients = hooked_forward(lm, chunk, module, lambda args, out: args[0], pre=True)
        flat = coefficients.reshape(chunk.input_ids.numel(), -1)  # (rows * pos, d_mlp)
        rows.append(flat[chunk.select].numpy())
        positions.append(chunk.positions.numpy())
    return np.concatenate(rows), np.concatenate(positions)


@pytest.mark.parametrize("family", ["llama", "gpt2", "opt"])
def test_top_n_and_statistics_match_brute_force(family, tmp_path):
    folder = model_dir(family, tmp_path / family)
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    run(str(folder), tmp_path / "out", corpus, agree_k=0)
    got = tables(tmp_path / "out")
    lm = load_model(str(folder))
    n = SMALL["top_n"]
    for layer in (0, 1):
        x, pos = reference_matrix(lm, corpus, layer, **SMALL)
        ctx = got["contexts"].query("layer == @layer")
        for sign in (1, -1):
            side = ctx.query("sign == @sign")
            for index in range(x.shape[1]):
                order = np.lexsort((pos, -sign * x[:, index]))[:n]  # value first, then position
                rows = side[side["index"] == index].sort_values("rank")
                assert rows["position"].tolist() == pos[order].tolist(), (layer, sign, index)
                assert np.array_equal(rows["activation"].to_numpy(), x[order, index])
        stats = got["stats"].query("layer == @layer").sort_values("index")
        x64 = x.astype(np.float64)
        assert (stats["count"] == len(x)).all()
        np.testing.assert_allclose(stats["mean"], x64.mean(0), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(stats["var"], x64.var(0), rtol=1e-6, atol=1e-10)
        np.testing.assert_array_equal(stats["frac_active"], (x > 0).mean(0))
        np.testing.assert_array_equal(stats["max"], x.max(0))
        np.testing.assert_array_equal(stats["min"], x.min(0))
        sample = x64[pos % HIST_EVERY == 0]  # the histograms' fixed subsample
        for q, name in zip(QUANTILES, QUANTILE_COLUMNS, strict=True):
            exact = np.quantile(sample, q, axis=0, method="inverted_cdf")
            b = np.searchsorted(EDGES, exact, side="right")  # the exact quantile's bin
            low = np.where(b > 0, EDGES[np.maximum(b - 1, 0)], x.min(0))
            high = np.where(b < len(EDGES), EDGES[np.minimum(b, len(EDGES) - 1)], x.max(0))
            est = stats[name].to_numpy()
            assert (est >= np.minimum(low, exact) - 1e-12).all() and (est <= high + 1e-12).all()
    if family == "opt":  # ReLU: exact zeros, so the tie-break by position is exercised
        assert (got["contexts"]["activation"] == 0).any()


def test_contexts_are_the_tokens_the_model_saw(tmp_path):
    """The top token, its prefix and next token come from the right document and place."""
    folder = model_dir("llama", tmp_path / "llama")
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    run(str(folder), tmp_path / "out", corpus, agree_k=0)
    ctx = tables(tmp_path / "out")["contexts"]
    docs = [text.split() for text in open_corpus(corpus).documents()]
    lm = load_model(str(folder))
    for row in ctx.sample(40, random_state=0).itertuples():
        words = docs[row.doc]
        assert row.token == words[row.doc_position]
        nxt = words[row.doc_position + 1] if row.doc_position + 1 < len(words) else ""
        assert row.next_token == nxt
        start = row.doc_position // SMALL["seq_len"] * SMALL["seq_len"]  # its window
        shown = words[max(start, row.doc_position - SMALL["context"]) : row.doc_position]
        assert row.prefix == " ".join(shown)
        # the activation, recomputed from the window alone in float64
        ids = lm.tokenizer(" ".join(words[start : row.doc_position + 1]),
                           add_special_tokens=False, return_tensors="pt")["input_ids"]  # fmt: skip
        seen = []
        module = module_at(lm.model, DOWN["llama"].format(row.layer))
        model64 = lm.model.double()
        handle = module.register_forward_pre_hook(lambda m, args, seen=seen: seen.append(args[0]))
        try:
            with torch.inference_mode():
                model64(input_ids=ids, use_cache=False)
        finally:
            handle.remove()
            lm.model.float()
        assert seen[0][0, -1, row.index].item() == pytest.approx(row.activation, abs=1e-5)


def test_max_tokens_and_layers(tmp_path):
    folder = model_dir("gpt2", tmp_path / "gpt2")
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    run(str(folder), tmp_path / "out", corpus, max_tokens=100, layers="1", agree_k=3)
    got = tables(tmp_path / "out")
    assert (got["stats"]["count"] == 100).all()
    assert set(got["stats"]["layer"]) == {1} and set(got["contexts"]["layer"]) == {1}
    assert got["contexts"]["position"].max() < 100
    agreement = got["agreement"]
    assert list(agreement["sign"]) == [1, -1] and (agreement["k"] == 3).all()
    assert agreement["rate"].between(0, 1).all()
