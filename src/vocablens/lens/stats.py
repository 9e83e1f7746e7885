"""Per-position statistics of lens read-outs, on a chunk of positions × sites at a time.

Everything here works on ``(positions, sites, vocab)`` float32 logits for a small chunk of
positions; the caller picks the chunk so that no ``layers × batch × positions × vocab`` tensor
ever exists. The chunk itself (one matrix product's output, ~50 MB for SmolLM2) does not fit in
cache, so it is read from memory once: each position's rows go through every statistic as one
cache-sized sub-block (:data:`SUB_BLOCK_BYTES`) before the next sub-block is touched.

Precision: everything is computed from centred logits ``d = logits - max`` (``d <= 0``) with
``e = exp(d)``, ``s = Σ e`` and ``p = e / s``, so that no term carries the logits' offset:

* entropy ``H = log s - Σ p·d`` (two terms >= 0),
* ``KL(final ‖ site) = Σ p_f (log p_f - log p) = -H_f - Σ p_f·d + log s``, every term a few nats;
  exactly 0 at the final site itself,
* cross-entropy on token ``t`` ``= log s - d[t]``, probabilities ``exp(d[t] - log s)``.

Every ``Σ`` is an elementwise product followed by ``torch.sum`` (cascade summation: relative
error ~1e-7), never a matrix product: a float32 BLAS dot over 49 152 terms accumulates in a
handful of running sums and was off by up to 3e-3 nats on SmolLM2 (``einsum("pv,pv->p")``:
8.704054 where float64 gives 8.700918; ``(p * l).sum(-1)``: 8.700919). The old identity form
``Σ p_f·(logits_f - lse_f) - Σ p_f·logits + lse`` also cancelled terms of the logits' size (tens
of nats, hundreds for models whose logits sit far from 0). Nor is ``torch.softmax`` used: its
kernel's row sums were off by 1.5e-5, ~1e-3 nats after multiplying by the logits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch

from vocablens.buffers import Scratch
from vocablens.errors import InputError
from vocablens.grouped_topk import GROUP, group_max, grouped_topk

Tensor = torch.Tensor

STATS = ("top", "entropy", "kl", "ce", "target")
"""The statistics the lens can compute: top-k tokens and probabilities, entropy, KL to final,
next-token cross-entropy, target rank and probability."""

SUB_BLOCK_BYTES = 2 * 2**20  # logits processed together (10 SmolLM2 rows): stays in cache


def parse_stats(stats: Iterable[str]) -> frozenset[str]:
    """The set of statistics asked for, checked against :data:`STATS`.

    Raises:
        InputError: an unknown name, or none at all.
    """
    wanted = frozenset([stats] if isinstance(stats, str) else stats)
    unknown = sorted(wanted - set(STATS))
    if unknown:
        raise InputError(f"unknown statistic {unknown[0]!r}; choose from {', '.join(STATS)}")
    if not wanted:
        raise InputError("no statistic asked for")
    return wanted


def row_max(logits: Tensor, best: Tensor) -> Tensor:
    """``(rows,)`` maxima of ``(rows, vocab)`` logits from their group maxima ``best``."""
    peak = best.amax(dim=-1)  # (rows,)
    whole = best.shape[-1] * GROUP
    if whole < logits.shape[-1]:
        peak = torch.maximum(peak, logits[:, whole:].amax(dim=-1))
    return peak


def top_logits(logits: Tensor, k: int, best: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Row-wise top-``k`` values and ids of ``(rows, vocab)`` logits, descending.

    :func:`vocablens.grouped_topk.grouped_topk` (exact group pruning), with the group maxima
    ``best`` from :func:`~vocablens.grouped_topk.group_max` when the caller has them already.
    """
    return grouped_topk(logits, k, best=best)


@dataclass
class FinalDist:
    """The model's own next-token distribution on a chunk of positions (the lens at ℓ = L).

    Attributes:
        probs: ``(pos, vocab)`` probabilities.
        entropy: ``(pos,)`` their entropy, nats.
        top1: ``(pos,)`` the final top-1 token id.
    """

    probs: Tensor
    entropy: Tensor
    top1: Tensor

    @classmethod
    def from_logits(cls, logits: Tensor, scratch: Scratch | None = None) -> FinalDist:
        """The distribution of ``(pos, vocab)`` float32 logits (two buffers of that shape used)."""
        scratch = scratch or Scratch()
        shape = tuple(logits.shape)
        peak, top1 = top_logits(logits, 1)  # (pos, 1) both
        cent = torch.sub(  # (pos, vocab) d = logits - max
            logits, peak, out=scratch.get(shape, logits.dtype, logits.device, "final_centred")
        )
        probs = torch.exp(cent, out=scratch.get(shape, logits.dtype, logits.device, "final"))
        total = probs.sum(dim=-1, keepdim=True)  # (pos, 1)
        probs.div_(total)  # (pos, vocab)
        weighted = cent.mul_(probs).sum(dim=-1)  # (pos,) Σ p·d
        return cls(probs=probs, entropy=total[:, 0].log() - weighted, top1=top1[:, 0])


@dataclass
class ChunkStats:
    """Statistics of a chunk of positions at several sites; shapes ``(pos, sites, ...)``.

    Statistics that were not asked for hold NaN (floats) or -1 (ids, ranks).
    """

    top_ids: Tensor  # (pos, sites, k)
    top_probs: Tensor  # (pos, sites, k)
    entropy: Tensor  # (pos, sites) nats
    kl_to_final: Tensor  # (pos, sites) KL(final ‖ site), nats
    next_token_ce: Tensor  # (pos, sites) -log p(next token); nan where there is none
    target_rank: Tensor  # (pos, sites) 0-based rank of the target token; -1 where there is none
    target_prob: Tensor  # (pos, sites) probability of the target token; nan where there is none


def _sub_blocks(n_pos: int, n_sites: int, row_bytes: int) -> Iterator[tuple[slice, slice]]:
    """``(positions, sites)`` slices of at most :data:`SUB_BLOCK_BYTES` of logits.

    Whole positions when one fits, else the sites of one position in pieces.
    """
    rows = max(1, SUB_BLOCK_BYTES // row_bytes)
    if rows >= n_sites:
        step = rows // n_sites
        for p0 in range(0, n_pos, step):
            yield slice(p0, min(n_pos, p0 + step)), slice(0, n_sites)
        return
    for p in range(n_pos):
        for s0 in range(0, n_sites, rows):
            yield slice(p, p + 1), slice(s0, min(n_sites, s0 + rows))


def chunk_stats(
    logits: Tensor,
    final: FinalDist,
    k: int,
    next_ids: Tensor,
    target_ids: Tensor,
    scratch: Scratch | None = None,
    *,
    stats: Iterable[str] = STATS,
    final_row: int | None = None,
) -> ChunkStats:
    """Statistics of the read-outs of a chunk of positions.

    The memory-bound passes (group maxima, centring, ``exp``, its sum, and one product-and-sum
    per asked statistic) run on one cache-sized sub-block at a time; everything that needs only
    their ``(pos, sites)`` results runs once for the whole chunk.

    Args:
        logits: ``(pos, sites, vocab)`` float32 logits, contiguous.
        final: the model's own distribution on the same positions.
        k: how many top tokens to keep.
        next_ids: ``(pos,)`` the actual next token id, ``-1`` where there is none.
        target_ids: ``(pos,)`` the target token id, ``-1`` where there is none.
        scratch: reusable buffers (two sub-block buffers are used).
        stats: which of :data:`STATS` to compute; the others are left NaN / -1.
        final_row: the site row that is the final one (its KL is exactly 0), if any.
    """
    wanted = parse_stats(stats)
    n_pos, n_sites, vocab = logits.shape
    dev, dtype = logits.device, logits.dtype
    scratch = scratch or Scratch()
    cent_buf = scratch.get((SUB_BLOCK_BYTES // 4,), dtype, dev, "centred")  # sub-block buffer
    work_buf = scratch.get((SUB_BLOCK_BYTES // 4,), dtype, dev, "work")  # sub-block buffer
    best = torch.empty(n_pos, n_sites, vocab // GROUP, dtype=dtype, device=dev)  # group maxima
    peak = torch.empty(n_pos, n_sites, dtype=dtype, device=dev)  # (pos, sites) row maxima
    sums = torch.full((4, n_pos, n_sites), float("nan"), dtype=dtype, device=dev)
    total, weighted, cross, above = sums.unbind(0)  # (pos, sites) each
    target_logit = logits.gather(  # (pos, sites)
        -1, target_ids.clamp(min=0)[:, None, None].expand(-1, n_sites, 1)
    ).squeeze(-1)
    for pos, sites in _sub_blocks(n_pos, n_sites, vocab * logits.element_size()):
        x = logits[pos, sites]  # (c, r, vocab): read from memory once, then in cache
        shape = tuple(x.shape)
        cent = cent_buf[: x.numel()].view(shape)  # (c, r, vocab)
        work = work_buf[: x.numel()].view(shape)  # (c, r, vocab)
        rows_best = best[pos, sites].view(-1, best.shape[-1])  # (c * r, m)
        group_max(x.view(-1, vocab), out=rows_best)
        block_peak = row_max(x.view(-1, vocab), rows_best).view(shape[:2])  # (c, r)
        peak[pos, sites] = block_peak
        torch.sub(x, block_peak[..., None], out=cent)  # (c, r, vocab) d = logits - max <= 0
        torch.exp(cent, out=work)  # (c, r, vocab) e = exp(d)
        torch.sum(work, dim=-1, out=total[pos, sites])  # s = Σ e
        if "entropy" in wanted:
            torch.sum(work.mul_(cent), dim=-1, out=weighted[pos, sites])  # Σ e·d
        if "kl" in wanted:
            torch.mul(cent, final.probs[pos, None], out=work)  # (c, r, vocab) p_f·d
            torch.sum(work, dim=-1, out=cross[pos, sites])
        if "target" in wanted:
            torch.gt(x, target_logit[pos, sites, None], out=work)  # (c, r, vocab)
            torch.sum(work, dim=-1, out=above[pos, sites])
    log_total = total.log()  # (pos, sites) log Σ exp(logits - max), in 0..log(vocab)
    nan = torch.full((n_pos, n_sites), float("nan"), device=dev)
    out = ChunkStats(
        top_ids=torch.full((n_pos, n_sites, k), -1, dtype=torch.long, device=dev),
        top_probs=torch.full((n_pos, n_sites, k), float("nan"), device=dev),
        entropy=nan,
        kl_to_final=nan,
        next_token_ce=nan,
        target_rank=torch.full((n_pos, n_sites), -1, dtype=torch.long, device=dev),
        target_prob=nan,
    )
    if "top" in wanted:
        flat = logits.view(n_pos * n_sites, vocab)  # (pos * sites, vocab)
        values, ids = top_logits(flat, k, best.view(n_pos * n_sites, -1))  # (pos * sites, k)
        out.top_ids = ids.view(n_pos, n_sites, k)
        centred = values.view(n_pos, n_sites, k) - peak[..., None]  # (pos, sites, k)
        out.top_probs = (centred - log_total[..., None]).exp()
    if "entropy" in wanted:
        out.entropy = log_total - weighted / total  # log s - Σ p·d: two terms >= 0
    if "kl" in wanted:
        # Σ p_f (log p_f - log p) = -H_f - Σ p_f·d + log s: every term a few nats at most
        kl = (log_total - final.entropy[:, None]) - cross  # (pos, sites)
        out.kl_to_final = kl.clamp_(min=0.0)
        if final_row is not None:
            out.kl_to_final[:, final_row] = 0.0  # the final distribution against itself
    if "ce" in wanted:
        next_logit = logits.gather(  # (pos, sites)
            -1, next_ids.clamp(min=0)[:, None, None].expand(-1, n_sites, 1)
        ).squeeze(-1)
        ce = log_total - (next_logit - peak)  # log s - d[next]
        out.next_token_ce = torch.where(next_ids[:, None] >= 0, ce, nan)
    if "target" in wanted:
        has_target = target_ids[:, None] >= 0  # (pos, 1)
        out.target_rank = torch.where(has_target, above.long(), -1)
        out.target_prob = torch.where(has_target, ((target_logit - peak) - log_total).exp(), nan)
    return out
