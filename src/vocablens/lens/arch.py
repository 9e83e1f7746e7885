"""The one module that knows architectures.

:class:`ModelView` gives every supported family the same face: the embedding ``W_E``, the
unembedding ``W_U`` (+ bias), the final norm as a function, Gemma-2's final logit soft-cap, the
blocks, and per layer the attention weights per head and the MLP weights, all in one layout:

* attention: ``q = x @ W_Q[h] + b_Q[h]`` with ``W_Q`` of shape ``(n_heads, d_model, d_head)``;
  ``W_K``/``W_V`` have ``n_kv_heads`` heads (grouped-query attention); the head output ``z``
  enters the residual stream as ``z @ W_O[h]`` with ``W_O`` of shape ``(n_heads, d_head, d_model)``.
* MLP: row ``i`` of ``W_out`` (``(d_mlp, d_model)``) is neuron ``i``'s value vector; rows of
  ``W_in`` (plain MLPs) or ``W_gate``/``W_up`` (gated MLPs) are its key vectors.

Nothing else in vocablens looks at a model's module names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vocablens.errors import UnsupportedModelError

Tensor = torch.Tensor


@dataclass(frozen=True)
class AttentionWeights:
    """One layer's attention weights, per head, in the residual-stream basis.

    Attributes:
        W_Q: ``(n_heads, d_model, d_head)``.
        W_K: ``(n_kv_heads, d_model, d_head)``.
        W_V: ``(n_kv_heads, d_model, d_head)``.
        W_O: ``(n_heads, d_head, d_model)``.
        b_Q, b_K, b_V: ``(heads, d_head)`` or None.
        b_O: ``(d_model,)`` or None.
    """

    W_Q: Tensor
    W_K: Tensor
    W_V: Tensor
    W_O: Tensor
    b_Q: Tensor | None = None
    b_K: Tensor | None = None
    b_V: Tensor | None = None
    b_O: Tensor | None = None

    @property
    def n_heads(self) -> int:
        return self.W_Q.shape[0]

    @property
    def n_kv_heads(self) -> int:
        return self.W_K.shape[0]

    def kv_head(self, head: int) -> int:
        """The key/value head that query head ``head`` reads (grouped-query attention)."""
        return head // (self.n_heads // self.n_kv_heads)


@dataclass(frozen=True)
class MLPWeights:
    """One layer's MLP weights; row ``i`` of every matrix belongs to neuron ``i``.

    Attributes:
        W_out: ``(d_mlp, d_model)``: value vectors.
        W_in: ``(d_mlp, d_model)`` key vectors of a plain MLP, else None.
        W_gate: ``(d_mlp, d_model)`` gate key vectors of a gated MLP, else None.
        W_up: ``(d_mlp, d_model)`` up key vectors of a gated MLP, else None.
        b_in: ``(d_mlp,)`` or None.  b_out: ``(d_model,)`` or None.
    """

    W_out: Tensor
    W_in: Tensor | None = None
    W_gate: Tensor | None = None
    W_up: Tensor | None = None
    b_in: Tensor | None = None
    b_out: Tensor | None = None

    @property
    def gated(self) -> bool:
        return self.W_gate is not None

    @property
    def d_mlp(self) -> int:
        return self.W_out.shape[0]


def _get(root: Any, path: str) -> Any:
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
)  # fmt: skip

SUPPORTED = ", ".join(f"{f.name} ({'/'.join(f.model_types)})" for f in FAMILIES)


def find_family(model_type: str) -> Family:
    """The family that handles ``config.model_type``; raises UnsupportedModelError otherwise."""
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    raise UnsupportedModelError(
        f"unsupported architecture {model_type!r}; supported families: {SUPPORTED}"
    )


class ModelView:
    """A uniform view of a causal LM's vocabulary-facing parts and its per-layer weights.

    Args:
        model: a ``transformers`` ``*ForCausalLM`` model of a supported family.

    Raises:
        UnsupportedModelError: the family is unknown or the variant is not handled.
    """

    def __init__(self, model: Any):
        config = model.config
        self.model = model
        self.config = config
        self.family = find_family(getattr(config, "model_type", type(model).__name__))
        self._check_variant()
        self.final_norm: Any = _get(model, self.family.final_norm)
        self.blocks: Any = _get(model, self.family.blocks)
        self.n_layers: int = len(self.blocks)
        self.d_model: int = config.hidden_size
        self.n_heads: int = config.num_attention_heads
        self.n_kv_heads: int = getattr(config, "num_key_value_heads", None) or self.n_heads
        self.d_head: int = getattr(config, "head_dim", None) or self.d_model // self.n_heads
        self.vocab_size: int = self.W_U.shape[0]
        self.softcap: float | None = getattr(config, "final_logit_softcapping", None)
        self.parallel: bool = self.family.mlp_norm(config) is None
        # Gemma scales the embedding output by sqrt(d_model) before the first block.
        self.embed_scale: float = (
            math.sqrt(self.d_model) if self.family.name.startswith("gemma") else 1.0
        )

    def _check_variant(self) -> None:
        config = self.config
        if self.family.name == "opt":
            if not getattr(config, "do_layer_norm_before", True):
                raise UnsupportedModelError(
                    "OPT with post-layer-norm (opt-350m style) is not supported"
                )
            if getattr(config, "word_embed_proj_dim", config.hidden_size) != config.hidden_size:
                raise UnsupportedModelError("OPT with project_in/project_out is not supported")

    # ----- vocabulary-facing parts -----------------------------------------------------------
    @property
    def W_E(self) -> Tensor:
        """Token embedding matrix ``(vocab, d_model)`` (unscaled; see ``embed_scale``)."""
        return self.model.get_input_embeddings().weight

    @property
    def W_U(self) -> Tensor:
        """Unembedding matrix ``(vocab, d_model)``: ``logits = normed @ W_U.T + b_U``."""
        return self.model.get_output_embeddings().weight

    @property
    def b_U(self) -> Tensor | None:
        """Unembedding bias ``(vocab,)`` or None."""
        return getattr(self.model.get_output_embeddings(), "bias", None)

    @property
    def tied(self) -> bool:
        """Whether the unembedding shares the embedding's storage."""
        return self.W_E.data_ptr() == self.W_U.data_ptr()

    @property
    def norm_kind(self) -> str:
        return self.family.norm_kind

    @property
    def norm_gain(self) -> Tensor:
        """The final norm's effective per-dimension gain ``(d_model,)`` (Gemma's ``1 + w``)."""
        weight = self.final_norm.weight
        return 1.0 + weight if self.norm_kind == "gemma_rmsnorm" else weight

    def norm_linear(self, x: Tensor) -> Tensor:
        """The direction-preserving part of the final norm: centring (LayerNorm) and gain.

        The per-vector scale (1 / rms or 1 / std) and LayerNorm's bias are dropped: they do not
        change which tokens a direction promotes. Used when projecting parameter vectors.
        """
        if self.norm_kind == "layernorm":
            x = x - x.mean(dim=-1, keepdim=True)
        return x * self.norm_gain.to(x.dtype)

    def cap(self, logits: Tensor) -> Tensor:
        """Gemma-2's final logit soft-capping (identity for other families)."""
        if self.softcap is None:
            return logits
        return torch.tanh(logits / self.softcap) * self.softcap

    def unembed(self, resid: Tensor, *, normed: bool = False, out: Tensor | None = None) -> Tensor:
        """Logits ``(..., vocab)`` of residual states ``(..., d_model)``: final norm, W_U, cap.

        Args:
            resid: residual-stream states, before the final norm (unless ``normed``).
            normed: the states already went through the final norm (e.g. ``hidden_states[-1]``).
            out: a buffer of the logits' shape to write into (used when dtypes match).
        """
        x = resid if normed else self.final_norm(resid)
        if out is None or out.dtype != x.dtype:
            return self.cap(nn.functional.linear(x, self.W_U, self.b_U))  # (..., vocab)
        torch.matmul(x, self.W_U.T, out=out)  # (..., vocab)
        if self.b_U is not None:
            out.add_(self.b_U)
        if self.softcap is not None:
            out.div_(self.softcap).tanh_().mul_(self.softcap)
        return out

    # ----- per-layer parts -------------------------------------------------------------------
    def check_layer(self, layer: int) -> int:
        from vocablens.errors import InputError

        if not -self.n_layers <= layer < self.n_layers:
            raise InputError(
                f"layer {layer} out of range: the model has layers 0..{self.n_layers - 1}"
            )
        return layer % self.n_layers

    def attention(self, layer: int) -> AttentionWeights:
        """Attention weights of block ``layer`` (see :class:`AttentionWeights`)."""
        block = self.blocks[self.check_layer(layer)]
        return self.family.attention(block, self.n_heads, self.n_kv_heads)

    def mlp(self, layer: int) -> MLPWeights:
        """MLP weights of block ``layer`` (see :class:`MLPWeights`)."""
        return self.family.mlp(self.blocks[self.check_layer(layer)])

    def attn_module(self, layer: int) -> nn.Module:
        return getattr(self.blocks[layer], self.family.attn)

    def mlp_norm_module(self, layer: int) -> nn.Module | None:
        """The module whose input is the mid-block residual (None for parallel blocks)."""
        name = self.family.mlp_norm(self.config)
        return None if name is None else getattr(self.blocks[layer], name)

    def describe(self) -> dict[str, object]:
        """A model card: family, sizes, norm kind, tying."""
        return {
            "family": self.family.name,
            "model_type": self.config.model_type,
            "n_layers": self.n_layers,
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "n_kv_heads": self.n_kv_heads,
            "d_head": self.d_head,
            "d_mlp": self.mlp(0).d_mlp,
            "gated_mlp": self.mlp(0).gated,
            "vocab_size": self.vocab_size,
            "norm": self.norm_kind,
            "tied_embeddings": self.tied,
            "parallel_blocks": self.parallel,
            "final_logit_softcap": self.softcap,
        }
