"""Plain batched forward passes for interventions: right-padded prompts, logits or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from vocablens.lens import inputs
from vocablens.model.loading import LoadedModel, load_model
from vocablens.model.view import ModelView

Tensor = torch.Tensor
Prompt = str | Sequence[int]


def as_loaded(model: Any) -> LoadedModel:
    """``model`` as a LoadedModel: a Lens's own, or :func:`~vocablens.load_model`'s."""
    loaded = getattr(model, "loaded", None)
    return loaded if isinstance(loaded, LoadedModel) else load_model(model)


def token_ids(lm: LoadedModel, prompts: Sequence[Prompt], bos: bool = False) -> list[list[int]]:
    """Token ids of each prompt (strings through the tokenizer, id lists checked)."""
    view = lm.view
    return [
        inputs.tokenize(p, lm.tokenizer, view.W_E.shape[0], view.context_length, bos=bos)
        for p in prompts
    ]


def pad(ids: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[Tensor, Tensor]:
    """Right-padded ``(batch, pos)`` input ids and attention mask."""
    B, T = len(ids), max(len(i) for i in ids)
    input_ids = torch.full((B, T), pad_id, dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.long)
    for b, row in enumerate(ids):
        input_ids[b, : len(row)] = torch.tensor(list(row), dtype=torch.long)
        mask[b, : len(row)] = 1
    return input_ids, mask


@torch.inference_mode()
def logits_at(view: ModelView, ids: Sequence[Sequence[int]], positions: Sequence[int]) -> Tensor:
    """Float32 logits of row ``b`` at position ``positions[b]``: ``(batch, vocab)``.

    Right padding keeps every prompt's positions; causal attention keeps the padding unseen.
    """
    input_ids, mask = pad(ids)
    device = view.W_U.device
    out = view.model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                     use_cache=False)  # fmt: skip
    rows = torch.arange(len(ids))
    return out.logits[rows, torch.tensor(list(positions))].float()  # (batch, vocab)


def last_logits(view: ModelView, ids: Sequence[Sequence[int]]) -> Tensor:
    """Float32 logits at each prompt's last token: ``(batch, vocab)``."""
    return logits_at(view, ids, [len(i) - 1 for i in ids])
