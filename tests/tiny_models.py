"""Tiny random models of every supported family, built from explicit configs (never a download).

Usage from a test (pytest puts ``tests/`` on ``sys.path``)::

    from tiny_models import FAMILIES, tiny_model

    model, tokenizer = tiny_model("llama", seed=0)  # tokenizer is None: use token_strings(None, ids)

Every model has 2 layers, hidden size 32, 4 attention heads (head size 8), a small vocabulary
(``VOCAB[family]``), runs in float32 and is in eval mode. The families differ where it matters:
``llama`` uses grouped-query attention (2 key/value heads) and untied embeddings, ``gpt2``,
``gemma``, ``gemma2`` tie the unembedding to the embedding, ``phi`` has an unembedding bias,
``gpt-neox`` and ``gptj`` use parallel blocks; ``phi3`` fuses QKV and gate/up (with
grouped-query attention); ``gemma3`` has a sliding-window layer (window 4, shorter than the test
prompts), per-head q/k norms and a final logit soft-cap; ``olmo2`` puts its norms after the
sublayers; ``mixtral`` has 4 experts in both layers, ``qwen3-moe`` a dense layer 0 and 4 experts
in layer 1 (16 neurons per expert; 2 experts per token).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

FAMILIES = (
    "gpt2",
    "gpt-neox",
    "llama",
    "gemma",
    "gemma2",
    "opt",
    "phi",
    "phi3",
    "gemma3",
    "olmo2",
    "mixtral",
    "qwen3-moe",
    "gptj",
)
MOE_FAMILIES = ("mixtral", "qwen3-moe")

VOCAB = {
    "gpt2": 101,
    "gpt-neox": 128,
    "llama": 160,
    "gemma": 192,
    "gemma2": 211,
    "opt": 144,
    "phi": 256,
    "phi3": 96,
    "gemma3": 120,
    "olmo2": 136,
    "mixtral": 112,
    "qwen3-moe": 104,
    "gptj": 88,
}

_HIDDEN, _LAYERS, _HEADS, _MLP = 32, 2, 4, 64
_EXPERTS, _EXPERT_MLP = 4, 16
GEMMA3_SOFTCAP = 0.5  # small enough that the cap bends the tiny model's logits


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread inside the block (tiny tensors: avoids OpenMP stalls on a busy box)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def tiny_config(family: str) -> Any:
    """The ``transformers`` config of the tiny model of ``family`` (see :data:`FAMILIES`)."""
    import transformers as tf

    vocab = VOCAB[family]
    common = dict(
        vocab_size=vocab,
        hidden_size=_HIDDEN,
        num_hidden_layers=_LAYERS,
        num_attention_heads=_HEADS,
        intermediate_size=_MLP,
    )
    if family == "gpt2":
        return tf.GPT2Config(
            vocab_size=vocab,
            n_embd=_HIDDEN,
            n_layer=_LAYERS,
            n_head=_HEADS,
            n_inner=_MLP,
            n_positions=64,
            bos_token_id=0,
            eos_token_id=0,
            tie_word_embeddings=True,
        )
    if family == "gpt-neox":
        return tf.GPTNeoXConfig(
            **common,
            max_position_embeddings=64,
            use_parallel_residual=True,
            tie_word_embeddings=False,
        )
    if family == "llama":
        return tf.LlamaConfig(
            **common, num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=False
        )
    if family == "gemma":
        return tf.GemmaConfig(
            **common,
            num_key_value_heads=_HEADS,
            head_dim=_HIDDEN // _HEADS,
            max_position_embeddings=64,
            tie_word_embeddings=True,
        )
    if family == "gemma2":
        return tf.Gemma2Config(
            **common,
            num_key_value_heads=2,
            head_dim=_HIDDEN // _HEADS,
            max_position_embeddings=64,
            sliding_window=16,
            query_pre_attn_scalar=_HIDDEN // _HEADS,
            tie_word_embeddings=True,
        )
    if family == "opt":
        return tf.OPTConfig(
            vocab_size=vocab,
            hidden_size=_HIDDEN,
            num_hidden_layers=_LAYERS,
            num_attention_heads=_HEADS,
            ffn_dim=_MLP,
            word_embed_proj_dim=_HIDDEN,
            max_position_embeddings=64,
            do_layer_norm_before=True,
            tie_word_embeddings=False,
        )
    if family == "phi":
        return tf.PhiConfig(**common, max_position_embeddings=64, tie_word_embeddings=False)
    gqa = dict(num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=False)
    if family == "phi3":
        return tf.Phi3Config(
            **common, **gqa, original_max_position_embeddings=64, pad_token_id=0, eos_token_id=0
        )
    if family == "gemma3":
        return tf.Gemma3TextConfig(
            **common,
            **{**gqa, "tie_word_embeddings": True},
            head_dim=_HIDDEN // _HEADS,
            query_pre_attn_scalar=_HIDDEN // _HEADS,
            sliding_window=4,
            layer_types=["sliding_attention", "full_attention"],
            final_logit_softcapping=GEMMA3_SOFTCAP,
        )
    if family == "olmo2":
        return tf.Olmo2Config(**common, **gqa, pad_token_id=0, eos_token_id=0)
    moe = dict(num_experts_per_tok=2, head_dim=_HIDDEN // _HEADS, **gqa)
    if family == "mixtral":
        return tf.MixtralConfig(
            **{**common, "intermediate_size": _EXPERT_MLP}, num_local_experts=_EXPERTS, **moe
        )
    if family == "qwen3-moe":
        return tf.Qwen3MoeConfig(
            **common,
            num_experts=_EXPERTS,
            moe_intermediate_size=_EXPERT_MLP,
            mlp_only_layers=[0],
            **moe,
        )
    if family == "gptj":
        return tf.GPTJConfig(
            vocab_size=vocab,
            n_embd=_HIDDEN,
            n_layer=_LAYERS,
            n_head=_HEADS,
            n_inner=_MLP,
            rotary_dim=4,
            n_positions=64,
            bos_token_id=0,
            eos_token_id=0,
            tie_word_embeddings=False,
        )
    raise ValueError(f"unknown tiny family {family!r}; choose from {', '.join(FAMILIES)}")


def _randomize_norms(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Give every norm a non-trivial gain/bias so that tests see layout bugs in norm handling."""
    with torch.no_grad():
        for module in model.modules():
            name = type(module).__name__.lower()
            if "norm" not in name:
                continue
            weight = getattr(module, "weight", None)
            if isinstance(weight, torch.Tensor):
                weight.copy_(1.0 + 0.5 * torch.randn(weight.shape, generator=generator))
            bias = getattr(module, "bias", None)
            if isinstance(bias, torch.Tensor):
                bias.copy_(0.1 * torch.randn(bias.shape, generator=generator))


def tiny_model(family: str, seed: int = 0) -> tuple[torch.nn.Module, None]:
    """A tiny random ``*ForCausalLM`` of ``family``, float32, eval mode, and no tokenizer.

    Args:
        family: one of :data:`FAMILIES`.
        seed: seeds the weights (same seed, same model).

    Returns:
        ``(model, None)``: the tokenizer slot is None (no download); use
        ``vocablens.tokens.token_strings(None, ids)`` for token strings.
    """
    from transformers import AutoModelForCausalLM

    config = tiny_config(family)
    config._attn_implementation = "eager"
    if family in MOE_FAMILIES:  # the default (grouped_mm) has no float64 kernel for the references
        config._experts_implementation = "eager"
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed + 1)
    _randomize_norms(model, generator)
    with torch.no_grad():  # default inits leave biases at zero; make them visible to tests
        for name, param in model.named_parameters():
            if name.endswith("bias") and "norm" not in name and param.abs().sum() == 0:
                param.copy_(0.02 * torch.randn(param.shape, generator=generator))
    model.eval()
    return model, None


_WORDS = (
    "the",
    "cat",
    "dog",
    "Paris",
    "France",
    "red",
    "blue",
    "king",
    "queen",
    "water",
    "fire",
    "run",
    "walk",
    "house",
    "tree",
    "river",
    "city",
    "music",
    "light",
    "night",
)


def tiny_bpe_tokenizer(vocab_size: int) -> Any:
    """A byte-level BPE tokenizer with exactly ``vocab_size`` tokens, built offline.

    Id 0 is ``<|endoftext|>``; ids 1..20 are whole words with a leading space (``" cat"``);
    the rest are word pieces without a leading space (``"ab"``), numbers (``" 7"``) and newline
    pieces. It only decodes sensibly (there are no merges); it is meant for token strings.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    pieces = ["<|endoftext|>", *("Ġ" + word for word in _WORDS), "Ċ", "ĊĠ"]
    pieces += [f"Ġ{n}" for n in range(10)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    pieces += [a + b for a in letters for b in letters][: max(0, vocab_size - len(pieces))]
    vocab = {piece: i for i, piece in enumerate(pieces[:vocab_size])}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|endoftext|>")


def save_tiny_model(family: str, folder: Any, seed: int = 0) -> Any:
    """Save ``tiny_model(family, seed)`` with a :func:`tiny_bpe_tokenizer` into ``folder``.

    Returns:
        ``folder``, loadable by ``vocablens.load_model(str(folder))`` and the CLI.
    """
    from tiny_tokenizer import save_tiny

    model, _ = tiny_model(family, seed)
    return save_tiny(model, tiny_bpe_tokenizer(VOCAB[family]), folder)
