"""Record what every component writes at one position during an ordinary forward pass.

:func:`capture_components` installs forward hooks (always removed on exit) that keep, for one
position of a one-prompt batch, the inputs of the places where components enter the residual
stream (:mod:`vocablens.model.sublayers`). Hooks are read, never changed: a hook another tool
installed (an ablation, a patch) acts as usual, and what it changed is what gets recorded.

Keys of the yielded dict (each value a tensor for the position, detached and copied):

* ``"resid0"``: ``(d_model,)`` the residual stream entering block 0 (all embeddings);
* ``"pos_embed"``: ``(d_model,)`` the absolute positional embedding (GPT-2, OPT only);
* ``("z", ℓ)``: ``(n_heads * d_head,)`` the heads' outputs entering block ℓ's output projection;
* ``("attn_post", ℓ)`` / ``("mlp_post", ℓ)``: ``(d_model,)`` the input of the norm after block
  ℓ's attention / MLP (Gemma-2, Gemma-3, OLMo-2 only);
* ``("m", ℓ)``: ``(d_mlp,)`` the neuron coefficients entering a dense MLP's down-projection;
* ``("moe", ℓ)``: ``(hidden (d_model,), experts (top_k,), weights (top_k,))`` what a
  mixture-of-experts layer's experts module received;
* ``"final"``: ``(d_model,)`` the input of the final norm.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from vocablens.model import components, sublayers
from vocablens.model.view import ModelView

Tensor = torch.Tensor


def _at(tensor: Tensor, n_pos: int, pos: int) -> Tensor:
    """Row ``pos`` of a one-prompt tensor, ``(1, n_pos, ...)`` or flattened ``(n_pos, ...)``."""
    if tensor.ndim == 1:  # (n_pos,): e.g. nothing but positions
        return tensor[pos].detach().clone()
    return tensor.reshape(-1, n_pos, tensor.shape[-1])[0, pos].detach().clone()  # (features,)


@contextmanager
def capture_components(view: ModelView, n_pos: int, pos: int) -> Iterator[dict[Any, Any]]:
    """Hooks that record every component's input at position ``pos`` (see the module docstring).

    Args:
        view: the model's view.
        n_pos: the prompt's length (the batch holds one prompt).
        pos: the position to record, ``0..n_pos-1``.

    Yields:
        The dict, filled during the forward pass run inside the ``with`` block.
    """
    store: dict[Any, Any] = {}
    handles = []

    def save_input(key: Any):
        def hook(module, args, kwargs):
            value = args[0] if args else next(iter(kwargs.values()))
            store[key] = _at(value, n_pos, pos)

        return hook

    def save_output(key: Any):
        def hook(module, args, output):
            value = output[0] if isinstance(output, (tuple, list)) else output
            store[key] = _at(value, n_pos, pos)

        return hook

    def save_routing(key: Any):
        def hook(module, args, kwargs):
            values = components.routing_inputs(args, kwargs)  # (states, experts, weights)
            store[key] = tuple(_at(v, n_pos, pos) for v in values)

        return hook

    def pre(module: torch.nn.Module, hook: Any) -> None:
        handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))

    try:
        pre(view.blocks[0], save_input("resid0"))
        pre(view.final_norm, save_input("final"))
        positional = components.positional_embedding(view)
        if positional is not None:
            handles.append(positional.register_forward_hook(save_output("pos_embed")))
        for layer in range(view.n_layers):
            pre(sublayers.attn_out_proj(view, layer), save_input(("z", layer)))
            down = sublayers.mlp_down_proj(view, layer)
            if down is not None:
                pre(down, save_input(("m", layer)))
            else:
                pre(components.experts_module(view, layer), save_routing(("moe", layer)))
            attn_post, mlp_post = sublayers.post_norms(view, layer)
            if attn_post is not None:
                pre(attn_post, save_input(("attn_post", layer)))
            if mlp_post is not None:
                pre(mlp_post, save_input(("mlp_post", layer)))
        yield store
    finally:
        for handle in handles:
            handle.remove()
