"""Capture residual-stream states during a forward pass, with hooks that are always removed.

Sites, for a model with ``L`` blocks:

* ``resid``, ℓ = 0..L: the residual stream entering block ℓ (ℓ = 0 is the embedding output,
  ℓ = L the output of the last block, *before* the final norm).
* ``resid_mid``, ℓ = 0..L-1: block ℓ's residual after attention, before the MLP. For parallel
  blocks (GPT-NeoX, Phi, GPT-J), where attention and MLP both read the block input, it is
  defined as ``resid[ℓ] + attn_out[ℓ]``.
* ``attn_out`` / ``mlp_out``, ℓ = 0..L-1: what block ℓ's attention / MLP adds to the residual stream
  (``resid_mid - resid`` and ``resid[ℓ+1] - resid_mid``; the post-sublayer norms of Gemma-2,
  Gemma-3 and OLMo-2 included; a mixture-of-experts MLP's output is the routed sum of experts).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch

from vocablens.model.view import ModelView

SITES = ("resid", "resid_mid", "attn_out", "mlp_out")
Site = tuple[str, int]  # (site name, layer)


def _first_tensor(value) -> torch.Tensor:
    return value[0] if isinstance(value, (tuple, list)) else value


@contextmanager
def capture(view: ModelView, need_mid: bool) -> Iterator[dict[Site, torch.Tensor]]:
    """Record ``resid`` for every layer (and ``resid_mid`` when ``need_mid``) during a forward.

    Yields:
        A dict filled during the forward pass: ``("resid", ℓ)`` -> ``(batch, pos, d_model)``,
        and ``("resid_mid", ℓ)`` when asked.
    """
    store: dict[Site, torch.Tensor] = {}
    handles = []

    def save_input(key: Site):
        def hook(module, args, kwargs):
            store[key] = args[0] if args else kwargs["hidden_states"]

        return hook

    def save_output(key: Site):
        def hook(module, args, output):
            store[key] = _first_tensor(output)

        return hook

    def save_parallel_mid(layer: int):
        # Parallel blocks: resid_mid = block input + attention output.
        def hook(module, args, output):
            store[("resid_mid", layer)] = store[("resid", layer)] + _first_tensor(output)

        return hook

    try:
        blocks = view.blocks
        handles.append(
            blocks[0].register_forward_pre_hook(save_input(("resid", 0)), with_kwargs=True)
        )
        for layer, block in enumerate(blocks):
            handles.append(block.register_forward_hook(save_output(("resid", layer + 1))))
            if not need_mid:
                continue
            norm = view.mlp_norm_module(layer)
            if norm is not None:
                hook = save_input(("resid_mid", layer))
                handles.append(norm.register_forward_pre_hook(hook, with_kwargs=True))
            else:
                attn = view.attn_module(layer)
                handles.append(attn.register_forward_hook(save_parallel_mid(layer)))
        yield store
    finally:
        for handle in handles:
            handle.remove()


def site_states(store: dict[Site, torch.Tensor], sites: Iterable[Site]) -> dict[Site, torch.Tensor]:
    """Derive the requested sites from captured ``resid`` / ``resid_mid`` states."""
    out: dict[Site, torch.Tensor] = {}
    for key, value in store.items():  # OPT flattens (batch, pos) before its MLP
        if key[0] == "resid_mid":
            store[key] = value.reshape(store[("resid", key[1])].shape)
    for name, layer in sites:
        if name in ("resid", "resid_mid"):
            out[(name, layer)] = store[(name, layer)]
        elif name == "attn_out":
            out[(name, layer)] = store[("resid_mid", layer)] - store[("resid", layer)]
        elif name == "mlp_out":
            out[(name, layer)] = store[("resid", layer + 1)] - store[("resid_mid", layer)]
        else:
            raise ValueError(f"unknown site {name!r}")
    return out


def forward_capture(
    view: ModelView,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    sites: list[Site],
) -> dict[Site, torch.Tensor]:
    """Run the model once and return the states at ``sites``, each ``(batch, pos, d_model)``."""
    need_mid = any(name != "resid" for name, _ in sites)
    kwargs = {"input_ids": input_ids, "attention_mask": attention_mask, "use_cache": False}
    with torch.inference_mode(), capture(view, need_mid) as store:
        try:  # the lens computes its own logits: skip the model's full-vocabulary head
            view.model(**kwargs, logits_to_keep=1)
        except TypeError:
            view.model(**kwargs)
    return site_states(store, sites)
