"""What an intervention does to the logit lens: before / after at each prompt's last position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from vocablens.intervene.forward import Prompt, as_loaded, pad, token_ids
from vocablens.intervene.interventions import Intervention
from vocablens.lens import inputs
from vocablens.model.hooks import forward_capture
from vocablens.tokens import shown, token_strings


@dataclass
class InterventionEffect:
    """The logit lens at each prompt's last position, without and with an intervention.

    ``P`` prompts, ``S = n_layers + 1`` residual layers (``resid`` 0..L; L is the output).

    Attributes:
        labels: one line per edit.
        texts: the prompts.
        layers: ``(S,)`` residual layers read.
        target_ids: ``(P,)`` the tracked token per prompt (default: the unedited top-1).
        target_rank_before, target_rank_after: ``(P, S)`` the target's rank (0 = top).
        target_prob_before, target_prob_after: ``(P, S)`` its probability.
        kl: ``(P, S)`` KL(before || after) of the lens distributions, in nats.
        top1_before, top1_after: ``(P, S)`` the lens top-1 id per layer.
        top_ids_before, top_ids_after: ``(P, k)`` the output's top-k ids.
        top_probs_before, top_probs_after: ``(P, k)`` their probabilities.
        vocab: id -> token string for every id above.
    """

    labels: list[str]
    texts: list[str]
    layers: np.ndarray
    target_ids: np.ndarray
    target_rank_before: np.ndarray
    target_rank_after: np.ndarray
    target_prob_before: np.ndarray
    target_prob_after: np.ndarray
    kl: np.ndarray
    top1_before: np.ndarray
    top1_after: np.ndarray
    top_ids_before: np.ndarray
    top_ids_after: np.ndarray
    top_probs_before: np.ndarray
    top_probs_after: np.ndarray
    vocab: dict[int, str] = field(default_factory=dict)

    def token(self, token_id: int) -> str:
        """The display string of ``token_id``."""
        return shown(self.vocab.get(int(token_id), f"<{int(token_id)}>"))

    def table(self, p: int = 0) -> str:
        """A text table for prompt ``p``: output top-k before/after, then per layer."""
        lines = [f"intervention: {'; '.join(self.labels)}", f"prompt: {self.texts[p]!r}"]
        before = ", ".join(f"{self.token(i)} {q:.3f}" for i, q in
                           zip(self.top_ids_before[p], self.top_probs_before[p], strict=True))  # fmt: skip
        after = ", ".join(f"{self.token(i)} {q:.3f}" for i, q in
                          zip(self.top_ids_after[p], self.top_probs_after[p], strict=True))  # fmt: skip
        lines += [f"top before: {before}", f"top after:  {after}",
                  f"target {self.token(self.target_ids[p])}",
                  f"{'layer':>5}  {'rank':>13}  {'prob':>17}  {'KL':>7}  top-1 before -> after"]  # fmt: skip
        for s, layer in enumerate(self.layers):
            rank = f"{self.target_rank_before[p, s]:>5} -> {self.target_rank_after[p, s]:<5}"
            prob = f"{self.target_prob_before[p, s]:.4f} -> {self.target_prob_after[p, s]:.4f}"
            top = f"{self.token(self.top1_before[p, s])} -> {self.token(self.top1_after[p, s])}"
            lines.append(f"{layer:>5}  {rank:>13}  {prob:>17}  {self.kl[p, s]:7.4f}  {top}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (arrays as lists)."""
        out = asdict(self)
        return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in out.items()}


def _read(lm, ids: list[list[int]]) -> torch.Tensor:
    """Lens log-probabilities at each prompt's last position: ``(P, S, vocab)`` float32."""
    view = lm.view
    input_ids, mask = pad(ids)
    device = view.W_U.device
    sites = [("resid", layer) for layer in range(view.n_layers + 1)]
    states = forward_capture(view, input_ids.to(device), mask.to(device), sites)
    last = torch.tensor([len(i) - 1 for i in ids])
    rows = torch.arange(len(ids))
    x = torch.stack([states[s][rows, last] for s in sites], dim=1)  # (P, S, d_model)
    with torch.inference_mode():
        return torch.log_softmax(view.unembed(x).float(), dim=-1)  # (P, S, vocab)


def _text(lm, prompt, ids: list[int]) -> str:
    if isinstance(prompt, str):
        return prompt
    return lm.tokenizer.decode(ids) if lm.tokenizer is not None else ""


def lens_effect(
    model: Any,
    prompts: Prompt | Sequence[Prompt],
    intervention: Intervention,
    *,
    target: str | int | None = None,
    k: int = 5,
    bos: bool = False,
) -> InterventionEffect:
    """Read the logit lens at each prompt's last position without and with ``intervention``.

    Args:
        model: the model (LoadedModel, Lens, or anything :func:`~vocablens.load_model` takes).
        prompts: a prompt or a list.
        intervention: from :func:`~vocablens.intervene.interventions.ablate` and friends.
        target: a one-token target to track (default: each prompt's unedited top-1).
        k: output top tokens to list.
        bos: prepend the BOS token.

    Raises:
        InputError: bad prompts or target.
    """
    lm = as_loaded(model)
    single = isinstance(prompts, str) or (bool(prompts) and isinstance(prompts[0], int))
    batch = [prompts] if single else list(prompts)  # type: ignore[list-item]
    ids = token_ids(lm, batch, bos=bos)  # type: ignore[arg-type]
    fixed = inputs.target_id(target, lm.tokenizer, lm.view.vocab_size)
    before = _read(lm, ids)  # (P, S, vocab)
    with intervention:
        after = _read(lm, ids)  # (P, S, vocab)
    P, S, _ = before.shape
    tgt = before[:, -1].argmax(-1) if fixed is None else torch.full((P,), fixed)  # (P,)
    idx = tgt[:, None, None].expand(P, S, 1)

    def rank(logp: torch.Tensor) -> np.ndarray:
        return (logp > logp.gather(-1, idx)).sum(-1).numpy()  # (P, S)

    kl = (before.exp() * (before - after)).sum(-1).clamp_min(0)  # (P, S)
    top_b, top_a = before[:, -1].topk(k), after[:, -1].topk(k)
    result = InterventionEffect(
        labels=intervention.labels,
        texts=[_text(lm, p, i) for p, i in zip(batch, ids, strict=True)],
        layers=np.arange(S),
        target_ids=tgt.numpy(),
        target_rank_before=rank(before),
        target_rank_after=rank(after),
        target_prob_before=before.gather(-1, idx)[..., 0].exp().numpy(),
        target_prob_after=after.gather(-1, idx)[..., 0].exp().numpy(),
        kl=kl.numpy(),
        top1_before=before.argmax(-1).numpy(),
        top1_after=after.argmax(-1).numpy(),
        top_ids_before=top_b.indices.numpy(),
        top_ids_after=top_a.indices.numpy(),
        top_probs_before=top_b.values.exp().numpy(),
        top_probs_after=top_a.values.exp().numpy(),
    )
    used = np.unique(np.concatenate([result.target_ids, result.top1_before.ravel(),
                                     result.top1_after.ravel(), result.top_ids_before.ravel(),
                                     result.top_ids_after.ravel()])).tolist()  # fmt: skip
    result.vocab = dict(zip(used, token_strings(lm.tokenizer, used), strict=True))
    return result
