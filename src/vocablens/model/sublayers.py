"""Where components write into the residual stream, per family: the one reader of the path table.

Interventions, direct logit attribution, component capture and corpus runs all find their
modules here, from :data:`vocablens.model.families.WRITE_PATHS`; nothing else reads that table.
The modules whose input or output is a node's activation:

* ``down``: the MLP's down projection; its *input* ``(..., d_mlp)`` holds the value-vector
  coefficients (neuron ``i`` writes ``coef[i] * W_out[i]``; for gated MLPs ``act(gate) * up``).
* ``o_proj``: the attention output projection; its *input* ``(..., n_heads * d_head)`` is the
  head outputs ``z`` laid out head-major (head ``h`` owns columns ``h*d_head : (h+1)*d_head``),
  so that ``z[h] @ W_O[h]`` is head ``h``'s write (see :mod:`vocablens.model.weights`).
* ``attn_out`` / ``mlp_out``: the module whose *output* is what the sublayer adds to the residual
  stream (the post-sublayer norm of Gemma-2, Gemma-3 and OLMo-2; OPT's ``fc2``), matching the
  ``attn_out`` / ``mlp_out`` sites of :mod:`vocablens.model.hooks`.

OPT flattens ``(batch, pos)`` before its MLP; :func:`as_batch_pos` restores the shape.
Mixture-of-experts layers fuse their experts into 3-D parameters: they have no ``down`` module,
so neuron interventions there raise :class:`~vocablens.errors.InputError` (block ones work).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from vocablens.errors import InputError
from vocablens.model.families import WRITE_PATHS, module_at
from vocablens.model.view import ModelView

PARTS = ("down", "o_proj", "attn_out", "mlp_out")


def _paths(view: ModelView) -> tuple[str, str, str | None, str | None]:
    """This family's ``(o_proj, down, attention post-norm, MLP post-norm)`` paths below a block."""
    return WRITE_PATHS[view.family.name]


def attn_out_proj(view: ModelView, layer: int) -> nn.Module:
    """Block ``layer``'s attention output projection; its input is the heads' outputs ``z``."""
    return module_at(view.blocks[layer], _paths(view)[0])


def mlp_down_proj(view: ModelView, layer: int) -> nn.Module | None:
    """Block ``layer``'s MLP down-projection (its input: the neuron coefficients); None for MoE."""
    if view.mlp(layer).moe:
        return None
    return module_at(view.blocks[layer], _paths(view)[1])


def post_norms(view: ModelView, layer: int) -> tuple[nn.Module | None, nn.Module | None]:
    """The norms after block ``layer``'s attention and MLP outputs (None where there is none)."""
    block = view.blocks[layer]
    attn_norm, mlp_norm = _paths(view)[2:]
    return (
        None if attn_norm is None else module_at(block, attn_norm),
        None if mlp_norm is None else module_at(block, mlp_norm),
    )


def sublayer(view: ModelView, layer: int, part: str) -> nn.Module:
    """The module of block ``layer`` for ``part`` (one of :data:`PARTS`).

    Raises:
        InputError: no such layer, or a neuron part on a mixture-of-experts layer.
    """
    if part not in PARTS:
        raise ValueError(f"unknown sublayer part {part!r}; one of {', '.join(PARTS)}")
    layer = view.check_layer(layer)
    block = view.blocks[layer]
    attn_norm, mlp_norm = post_norms(view, layer)
    if part == "o_proj":
        return attn_out_proj(view, layer)
    if part == "attn_out":
        return attn_norm if attn_norm is not None else module_at(block, view.family.attn)
    if part == "mlp_out":  # OPT has no MLP module: its down projection is the MLP's last step
        if mlp_norm is not None:
            return mlp_norm
        return module_at(block, "mlp" if hasattr(block, "mlp") else _paths(view)[1])
    down = mlp_down_proj(view, layer)
    if down is None:
        raise InputError(
            f"layer {layer} is a mixture-of-experts layer: neuron interventions are not "
            "supported there (ablate the whole MLP with L.mlp)"
        )
    return down


def d_mlp(view: ModelView, layer: int) -> int:
    """Neurons of block ``layer``'s (dense) MLP."""
    return view.mlp(layer).d_mlp


def as_batch_pos(x: torch.Tensor, shape: tuple[int, ...] | None) -> torch.Tensor:
    """``x`` as ``(batch, pos, width)``: undo OPT's flattening with the block input's ``shape``."""
    if x.ndim == 3 or shape is None:
        return x
    return x.view(shape[0], shape[1], -1)  # (batch, pos, width)


def first_tensor(value: Any) -> torch.Tensor:
    """The tensor of a module output that may be a tuple (attention returns ``(out, weights)``)."""
    return value[0] if isinstance(value, (tuple, list)) else value


def with_first(value: Any, tensor: torch.Tensor) -> Any:
    """``value`` with its first tensor replaced by ``tensor`` (tuples stay tuples)."""
    if isinstance(value, tuple):
        return (tensor, *value[1:])
    if isinstance(value, list):
        return [tensor, *value[1:]]
    return tensor
