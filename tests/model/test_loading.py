"""Model loading: specs, errors, the GGUF cache, and families that share the Llama layout."""

from __future__ import annotations

import pytest
import torch

from vocablens import LoadedModel, ModelLoadError, load_model
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


def test_garbage_gguf(tmp_path):
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
    from vocablens.model.loading import alias_gguf
    from vocablens.model.gguf_cache import gguf_cache_path as _gguf_cache_path

    gguf = alias_gguf("smollm2-135m")
    assert gguf.suffix == ".gguf" and gguf.is_file()
    assert (_gguf_cache_path(gguf) / "model.safetensors").is_file()
    assert smollm2.view.tied
