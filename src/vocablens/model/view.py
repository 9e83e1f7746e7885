"""The architecture view: one face for every supported family.

:class:`ModelView` gives the embedding ``W_E``, the unembedding ``W_U`` (+ bias), the final norm
as a function, the final logit soft-cap, the blocks, and per layer the attention weights per head
and the MLP weights in one layout (:mod:`vocablens.model.weights`); the family table is
:mod:`vocablens.model.families`. Nothing outside :mod:`vocablens.model` looks at module names.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from vocablens.errors import UnsupportedModelError
from vocablens.layerspec import layer_list
from vocablens.model.families import find_family, module_at
from vocablens.model.weights import AttentionWeights, MLPWeights

Tensor = torch.Tensor


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
        self.final_norm: Any = module_at(model, self.family.final_norm)
        self.blocks: Any = module_at(model, self.family.blocks)
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
        """``"layernorm"``, ``"rmsnorm"`` or ``"gemma_rmsnorm"``."""
        return self.family.norm_kind

    @property
    def norm_gain(self) -> Tensor:
        """The final norm's effective per-dimension gain ``(d_model,)`` (Gemma's ``1 + w``)."""
        weight = self.final_norm.weight
        return 1.0 + weight if self.norm_kind == "gemma_rmsnorm" else weight

    @property
    def context_length(self) -> int | None:
        """The longest input the model's positions allow (None when the config sets no limit)."""
        config = self.config
        for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
            value = getattr(config, name, None)
            if value:
                return int(value)
        return None

    def unit_rms(self, x: Tensor) -> Tensor:
        """States as a block's input norm sees them, without its gain: centred (LayerNorm), unit RMS.

        Args:
            x: ``(..., d_model)`` residual-stream vectors.

        Returns:
            ``(..., d_model)``, same dtype.
        """
        if self.norm_kind == "layernorm":
            x = x - x.mean(dim=-1, keepdim=True)
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + 1e-12)

    def norm_linear(self, x: Tensor) -> Tensor:
        """The direction-preserving part of the final norm: centring (LayerNorm) and gain.

        The per-vector scale (1 / rms or 1 / std) and LayerNorm's bias are dropped: they do not
        change which tokens a direction promotes. Used when projecting parameter vectors.
        """
        if self.norm_kind == "layernorm":
            x = x - x.mean(dim=-1, keepdim=True)
        return x * self.norm_gain.to(x.dtype)

    def cap(self, logits: Tensor) -> Tensor:
        """Final logit soft-capping (Gemma-2; Gemma-3 where set), identity for other families."""
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
        """``layer`` as a block number ``0..n_layers-1`` (negative counts from the end).

        Raises:
            InputError: the model has no such block.
        """
        return layer_list([layer], self.n_layers)[0]

    def attention(self, layer: int) -> AttentionWeights:
        """Attention weights of block ``layer`` (see :class:`AttentionWeights`)."""
        block = self.blocks[self.check_layer(layer)]
        return self.family.attention(block, self.n_heads, self.n_kv_heads)

    def mlp(self, layer: int) -> MLPWeights:
        """MLP weights of block ``layer`` (see :class:`MLPWeights`)."""
        return self.family.mlp(self.blocks[self.check_layer(layer)])

    def attn_module(self, layer: int) -> nn.Module:
        """The attention module of block ``layer``."""
        return getattr(self.blocks[layer], self.family.attn)

    def mlp_norm_module(self, layer: int) -> nn.Module | None:
        """The module whose input is the mid-block residual (None for parallel blocks)."""
        name = self.family.mlp_norm(self.config)
        return None if name is None else getattr(self.blocks[layer], name)

    def describe(self) -> dict[str, object]:
        """A model card: family, sizes, norm kind, tying.

        ``d_mlp`` is layer 0's neuron count (per expert in a mixture-of-experts layer);
        ``n_experts`` the most experts of any layer (0 for a dense model).
        """
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
            "n_experts": max(self.mlp(layer).n_experts for layer in range(self.n_layers)),
            "vocab_size": self.vocab_size,
            "norm": self.norm_kind,
            "tied_embeddings": self.tied,
            "parallel_blocks": self.parallel,
            "final_logit_softcap": self.softcap,
        }
