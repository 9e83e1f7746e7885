"""Corpus runs of mixture-of-experts models: one state per expert, over the tokens routed to it.

The reference reads the router's choice where the model makes it (a forward hook on each MoE
block's router, ``mlp.gate``: its input states and its top-k experts and weights), then loops
over the tokens in float64 with numpy: for every routed (token, expert) the coefficients
``w * silu(W_gate[e] x) * (W_up[e] x)`` by hand from the fused ``gate_up_proj`` parameter. Top-n
and statistics of each expert's neurons must match that, ``count`` must be the tokens routed to
the expert; a resumed run and a two-shard run must equal one uninterrupted run bit for bit.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import pytest
import torch
from act_helpers import (
    SMALL,
    assert_same_run,
    hooked_forward,
    model_dir,
    run,
    tables,
    write_corpus,
)
from click.testing import CliRunner

import vocablens.activations.run as activations_run
from vocablens import load_model
from vocablens.activations.accumulate import EDGES, HIST_EVERY
from vocablens.activations.chunks import chunks, tokenized_documents, windows
from vocablens.activations.corpus import open_corpus
from vocablens.activations.distributed import Shard
from vocablens.activations.run import ActivationsConfig, _Run
from vocablens.activations.tables import QUANTILE_COLUMNS, QUANTILES, stats_frame, top_rows
from vocablens.cli import main
from vocablens.model.components import routing_groups
from vocablens.reports import generate_report

from tiny_models import VOCAB, single_thread


def _silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def reference(lm, corpus, layer: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per expert: the routed tokens' coefficients ``(n_routed, d_mlp)`` float64, positions."""
    mlp = lm.model.model.layers[layer].mlp
    fused = mlp.experts.gate_up_proj.detach().double().numpy()  # (E, 2 * d_mlp, d_model)
    d_mlp = fused.shape[1] // 2
    found: dict[int, tuple[list, list]] = {e: ([], []) for e in range(fused.shape[0])}
    docs = tokenized_documents(open_corpus(corpus).documents(), lm.tokenizer)
    for chunk in chunks(windows(docs, SMALL["seq_len"], None), SMALL["chunk_tokens"]):
        routed = hooked_forward(lm, chunk, mlp.gate, lambda args, out: (args[0], out[1], out[2]))
        states, weights, experts = (t.reshape(chunk.input_ids.numel(), -1) for t in routed)
        for row, position in zip(chunk.select.tolist(), chunk.positions.tolist(), strict=True):
            x = states[row].double().numpy()  # (d_model,)
            for slot in range(experts.shape[1]):
                e = int(experts[row, slot])
                gate, up = fused[e, :d_mlp] @ x, fused[e, d_mlp:] @ x  # (d_mlp,) each
                found[e][0].append(float(weights[row, slot]) * _silu(gate) * up)
                found[e][1].append(position)
    return {e: (np.array(rows), np.array(pos)) for e, (rows, pos) in found.items()}


@pytest.fixture(scope="module")
def mixtral(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("moe")
    folder = model_dir("mixtral", tmp / "mixtral")
    corpus = write_corpus(tmp / "corpus.jsonl", n_docs=30, vocab=VOCAB["mixtral"])
    with single_thread():  # module fixtures run before the one-thread fixture
        reference = run(str(folder), tmp / "reference", corpus, agree_k=3)
    return tmp, folder, corpus, reference


@pytest.mark.parametrize("family", ["mixtral", "qwen3-moe"])
def test_each_expert_matches_a_float64_reference(family, tmp_path, request):
    if family == "mixtral":  # the module's run
        _, folder, corpus, out = request.getfixturevalue("mixtral")
    else:
        folder = model_dir(family, tmp_path / family)
        corpus = write_corpus(tmp_path / "corpus.jsonl", n_docs=30, vocab=VOCAB[family])
        out = run(str(folder), tmp_path / "out", corpus, agree_k=0)
    got = tables(out)
    lm = load_model(str(folder))
    tokens = json.loads((out / "manifest.json").read_text())["tokens"]
    n = SMALL["top_n"]
    moe_layers = [1] if family == "qwen3-moe" else [0, 1]
    if family == "qwen3-moe":  # layer 0 is dense: one state over every token
        dense = got["stats"].query("layer == 0")
        assert set(dense["expert"]) == {-1} and (dense["count"] == tokens).all()
    for layer in moe_layers:
        expected = reference(lm, corpus, layer)
        stats_here = got["stats"].query("layer == @layer")
        assert set(stats_here["expert"]) == set(expected)
        assert stats_here.groupby("expert")["count"].first().sum() == 2 * tokens  # top-2
        for e, (x, pos) in expected.items():
            ctx = got["contexts"].query("layer == @layer and expert == @e")
            row_of = {int(p): i for i, p in enumerate(pos)}  # a position reaches an expert once
            for sign in (1, -1):
                side = ctx.query("sign == @sign")
                for index in range(x.shape[1]):
                    order = np.lexsort((pos, -sign * x[:, index]))[:n]
                    rows = side[side["index"] == index].sort_values("rank")
                    np.testing.assert_allclose(rows["activation"], x[order, index],
                                               rtol=1e-5, atol=1e-7)  # fmt: skip
                    # the positions carry the top-n values; tokens whose states are equal in
                    # float32 tie there and may come in another order than float64's last bits
                    mine = x[[row_of[int(p)] for p in rows["position"]], index]  # (n,)
                    np.testing.assert_allclose(mine, x[order, index], rtol=1e-5, atol=1e-7,
                                               err_msg=str((layer, e, index)))  # fmt: skip
            stats = stats_here.query("expert == @e").sort_values("index")
            assert (stats["count"] == len(x)).all()  # the tokens routed to this expert
            np.testing.assert_allclose(stats["mean"], x.mean(0), rtol=1e-5, atol=1e-8)
            np.testing.assert_allclose(stats["var"], x.var(0), rtol=1e-4, atol=1e-10)
            np.testing.assert_array_equal(stats["frac_active"], (x > 0).mean(0))
            np.testing.assert_allclose(stats["max"], x.max(0), rtol=1e-5, atol=1e-8)
            np.testing.assert_allclose(stats["min"], x.min(0), rtol=1e-5, atol=1e-8)
            sample = x[pos % HIST_EVERY == 0]  # the histograms' subsample of routed tokens
            for q, name in zip(QUANTILES, QUANTILE_COLUMNS, strict=True):
                exact = np.quantile(sample, q, axis=0, method="inverted_cdf")
                b = np.searchsorted(EDGES, exact, side="right")
                low = np.where(b > 0, EDGES[np.maximum(b - 1, 0)], x.min(0))
                high = np.where(b < len(EDGES), EDGES[np.minimum(b, len(EDGES) - 1)], x.max(0))
                est = stats[name].to_numpy()
                assert (est >= np.minimum(low, exact) - 1e-6).all(), (layer, e, name)
                assert (est <= high + 1e-6).all(), (layer, e, name)


def test_a_run_stopped_mid_way_resumes_to_identical_results(mixtral, monkeypatch):
    tmp, folder, corpus, reference = mixtral
    out = tmp / "stopped"

    def stop(index: int) -> None:
        if index == 3:
            raise KeyboardInterrupt  # the process dies after chunk 3's checkpoint

    monkeypatch.setattr(activations_run, "after_chunk", stop)
    with pytest.raises(KeyboardInterrupt):
        run(str(folder), out, corpus, agree_k=3)
    assert (out / "checkpoint" / "rank0of1.npz").is_file() and not list(out.glob("*.parquet"))
    monkeypatch.undo()
    run(str(folder), out, corpus, agree_k=3)
    assert_same_run(reference, out)


def test_two_shards_merge_to_one_run(mixtral):
    tmp, folder, corpus, reference = mixtral
    lm = load_model(str(folder))
    config = ActivationsConfig(model=lm, out=tmp / "shards", corpus=corpus, **SMALL)
    parts = [_Run(config, lm, open_corpus(corpus), [0, 1], Shard(rank, 2)) for rank in (0, 1)]
    (states, tokens), (other, more) = (part.run() for part in parts)
    for key, state in other.items():
        state_key = states[key]
        state_key.absorb(state)
    got = tables(reference)
    stats = pd.concat([stats_frame(ly, states[ly, e], e) for ly, e in parts[0].keys],
                      ignore_index=True)  # fmt: skip
    pd.testing.assert_frame_equal(stats, got["stats"], check_exact=True)
    tops = pd.concat([top_rows(ly, states[ly, e], e) for ly, e in parts[0].keys],
                     ignore_index=True)  # fmt: skip
    pd.testing.assert_frame_equal(tops, got["contexts"][list(tops.columns)], check_exact=True)
    manifest = json.loads((reference / "manifest.json").read_text())
    assert tokens + more == manifest["tokens"] and tokens > 0 and more > 0


def test_cli_and_report_on_a_moe_model_folder(mixtral, tmp_path):
    _, folder, corpus, _ = mixtral
    acts = tmp_path / "acts"
    done = CliRunner().invoke(main, [
        "activations", str(folder), "--corpus", str(corpus), "--out", str(acts),
        "--max-tokens", "300", "--top-k", "5", "--chunk-tokens", "128", "--seq-len", "32",
        "--top-n", "3", "-q"])  # fmt: skip
    assert done.exit_code == 0, done.output
    got = tables(acts)
    assert len(got["stats"]) == 2 * 4 * 16  # layers x experts x neurons
    counts = got["stats"].groupby(["layer", "expert"])["count"].first()
    assert (counts.groupby("layer").sum() == 2 * 300).all()  # every token goes to 2 experts
    assert set(got["contexts"]["expert"]) == {0, 1, 2, 3}
    agreement = got["agreement"]
    assert list(agreement["layer"]) == [0, 0, 1, 1]
    assert (agreement["neurons"] == 64).all()  # every expert's neurons, counted apart
    report = generate_report(str(folder), ["w5 w6 w7"], out=tmp_path / "report", activations=acts,
                             annotate=False, umap=False, ov=False, progress=False)  # fmt: skip
    page = (report / "layer_001.html").read_text()
    assert 'id="contexts"' in page and "Agreement in this layer" in page
    top = got["contexts"].query("layer == 1 and expert == 2 and index == 5 and sign == 1")
    assert f"<b>{html.escape(top.sort_values('rank').iloc[0].token)}</b>" in page


def test_routing_groups_equal_a_search_per_expert():
    experts = torch.tensor([[2, 0], [1, 2], [4, 2], [0, -1], [3, 1]])  # 4 and -1: no expert
    groups = routing_groups(experts, 4)
    assert len(groups) == 4
    for e, (rows, slots) in enumerate(groups):
        want_rows, want_slots = (experts == e).nonzero(as_tuple=True)
        assert rows.tolist() == want_rows.tolist() and slots.tolist() == want_slots.tolist()
    assert sum(len(rows) for rows, _ in groups) == 8
