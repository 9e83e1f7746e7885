"""Model loading: specs, errors, the GGUF cache, and families that share the Llama layout."""

from __future__ import annotations

import json
import re

import pytest
import torch

from vocablens import InputError, LoadedModel, ModelLoadError, load_model
from vocablens.model.devices import resolve_device, resolve_dtype
from vocablens.model.hooks import forward_capture

from tiny_models import tiny_model
from tiny_tokenizer import save_tiny, tiny_tokenizer


def test_model_object_keeps_dtype_and_tokenizer():
    model, _ = tiny_model("gpt2")
    tok = tiny_tokenizer(101)
    loaded = load_model(model, tok)
    assert isinstance(loaded, LoadedModel) and loaded.tokenizer is tok
    assert loaded.view.W_U.dtype == torch.float32
    assert load_model(loaded) is loaded


def test_directory_round_trip(tmp_path):
    model, _ = tiny_model("phi", seed=2)
    folder = save_tiny(model, tiny_tokenizer(256), tmp_path / "phi")
    loaded = load_model(str(folder))
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        assert torch.allclose(loaded.model(ids).logits, model(ids).logits, atol=1e-6)
    assert loaded.tokenizer("w5 w6")["input_ids"] == [5, 6]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("/no/such/dir", "model path does not exist"),
        ("missing.gguf", "GGUF file not found"),
        (".", "not a model directory (no config.json)"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(ModelLoadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_model(spec)


def test_garbage_gguf(tmp_path, monkeypatch):
    monkeypatch.setenv("VOCABLENS_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file")
    with pytest.raises(ModelLoadError, match="cannot read GGUF file"):
        load_model(str(bad))


@pytest.mark.parametrize("name", ["qwen2", "qwen3", "mistral", "neox-sequential"])
def test_more_variants_are_exact(name):
    import transformers as tf

    common = dict(vocab_size=90, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    if name == "neox-sequential":
        config = tf.GPTNeoXConfig(**common, use_parallel_residual=False)
    else:
        config_class = {"qwen2": tf.Qwen2Config, "qwen3": tf.Qwen3Config,
                        "mistral": tf.MistralConfig}[name]  # fmt: skip
        config = config_class(**common, num_key_value_heads=2, head_dim=8)
    torch.manual_seed(0)
    model = tf.AutoModelForCausalLM.from_config(config).eval()
    view = load_model(model).view
    assert view.parallel is False
    if name != "neox-sequential":
        assert view.family.name == "llama" and view.attention(0).W_K.shape == (2, 32, 8)
    ids = torch.tensor([[3, 1, 4, 1, 5, 9]])
    sites = [("resid", 0), ("attn_out", 0), ("mlp_out", 0), ("resid", 1), ("resid", 2)]
    states = forward_capture(view, ids, torch.ones_like(ids), sites)
    total = states[("resid", 0)] + states[("attn_out", 0)] + states[("mlp_out", 0)]
    assert torch.allclose(total, states[("resid", 1)], atol=1e-5)
    with torch.no_grad():
        assert (view.unembed(states[("resid", 2)]) - model(ids).logits).abs().max() <= 1e-4


@pytest.mark.slow
def test_embedded_model_is_cached(smollm2, tmp_path):
    from vocablens.model.gguf_cache import gguf_cache_path as _gguf_cache_path
    from vocablens.model.loading import alias_gguf

    gguf = alias_gguf("smollm2-135m")
    assert gguf.suffix == ".gguf" and gguf.is_file()
    assert (_gguf_cache_path(gguf) / "model.safetensors").is_file()
    assert smollm2.view.tied


# ----- devices --------------------------------------------------------------------------------
def test_model_object_stays_on_its_device(monkeypatch):
    model, _ = tiny_model("gpt2")
    monkeypatch.setattr(model, "to", lambda *a, **k: pytest.fail("load_model moved the model"))
    loaded = load_model(model)
    assert loaded.model is model and loaded.device == torch.device("cpu")
    with torch.device("meta"):  # a model that lives elsewhere stays there (no GPU needed)
        meta, _ = tiny_model("llama")
    assert load_model(meta).device.type == "meta"
    assert next(meta.parameters()).device.type == "meta"


def test_device_given_moves_and_files_load_to_cpu(tmp_path):
    model, _ = tiny_model("gpt2")
    assert load_model(model, device="cpu").device == torch.device("cpu")
    folder = save_tiny(tiny_model("llama")[0], tiny_tokenizer(160), tmp_path / "llama")
    assert load_model(str(folder)).device == torch.device("cpu")


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", "device 'cuda' is not available: this machine has no CUDA device"),
        ("cuda:1", "device 'cuda:1' is not available"),
        ("mps", "device 'mps' is not available"),
        ("tpu9", "unknown device 'tpu9'"),
        ("meta", "device 'meta' cannot compute"),
    ],
)
def test_device_refusals(device, message, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    model, _ = tiny_model("gpt2")
    with pytest.raises(InputError, match=re.escape(message)):
        load_model(model, device=device)
    with pytest.raises(InputError, match=re.escape(message)):
        load_model("/no/such/dir", device=device)  # checked before any loading


def test_cuda_index_beyond_the_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(InputError, match=re.escape("has 2 CUDA devices (cuda:0..1)")):
        resolve_device("cuda:7")
    assert resolve_device("cuda:1") == torch.device("cuda:1")


def test_dtype_names():
    assert resolve_dtype("bfloat16") is torch.bfloat16 and resolve_dtype(None) is None
    with pytest.raises(InputError, match="unknown dtype 'fp8'"):
        resolve_dtype("fp8")


# ----- hub ids --------------------------------------------------------------------------------
@pytest.mark.parametrize("offline", [True, False])
def test_hub_id_offline_is_one_quiet_line(offline, monkeypatch, capfd):
    import time

    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    start = time.perf_counter()
    with pytest.raises(ModelLoadError) as info:
        load_model("no-such-owner/no-such-model-xyz")
    assert time.perf_counter() - start < 20
    message = str(info.value)
    assert "\n" not in message and "no local path of that name" in message
    if offline:
        assert "HF_HUB_OFFLINE" in message
    captured = capfd.readouterr()
    assert "Retrying" not in captured.err + captured.out


@pytest.mark.parametrize("spec", ["./missing", "../a/b/c", "a/b/c", "~/no/such", "x/../y"])
def test_path_looking_specs_say_path_does_not_exist(spec):
    with pytest.raises(ModelLoadError, match="model path does not exist"):
        load_model(spec)


# ----- the GGUF cache -------------------------------------------------------------------------
def test_gguf_cache_is_keyed_by_content(tmp_path, monkeypatch):
    from vocablens.model import gguf_cache, loading

    monkeypatch.setenv("VOCABLENS_CACHE", str(tmp_path / "cache"))
    dequantized = []

    def fake_dequantize(gguf, dtype):  # stands in for transformers' ~25 s de-quantization
        dequantized.append(gguf)
        return tiny_model("llama", seed=3)[0], tiny_tokenizer(160)

    hashed = []
    real_hash = gguf_cache.file_sha256
    monkeypatch.setattr(loading, "_dequantize", fake_dequantize)
    monkeypatch.setattr(gguf_cache, "file_sha256", lambda p: (hashed.append(p), real_hash(p))[1])
    first, second = tmp_path / "a" / "m.gguf", tmp_path / "b" / "copy.gguf"
    for path in (first, second):  # two checkouts holding the same file
        path.parent.mkdir()
        path.write_bytes(b"GGUF pretend weights" * 100)
    one = load_model(str(first))
    two = load_model(str(second))
    assert dequantized == [first]  # the second checkout reads the first one's copy
    entries = [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert len(entries) == 1 and entries[0].startswith("gguf-")
    assert torch.equal(one.view.W_U, two.view.W_U)
    assert json.loads((tmp_path / "cache" / gguf_cache.INDEX).read_text()).keys() == {
        str(first.resolve()),
        str(second.resolve()),
    }
    assert hashed == [first, second]
    load_model(str(second))
    assert hashed == [first, second], "an unchanged file is not hashed again"
    second.write_bytes(b"other weights")  # new content: a new key
    load_model(str(second))
    assert len(dequantized) == 2 and hashed[-1] == second
    assert len([p for p in (tmp_path / "cache").iterdir() if p.is_dir()]) == 2
