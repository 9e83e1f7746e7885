"""The family table: how each architecture lays out its modules, and how to read its weights.

Every family maps its modules onto :class:`~vocablens.model.weights.AttentionWeights` and
:class:`~vocablens.model.weights.MLPWeights`. Only this module and :mod:`vocablens.model.view`
look at a model's module names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from vocablens.errors import UnsupportedModelError
from vocablens.model.weights import AttentionWeights, MLPWeights

Tensor = torch.Tensor


def module_at(root: Any, path: str) -> Any:
    """The submodule at a dotted ``path`` below ``root`` (``"model.layers"``)."""
    for part in path.split("."):
        root = getattr(root, part)
    return root


def _linear_in(weight: Tensor, n: int) -> Tensor:
    """nn.Linear weight ``(n*d_head, d_model)`` -> per-head ``(n, d_model, d_head)``."""
    return weight.view(n, -1, weight.shape[1]).transpose(1, 2)  # (n, d_model, d_head)


def _linear_out(weight: Tensor, n: int) -> Tensor:
    """nn.Linear weight ``(d_model, n*d_head)`` -> per-head ``(n, d_head, d_model)``."""
    return weight.T.reshape(n, -1, weight.shape[0])  # (n, d_head, d_model)


def _bias(bias: Tensor | None, n: int) -> Tensor | None:
    return None if bias is None else bias.view(n, -1)  # (n, d_head)


def _split_qkv_attention(attn: Any, names: tuple[str, str, str, str], n: int, n_kv: int):
    q, k, v, o = (getattr(attn, name) for name in names)
    return AttentionWeights(
        W_Q=_linear_in(q.weight, n),
        W_K=_linear_in(k.weight, n_kv),
        W_V=_linear_in(v.weight, n_kv),
        W_O=_linear_out(o.weight, n),
        b_Q=_bias(q.bias, n),
        b_K=_bias(k.bias, n_kv),
        b_V=_bias(v.bias, n_kv),
        b_O=o.bias,
    )


def _llama_attention(block: Any, n: int, n_kv: int) -> AttentionWeights:
    return _split_qkv_attention(block.self_attn, ("q_proj", "k_proj", "v_proj", "o_proj"), n, n_kv)


def _opt_attention(block: Any, n: int, n_kv: int) -> AttentionWeights:
    return _split_qkv_attention(
        block.self_attn, ("q_proj", "k_proj", "v_proj", "out_proj"), n, n_kv
    )


def _phi_attention(block: Any, n: int, n_kv: int) -> AttentionWeights:
    return _split_qkv_attention(block.self_attn, ("q_proj", "k_proj", "v_proj", "dense"), n, n_kv)


def _gptj_attention(block: Any, n: int, n_kv: int) -> AttentionWeights:
    return _split_qkv_attention(block.attn, ("q_proj", "k_proj", "v_proj", "out_proj"), n, n_kv)


def _phi3_attention(block: Any, n: int, n_kv: int) -> AttentionWeights:
    # Fused QKV, laid out as [q (n heads) | k (n_kv heads) | v (n_kv heads)], each head-major.
    attn = block.self_attn
    w = attn.qkv_proj.weight  # ((n + 2 * n_kv) * d_head, d_model)
    d_head = w.shape[0] // (n + 2 * n_kv)
    w_q, w_k, w_v = w.split([n * d_head, n_kv * d_head, n_kv * d_head])
    return AttentionWeights(
        W_Q=_linear_in(w_q, n),
        W_K=_linear_in(w_k, n_kv),
        W_V=_linear_in(w_v, n_kv),
        W_O=_linear_out(attn.o_proj.weight, n),
        b_O=attn.o_proj.bias,
    )


def _gpt2_attention(block: Any, n: int, n_kv: int) -> AttentionWeights:
    # Conv1D stores (in, out): y = x @ W. c_attn's output is [q | k | v], each head-major.
    c_attn, c_proj = block.attn.c_attn, block.attn.c_proj
    d_model = c_attn.weight.shape[0]
    w_q, w_k, w_v = c_attn.weight.split(d_model, dim=1)  # 3 x (d_model, d_model)
    b_q, b_k, b_v = c_attn.bias.split(d_model)
    per_head = lambda w: w.view(d_model, n, -1).transpose(0, 1)  # noqa: E731  (n, d_model, d_head)
    return AttentionWeights(
        W_Q=per_head(w_q),
        W_K=per_head(w_k),
        W_V=per_head(w_v),
        W_O=c_proj.weight.view(n, -1, d_model),  # (n, d_head, d_model)
        b_Q=b_q.view(n, -1),
        b_K=b_k.view(n, -1),
        b_V=b_v.view(n, -1),
        b_O=c_proj.bias,
    )


def _neox_attention(block: Any, n: int, n_kv: int) -> AttentionWeights:
    # Fused QKV: the output is laid out per head as [q_h | k_h | v_h].
    attn = block.attention
    w = attn.query_key_value.weight  # (n * 3 * d_head, d_model)
    d_model = w.shape[1]
    w = w.view(n, 3, -1, d_model)  # (n, 3, d_head, d_model)
    b = attn.query_key_value.bias
    b3 = None if b is None else b.view(n, 3, -1)  # (n, 3, d_head)
    return AttentionWeights(
        W_Q=w[:, 0].transpose(1, 2),
        W_K=w[:, 1].transpose(1, 2),
        W_V=w[:, 2].transpose(1, 2),
        W_O=_linear_out(attn.dense.weight, n),
        b_Q=None if b3 is None else b3[:, 0],
        b_K=None if b3 is None else b3[:, 1],
        b_V=None if b3 is None else b3[:, 2],
        b_O=attn.dense.bias,
    )


def _gated_mlp(block: Any) -> MLPWeights:
    mlp = block.mlp
    return MLPWeights(
        W_out=mlp.down_proj.weight.T,  # (d_mlp, d_model)
        W_gate=mlp.gate_proj.weight,
        W_up=mlp.up_proj.weight,
        b_out=mlp.down_proj.bias,
    )


def _phi3_mlp(block: Any) -> MLPWeights:
    mlp = block.mlp
    w_gate, w_up = mlp.gate_up_proj.weight.chunk(2)  # fused [gate | up]: 2 x (d_mlp, d_model)
    return MLPWeights(
        W_out=mlp.down_proj.weight.T, W_gate=w_gate, W_up=w_up, b_out=mlp.down_proj.bias
    )


def _moe_mlp(block: Any) -> MLPWeights:
    # transformers 5 fuses the experts into 3-D parameters (eager layout, as in forward):
    # gate_up_proj (n_experts, 2 * d_mlp, d_model) = [gate | up], down_proj (n_experts, d_model, d_mlp).
    # The router (mlp.gate) only picks experts and is not read. Qwen3-MoE's dense layers
    # (mlp_only_layers, decoder_sparse_step) are plain gated MLPs.
    experts = getattr(block.mlp, "experts", None)
    if experts is None:
        return _gated_mlp(block)
    w_gate, w_up = experts.gate_up_proj.chunk(2, dim=1)  # 2 x (n_experts, d_mlp, d_model)
    return MLPWeights(
        W_out=experts.down_proj.transpose(1, 2),  # (n_experts, d_mlp, d_model)
        W_gate=w_gate,
        W_up=w_up,
    )


def _plain_mlp(up: Any, down: Any) -> MLPWeights:
    return MLPWeights(W_out=down.weight.T, W_in=up.weight, b_in=up.bias, b_out=down.bias)


def _gpt2_mlp(block: Any) -> MLPWeights:
    c_fc, c_proj = block.mlp.c_fc, block.mlp.c_proj  # Conv1D: (d_model, d_mlp), (d_mlp, d_model)
    return MLPWeights(W_out=c_proj.weight, W_in=c_fc.weight.T, b_in=c_fc.bias, b_out=c_proj.bias)


@dataclass(frozen=True)
class Family:
    """How one architecture family lays out its modules (paths from the ``*ForCausalLM`` root)."""

    name: str
    model_types: tuple[str, ...]
    final_norm: str
    blocks: str
    norm_kind: str  # "layernorm" | "rmsnorm" | "gemma_rmsnorm"
    attn: str  # attribute of a block: the attention module
    # The block attribute whose *input* is resid_mid, from the config; None for parallel blocks.
    mlp_norm: Callable[[object], str | None]
    attention: Callable[[Any, int, int], AttentionWeights]
    mlp: Callable[[Any], MLPWeights]


def _fixed(name: str | None) -> Callable[[object], str | None]:
    return lambda config: name


FAMILIES: tuple[Family, ...] = (
    Family("gpt2", ("gpt2",), "transformer.ln_f", "transformer.h", "layernorm", "attn",
           _fixed("ln_2"), _gpt2_attention, _gpt2_mlp),
    Family("gpt-neox", ("gpt_neox",), "gpt_neox.final_layer_norm", "gpt_neox.layers", "layernorm",
           "attention",
           lambda c: None if getattr(c, "use_parallel_residual", True) else "post_attention_layernorm",
           _neox_attention, lambda b: _plain_mlp(b.mlp.dense_h_to_4h, b.mlp.dense_4h_to_h)),
    Family("llama", ("llama", "mistral", "qwen2", "qwen3"), "model.norm", "model.layers", "rmsnorm",
           "self_attn", _fixed("post_attention_layernorm"), _llama_attention, _gated_mlp),
    Family("gemma", ("gemma",), "model.norm", "model.layers", "gemma_rmsnorm", "self_attn",
           _fixed("post_attention_layernorm"), _llama_attention, _gated_mlp),
    Family("gemma2", ("gemma2",), "model.norm", "model.layers", "gemma_rmsnorm", "self_attn",
           _fixed("pre_feedforward_layernorm"), _llama_attention, _gated_mlp),
    Family("opt", ("opt",), "model.decoder.final_layer_norm", "model.decoder.layers", "layernorm",
           "self_attn", _fixed("final_layer_norm"), _opt_attention,
           lambda b: _plain_mlp(b.fc1, b.fc2)),
    Family("phi", ("phi",), "model.final_layernorm", "model.layers", "layernorm", "self_attn",
           _fixed(None), _phi_attention, lambda b: _plain_mlp(b.mlp.fc1, b.mlp.fc2)),
    Family("phi3", ("phi3",), "model.norm", "model.layers", "rmsnorm", "self_attn",
           _fixed("post_attention_layernorm"), _phi3_attention, _phi3_mlp),
    Family("gemma3", ("gemma3_text",), "model.norm", "model.layers", "gemma_rmsnorm", "self_attn",
           _fixed("pre_feedforward_layernorm"), _llama_attention, _gated_mlp),
    # OLMo-2 has no pre-norms: the MLP itself reads resid_mid; its norms follow each sublayer.
    Family("olmo2", ("olmo2",), "model.norm", "model.layers", "rmsnorm", "self_attn",
           _fixed("mlp"), _llama_attention, _gated_mlp),
    Family("mixtral", ("mixtral",), "model.norm", "model.layers", "rmsnorm", "self_attn",
           _fixed("post_attention_layernorm"), _llama_attention, _moe_mlp),
    Family("qwen3-moe", ("qwen3_moe",), "model.norm", "model.layers", "rmsnorm", "self_attn",
           _fixed("post_attention_layernorm"), _llama_attention, _moe_mlp),
    Family("gptj", ("gptj",), "transformer.ln_f", "transformer.h", "layernorm", "attn",
           _fixed(None), _gptj_attention, lambda b: _plain_mlp(b.mlp.fc_in, b.mlp.fc_out)),
)  # fmt: skip

# Where each family's sublayers write into the residual stream, as paths below a block:
# (attention output projection: its input is the heads' outputs z, head-major;
#  MLP down projection: its input is the neuron coefficients, act(gate) * up for gated MLPs —
#  mixture-of-experts layers fuse their experts into 3-D parameters and have none;
#  the norm after attention, the norm after the MLP: None where the sublayer's output joins the
#  stream as it is). Read only through vocablens.model.sublayers.
WRITE_PATHS: dict[str, tuple[str, str, str | None, str | None]] = {
    "gpt2": ("attn.c_proj", "mlp.c_proj", None, None),
    "gpt-neox": ("attention.dense", "mlp.dense_4h_to_h", None, None),
    "llama": ("self_attn.o_proj", "mlp.down_proj", None, None),
    "gemma": ("self_attn.o_proj", "mlp.down_proj", None, None),
    "gemma2": ("self_attn.o_proj", "mlp.down_proj", "post_attention_layernorm",
               "post_feedforward_layernorm"),
    "gemma3": ("self_attn.o_proj", "mlp.down_proj", "post_attention_layernorm",
               "post_feedforward_layernorm"),
    "olmo2": ("self_attn.o_proj", "mlp.down_proj", "post_attention_layernorm",
              "post_feedforward_layernorm"),
    "opt": ("self_attn.out_proj", "fc2", None, None),
    "phi": ("self_attn.dense", "mlp.fc2", None, None),
    "phi3": ("self_attn.o_proj", "mlp.down_proj", None, None),
    "mixtral": ("self_attn.o_proj", "mlp.down_proj", None, None),
    "qwen3-moe": ("self_attn.o_proj", "mlp.down_proj", None, None),
    "gptj": ("attn.out_proj", "mlp.fc_out", None, None),
}  # fmt: skip

SUPPORTED = ", ".join(f"{f.name} ({'/'.join(f.model_types)})" for f in FAMILIES)


def find_family(model_type: str) -> Family:
    """The family that handles ``config.model_type``; raises UnsupportedModelError otherwise."""
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    raise UnsupportedModelError(
        f"unsupported architecture {model_type!r}; supported families: {SUPPORTED}"
    )
