"""Where each component writes into the residual stream, and the norms between it and the stream.

Direct logit attribution needs, per block, the input of the attention output projection (each
head's output ``z``, before its slice of ``W_O``), the input of the MLP down-projection (each
neuron's coefficient ``m_i``; for a mixture-of-experts layer, what the experts module receives:
the states and the routing), the norms that follow a sublayer (Gemma-2, Gemma-3, OLMo-2), and the
absolute positional embedding (GPT-2, OPT). The modules themselves are found by
:mod:`vocablens.model.sublayers` (:func:`~vocablens.model.sublayers.attn_out_proj`,
:func:`~vocablens.model.sublayers.mlp_down_proj`, :func:`~vocablens.model.sublayers.post_norms`).

A norm between a component and the residual stream is read with its scale frozen at the value it
took for one position (:func:`norm_scale`): with that scale, RMSNorm is the linear map
``x -> gain * x * s`` and LayerNorm ``x -> gain * (x - mean(x)) * s + bias``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vocablens.model.families import module_at
from vocablens.model.view import ModelView

Tensor = torch.Tensor

# Absolute positional embeddings added to the token embeddings (paths from the model root).
_POSITIONAL = {"gpt2": "transformer.wpe", "opt": "model.decoder.embed_positions"}


@dataclass(frozen=True)
class NormParts:
    """A norm module's constant parts: ``norm(x) = gain * (x - centre * mean(x)) * s + bias``.

    Attributes:
        gain: ``(d_model,)`` effective per-dimension gain (Gemma's ``1 + w``).
        bias: ``(d_model,)`` or None (LayerNorm's shift).
        centre: whether the norm subtracts the mean first (LayerNorm).
        eps: the epsilon inside the square root.
    """

    gain: Tensor
    bias: Tensor | None
    centre: bool
    eps: float


def norm_parts(module: nn.Module, kind: str) -> NormParts:
    """The constant parts of a norm ``module`` of kind ``layernorm`` / ``rmsnorm`` / ``gemma_rmsnorm``."""
    weight: Tensor = module.weight  # type: ignore[assignment]
    gain = 1.0 + weight if kind == "gemma_rmsnorm" else weight
    eps: Any = getattr(module, "eps", None)
    if eps is None:
        eps = getattr(module, "variance_epsilon", 1e-6)
    bias = getattr(module, "bias", None)
    return NormParts(gain=gain, bias=bias, centre=kind == "layernorm", eps=float(eps))


def norm_scale(parts: NormParts, x: Tensor) -> Tensor:
    """The scale ``s`` a norm applies to ``x`` (``1/std`` or ``1/rms``), ``(...,)`` for ``(..., d)``."""
    if parts.centre:
        x = x - x.mean(dim=-1, keepdim=True)
    return torch.rsqrt(x.pow(2).mean(dim=-1) + parts.eps)


def read_through(parts: NormParts, scale: Tensor, direction: Tensor) -> Tensor:
    """The direction ``w`` with ``norm(x) @ direction == x @ w + const`` at a frozen ``scale``.

    Args:
        parts: the norm's constant parts.
        scale: the frozen scale, a scalar tensor.
        direction: ``(d_model,)`` a direction on the norm's output side.

    Returns:
        ``(d_model,)`` the same direction on its input side (LayerNorm's centring is symmetric,
        so it centres ``w``).
    """
    w = direction * parts.gain.to(direction) * scale
    return w - w.mean() if parts.centre else w


def experts_module(view: ModelView, layer: int) -> nn.Module:
    """Block ``layer``'s experts module (called with the states, the top-k experts and weights)."""
    return view.blocks[layer].mlp.experts


def positional_embedding(view: ModelView) -> nn.Module | None:
    """The absolute positional embedding module (GPT-2, OPT), None for rotary families."""
    path = _POSITIONAL.get(view.family.name)
    return None if path is None else module_at(view.model, path)


def expert_coefficients(
    view: ModelView, layer: int, hidden: Tensor, experts: Tensor, weights: Tensor
) -> Tensor:
    """Routing-weighted neuron coefficients of a mixture-of-experts layer for some tokens.

    The expert ``e`` neuron ``i`` sub-update is ``w_e * act(gate_i . x) * (up_i . x) * v_{e,i}``;
    this returns ``w_e * act(gate_i . x) * (up_i . x)`` (zero for experts the token is not routed
    to), recomputed from the weights for the states the experts module received.

    Args:
        view: the model's view.
        layer: a mixture-of-experts block.
        hidden: ``(tokens, d_model)`` the experts module's input states.
        experts: ``(tokens, top_k)`` the chosen experts.
        weights: ``(tokens, top_k)`` their routing weights.

    Returns:
        ``(tokens, n_experts, d_mlp)`` in ``hidden``'s dtype.
    """
    mlp = view.mlp(layer)
    act: Any = experts_module(view, layer).act_fn
    out = hidden.new_zeros((hidden.shape[0], mlp.n_experts, mlp.d_mlp))
    x = hidden.to(mlp.W_out.dtype)
    for slot in range(experts.shape[1]):
        for t in range(hidden.shape[0]):
            e = int(experts[t, slot])
            if not 0 <= e < mlp.n_experts:  # some routers mark dropped slots out of range
                continue
            assert mlp.W_gate is not None and mlp.W_up is not None
            gate = mlp.W_gate[e] @ x[t]  # (d_mlp,)
            up = mlp.W_up[e] @ x[t]  # (d_mlp,)
            out[t, e] += (weights[t, slot] * act(gate) * up).to(out.dtype)
    return out
