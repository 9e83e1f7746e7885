"""Per-position statistics of lens read-outs, on a chunk of positions × sites at a time.

Everything here works on ``(positions, sites, vocab)`` logits for a small chunk of positions; the
caller picks the chunk so that no ``layers × batch × positions × vocab`` tensor ever exists.

The statistics are written so that no log-probability tensor is formed: with
``lse = logsumexp(logits)`` and ``p = softmax(logits)``,

* entropy ``H = lse - Σ p·logits``,
* ``KL(final ‖ site) = Σ p_f·(logits_f - lse_f) - Σ p_f·logits + lse``,
* cross-entropy on token ``t`` ``= lse - logits[t]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vocablens.buffers import Scratch

Tensor = torch.Tensor


def _softmax_parts(logits: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``lse``, unnormalised ``exp(logits - max)`` and its sum, for ``(..., vocab)`` logits."""
    peak = logits.amax(dim=-1, keepdim=True)  # (..., 1)
    expd = torch.sub(logits, peak).exp_()  # (..., vocab)
    total = expd.sum(dim=-1, keepdim=True)  # (..., 1)
    return (peak + total.log()).squeeze(-1), expd, total


@dataclass
class FinalDist:
    """The model's own next-token distribution on a chunk of positions (the lens at ℓ = L).

    Attributes:
        probs: ``(pos, vocab)`` probabilities.
        neg_entropy: ``(pos,)`` ``Σ p log p``.
        top1: ``(pos,)`` the final top-1 token id.
    """

    probs: Tensor
    neg_entropy: Tensor
    top1: Tensor

    @classmethod
    def from_logits(cls, logits: Tensor) -> FinalDist:
        """The distribution of ``(pos, vocab)`` float32 logits."""
        lse, expd, total = _softmax_parts(logits)  # (pos,), (pos, vocab), (pos, 1)
        probs = expd.div_(total)  # (pos, vocab)
        neg_entropy = torch.einsum("pv,pv->p", probs, logits) - lse  # (pos,)
        return cls(probs=probs, neg_entropy=neg_entropy, top1=logits.argmax(dim=-1))


@dataclass
class ChunkStats:
    """Statistics of a chunk of positions at several sites; shapes ``(pos, sites, ...)``."""

    top_ids: Tensor  # (pos, sites, k)
    top_probs: Tensor  # (pos, sites, k)
    entropy: Tensor  # (pos, sites) nats
    kl_to_final: Tensor  # (pos, sites) KL(final ‖ site), nats
    next_token_ce: Tensor  # (pos, sites) -log p(next token); nan where there is none
    target_rank: Tensor  # (pos, sites) 0-based rank of the target token; -1 where there is none
    target_prob: Tensor  # (pos, sites) probability of the target token; nan where there is none


def chunk_stats(
    logits: Tensor,
    final: FinalDist,
    k: int,
    next_ids: Tensor,
    target_ids: Tensor,
    scratch: Scratch | None = None,
) -> ChunkStats:
    """Statistics of the read-outs of a chunk of positions.

    Args:
        logits: ``(pos, sites, vocab)`` float32 logits.
        final: the model's own distribution on the same positions.
        k: how many top tokens to keep.
        next_ids: ``(pos,)`` the actual next token id, ``-1`` where there is none.
        target_ids: ``(pos,)`` the target token id, ``-1`` where there is none.
        scratch: reusable buffers (one ``(pos, sites, vocab)`` buffer is used).
    """
    work = (scratch or Scratch()).get(
        tuple(logits.shape), logits.dtype, logits.device, "stats"
    )  # (pos, sites, vocab)

    def at(ids: Tensor) -> Tensor:  # logits of one token per position, at every site
        index = ids.clamp(min=0)[:, None, None].expand(-1, logits.shape[1], 1)  # (pos, sites, 1)
        return logits.gather(-1, index).squeeze(-1)  # (pos, sites)

    next_logit, target_logit = at(next_ids), at(target_ids)  # (pos, sites)
    peak = logits.amax(dim=-1, keepdim=True)  # (pos, sites, 1)
    torch.sub(logits, peak, out=work).exp_()  # (pos, sites, vocab): exp(logits - peak)
    total = work.sum(dim=-1)  # (pos, sites)
    lse = peak.squeeze(-1) + total.log()  # (pos, sites)
    mean_logit = work.mul_(logits).sum(dim=-1) / total  # (pos, sites): Σ p·logits
    entropy = lse - mean_logit
    final_dot = torch.einsum("pv,psv->ps", final.probs, logits)  # (pos, sites): Σ p_f·logits
    kl = final.neg_entropy[:, None] - final_dot + lse
    top_logits, top_ids = logits.topk(k, dim=-1)  # (pos, sites, k)
    rank = torch.gt(logits, target_logit[..., None], out=work).sum(dim=-1)  # (pos, sites)

    nan = torch.tensor(float("nan"), device=logits.device)
    has_target = target_ids[:, None] >= 0
    return ChunkStats(
        top_ids=top_ids,
        top_probs=(top_logits - lse[..., None]).exp(),
        entropy=entropy,
        kl_to_final=kl.clamp(min=0.0),
        next_token_ce=torch.where(next_ids[:, None] >= 0, lse - next_logit, nan),
        target_rank=torch.where(has_target, rank.long(), -1),
        target_prob=torch.where(has_target, (target_logit - lse).exp(), nan),
    )
