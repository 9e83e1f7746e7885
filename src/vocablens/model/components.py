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


def routing_inputs(args: tuple, kwargs: dict) -> tuple[Tensor, Tensor, Tensor]:
    """What an experts module was called with: ``(states, top-k experts, top-k weights)``.

    Args:
        args: the call's positional arguments (a forward pre-hook's ``args``).
        kwargs: its keyword arguments (``with_kwargs=True``), in call order.

    Returns:
        ``hidden`` ``(tokens, d_model)``, ``experts`` ``(tokens, top_k)`` and ``weights``
        ``(tokens, top_k)``, as the module received them.
    """
    values = list(args) + list(kwargs.values())
    return values[0], values[1], values[2]


def routing_groups(experts: Tensor, n_experts: int) -> list[tuple[Tensor, Tensor]]:
    """Per expert, the ``(rows, slots)`` of ``experts`` ``(tokens, top_k)`` that chose it.

    One stable sort and one transfer of the counts for all experts (not one per expert: on a
    GPU each would wait for the device). Rows ascend within an expert; slots holding no
    expert (out of range) belong to none.

    Returns:
        ``n_experts`` pairs of ``(n_routed,)`` int64 tensors.
    """
    top_k = experts.shape[1]
    flat = experts.reshape(-1).to(torch.int64)  # (tokens * top_k,)
    flat = torch.where((flat >= 0) & (flat < n_experts), flat, n_experts)
    order = torch.argsort(flat, stable=True)  # (tokens * top_k,): by expert, then row and slot
    counts = torch.bincount(flat, minlength=n_experts + 1).tolist()
    return [(part // top_k, part % top_k) for part in order.split(counts)[:n_experts]]


def routed_coefficients(
    view: ModelView,
    layer: int,
    hidden: Tensor,
    experts: Tensor,
    weights: Tensor,
    expert: int,
    routed: tuple[Tensor, Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """The tokens routed to one expert and its neurons' routing-weighted coefficients for them.

    A token is routed to ``expert`` when the expert is among its top-k choices. Expert ``e``
    neuron ``i`` adds ``w_e * act(gate_i . x) * (up_i . x) * v_{e,i}`` to the residual stream;
    the coefficient returned is ``w_e * act(gate_i . x) * (up_i . x)``, the routing weight
    included (the number that multiplies the value vector in the layer's output).

    Args:
        view: the model's view.
        layer: a mixture-of-experts block.
        hidden: ``(tokens, d_model)`` the experts module's input states.
        experts: ``(tokens, top_k)`` the chosen experts (slots out of range are dropped).
        weights: ``(tokens, top_k)`` their routing weights.
        expert: the expert, ``0..n_experts-1``.
        routed: its ``(rows, slots)`` when already known (:func:`routing_groups`).

    Returns:
        ``rows`` ``(n_routed,)`` int64, the routed tokens' rows of ``hidden`` (ascending), and
        their coefficients ``(n_routed, d_mlp)`` in the weights' dtype.
    """
    mlp = view.mlp(layer)
    assert mlp.W_gate is not None and mlp.W_up is not None
    act: Any = experts_module(view, layer).act_fn
    rows, slots = (experts == expert).nonzero(as_tuple=True) if routed is None else routed
    x = hidden.index_select(0, rows).to(mlp.W_out.dtype)  # (n_routed, d_model)
    gate = x @ mlp.W_gate[expert].T  # (n_routed, d_mlp)
    up = x @ mlp.W_up[expert].T  # (n_routed, d_mlp)
    w = weights[rows, slots].to(x.dtype).unsqueeze(1)  # (n_routed, 1)
    return rows, w * act(gate) * up


def expert_coefficients(
    view: ModelView, layer: int, hidden: Tensor, experts: Tensor, weights: Tensor
) -> Tensor:
    """Routing-weighted neuron coefficients of a mixture-of-experts layer for some tokens.

    Every expert's :func:`routed_coefficients`, zero for experts a token is not routed to.

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
    out = hidden.new_zeros((hidden.shape[0], mlp.n_experts, mlp.d_mlp))
    groups = routing_groups(experts, mlp.n_experts)
    for e in range(mlp.n_experts):
        rows, coefficients = routed_coefficients(view, layer, hidden, experts, weights, e,
                                                 groups[e])  # fmt: skip
        out[rows, e] += coefficients.to(out.dtype)  # (n_routed, d_mlp); a row appears once
    return out
