"""Streaming top-k engines, argument parsing, token sets and the long DataFrame format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocablens import InputError, load_model
from vocablens.layerspec import layer_list as parse_layers
from vocablens.model.tokenizer import whole_word_tokens
from vocablens.project.files import SCHEMA
from vocablens.project.projector import parse_what, project, project_vectors
from vocablens.project.tokensets import TokenNames
from vocablens.project.topk import Readout, pair_topk, vector_topk

from tiny_models import VOCAB, single_thread, tiny_bpe_tokenizer, tiny_model


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.mark.parametrize("n_cols", [7, 101, 1000, 4999, 8192])
def test_vector_topk_matches_full_topk(n_cols):
    gen = torch.Generator().manual_seed(n_cols)
    R_T = torch.randn(24, n_cols, generator=gen)  # (d, n_cols)
    vectors = torch.randn(70, 24, generator=gen)
    k = min(12, n_cols)
    top = vector_topk(vectors, Readout(R_T), k, block_mb=0.05)  # several chunks
    full = vectors.double() @ R_T.double()  # (70, n_cols)
    largest, smallest = full.topk(k, dim=1), full.topk(k, dim=1, largest=False)
    assert torch.equal(top.cols[:, 0], largest.indices)
    assert torch.equal(top.cols[:, 1], smallest.indices)
    torch.testing.assert_close(top.scores[:, 0].double(), largest.values, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(top.scores[:, 1].double(), smallest.values, rtol=1e-5, atol=1e-5)


def test_vector_topk_finds_planted_maxima_in_padding_groups():
    """Columns in the last, partly padded group and clustered in one group are still found."""
    R_T = torch.zeros(2, 1000)
    R_T[0, [999, 998, 0, 62, 124]] = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0])  # 62, 124: same group
    R_T[0, [1, 63]] = torch.tensor([-5.0, -4.0])
    top = vector_topk(torch.tensor([[1.0, 0.0]]), Readout(R_T), 5)
    assert top.cols[0, 0].tolist() == [999, 998, 0, 62, 124]
    assert top.cols[0, 1, :2].tolist() == [1, 63]


@pytest.mark.parametrize("n_rows,n_cols,k", [(1, 50, 5), (333, 77, 20), (1000, 3000, 30)])
def test_pair_topk_matches_full_matrix(n_rows, n_cols, k):
    gen = torch.Generator().manual_seed(n_rows)
    left, right = torch.randn(n_rows, 6, generator=gen), torch.randn(6, n_cols, generator=gen)
    top = pair_topk(left, right, k, col_max=True, block_mb=0.1)
    full = left.double() @ right.double()  # (n_rows, n_cols)
    values, flat = full.reshape(-1).topk(min(k, full.numel()))
    assert torch.equal(top.rows * n_cols + top.cols, flat)
    torch.testing.assert_close(top.scores.double(), values, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(top.col_max.double(), full.amax(0), rtol=1e-5, atol=1e-5)


def test_parse_layers():
    assert parse_layers("0-5", 30) == [0, 1, 2, 3, 4, 5]
    assert parse_layers("3", 30) == [3]
    assert parse_layers("0,2,4-6", 30) == [0, 2, 4, 5, 6]
    assert parse_layers(" 4-6, 5 ", 30) == [4, 5, 6]
    assert parse_layers(None, 3) == [0, 1, 2]
    assert parse_layers([-1, 0], 3) == [0, 2]
    assert parse_layers(2, 3) == [2]
    for bad in ("0-30", "30", "a", "1-", "5-3", "1,,2", "-1"):
        with pytest.raises(InputError):
            parse_layers(bad, 30)


def test_parse_what():
    assert parse_what("values, keys,ov") == ("values", "keys", "ov")
    assert parse_what(["qk", "qk"]) == ("qk",)
    for bad in ("neurons", "", "values,heads"):
        with pytest.raises(InputError):
            parse_what(bad)


@pytest.fixture(scope="module")
def tiny_llama():
    model, _ = tiny_model("llama", seed=0)
    return load_model(model, tokenizer=tiny_bpe_tokenizer(VOCAB["llama"]))


def test_long_format(tiny_llama):
    k = 4
    result = project(tiny_llama, "values,keys,ov,qk", layers="1", k=k)
    frame = result.to_pandas()
    assert list(frame.columns) == SCHEMA.names
    for name in ("layer", "index", "sign", "rank", "token_id", "score", "src_token_id"):
        assert frame[name].dtype == np.dtype(SCHEMA.field(name).type.to_pandas_dtype()), name
    counts = frame.groupby("kind").size().to_dict()
    d_mlp, heads = 64, 4
    assert counts == {
        "values": d_mlp * 2 * k,
        "keys_gate": d_mlp * 2 * k,
        "keys_up": d_mlp * 2 * k,
        "ov": heads * k,
        "ov_promoted": heads * k,
        "qk": heads * k,
    }
    assert (frame.layer == 1).all()
    values = frame[frame.kind == "values"]
    assert set(values.sign) == {1, -1} and set(values["rank"]) == set(range(k))
    assert (values.src_token_id == -1).all() and (values.src_token == "").all()
    first = values[(values["index"] == 5) & (values.sign == 1)]
    assert first["rank"].tolist() == list(range(k))
    assert first.score.is_monotonic_decreasing
    assert first.token_id.tolist() == result.table("values", 1).token_ids[5, 0].tolist()
    suppressed = values[(values["index"] == 5) & (values.sign == -1)]
    assert suppressed.score.is_monotonic_increasing and (suppressed.score < first.score.min()).all()
    pairs = frame[frame.kind.isin(["ov", "qk"])]
    assert set(pairs.sign) == {1} and (pairs.src_token_id >= 0).all()
    names = tiny_llama.tokenizer.batch_decode([[i] for i in pairs.src_token_id])
    assert pairs.src_token.tolist() == names
    assert frame[frame.token_id == 3].token.iloc[0] == " dog"


def test_project_vectors(tiny_llama):
    view = tiny_llama.view
    values = view.mlp(0).W_out.detach()
    from_vectors = project_vectors(tiny_llama, values[:10], k=6).table("vector", -1)
    from_params = project(tiny_llama, "values", layers=0, k=6).table("values", 0)
    assert torch.equal(from_vectors.token_ids, from_params.token_ids[:10])
    single = project_vectors(tiny_llama, values[3].numpy(), k=6)
    frame = single.to_pandas()
    assert (frame.kind == "vector").all() and (frame.layer == -1).all() and len(frame) == 12
    assert (frame["index"] == 0).all()
    for bad in (torch.zeros(3, 31), torch.zeros(0, 32), torch.zeros(2, 2, 32)):
        with pytest.raises(InputError):
            project_vectors(tiny_llama, bad)


def test_bad_arguments(tiny_llama):
    for kwargs in (
        {"k": 0},
        {"k": 161},
        {"tokens": [0, 500]},
        {"tokens": []},
        {"tokens": "nouns"},
        {"src_tokens": [-1]},
        {"layers": "2"},
        {"what": "x"},
        {"tokens": [0.5, 1.5]},
    ):
        with pytest.raises(InputError):
            project(tiny_llama, **{"what": "values", **kwargs})
    model, _ = tiny_model("gpt2")
    with pytest.raises(InputError, match="tokenizer"):
        project(model, "values", tokens="words")


def test_whole_word_tokens(tiny_llama):
    words = whole_word_tokens(tiny_llama.tokenizer)
    assert words == list(range(1, 21))  # " the" ... " night"; not "\n", " 0", "ab"
    result = project(tiny_llama, "values,ov", layers=0, k=3, tokens="words", src_tokens="words")
    frame = result.to_pandas()
    assert set(frame.token_id) <= set(words)
    assert set(frame[frame.kind == "ov"].src_token_id) <= set(words)


def test_token_names_cache_and_unknown_ids(tiny_llama):
    names = TokenNames(tiny_llama.tokenizer)
    out = names(np.array([[3, -1], [3, 10_000]]))
    assert out.tolist() == [[" dog", ""], [" dog", "⟨10000⟩"]]
    assert TokenNames(None)(np.array([7]))[0] == "⟨7⟩"


def test_half_precision_weights_compute_in_float32_on_cpu():
    model, _ = tiny_model("gemma2", seed=2)
    full = project(model, "values,ov", layers=0, k=5)
    half = project(load_model(tiny_model("gemma2", seed=2)[0], dtype=torch.bfloat16), "values,ov",
                   layers=0, k=5)  # fmt: skip
    a, b = full.table("values", 0), half.table("values", 0)
    assert b.scores.dtype == torch.float32
    same = (a.token_ids == b.token_ids).float().mean()
    assert same > 0.8  # bf16 rounding of the weights moves a few near-ties


def test_projector_works_outside_inference_mode(tiny_llama):
    """The report drives Projector directly; it must not depend on the caller's grad mode."""
    from vocablens.project.projector import Projector

    projector = Projector(tiny_llama, 3, tokens=list(range(50)), src_tokens=list(range(40)))
    tables = projector.ffn(1, ["values", "keys_up"]) + projector.ov(1) + projector.qk(0)
    frame = projector.result(tables).to_pandas()
    assert set(frame.kind) == {"values", "keys_up", "ov", "ov_promoted", "qk"}
    assert not any(t.scores.requires_grad for t in tables)
