"""Readouts: how a vector's score for a token is read off the unembedding.

``v`` is a projected vector, ``x = norm_linear(v)`` for written vectors (values, user vectors;
the final norm's direction-preserving part, see
:meth:`~vocablens.model.view.ModelView.norm_linear`) and ``x = v`` for read vectors (keys),
``u_t`` the unembedding row of token ``t``.

* ``raw``: ``x · u_t``, the exact direct effect of ``v`` on token ``t``'s logit (up to the
  final norm's per-state scale). The default. Tokens with a large ``||u_t||`` (in SmolLM2 a few
  word-start fragments such as ``' strugg'``) win in many vectors: they are *hubs*.
* ``cosine``: ``x · u_t / (||x|| ||u_t||)``, a true cosine, comparable across vectors.
* ``csls``: cross-domain similarity local scaling (Conneau et al. 2018, "Word translation
  without parallel data"), the hubness correction of cross-lingual retrieval:
  ``CSLS(v, t) = 2 cos(v, u_t) - r(t) - r(v)``, with ``r(t)`` the mean of token ``t``'s ``K``
  highest cosines over all vectors of the same kind in the whole model (``K`` =
  :data:`HUB_K`). ``r(v)`` (the mean cosine of ``v``'s ``K`` nearest tokens) is the same for
  every token of one vector, so it does not change the vector's ranking and is dropped: the
  score is ``2 cos(v, u_t) - r(t)``. A token close to many vectors (a hub) has a large ``r(t)``
  and is pushed down.

Both signs. The suppressed side (``sign = -1``) ranks the tokens of ``-v``; for ``raw`` and
``cosine`` the stored score is the signed value (negative for suppressed tokens). For ``csls``
each side has its own hub statistic: ``r+(t)`` from the ``K`` highest cosines, ``r-(t)`` from
the ``K`` lowest (negated), and the stored score is ``sign * CSLS(sign * v, t)``, i.e.
``2 cos - r+(t)`` for promoted and ``2 cos + r-(t)`` for suppressed tokens, so suppressed scores
stay negative and rank 0 is always the most extreme.

The hub statistic is computed by one streamed pass over the vectors (:func:`hub_statistic`):
a block of ``(n_tokens, chunk)`` cosines at a time and a running ``(n_tokens, K)`` top-K, never
a matrix of all vectors by all tokens. The CSLS top-k then costs the same as the cosine one:
the offsets ``-r+`` / ``+r-`` are added to the logits block before each side's top-k.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch

from vocablens.buffers import Scratch
from vocablens.errors import InputError
from vocablens.grouped_topk import grouped_topk
from vocablens.project.topk import Readout, rows_per_block

Tensor = torch.Tensor

READOUTS = ("raw", "cosine", "csls")
HUB_K = 10  # K of the CSLS hub statistic: a token's K nearest vectors


def parse_readouts(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Readout names (``"raw,cosine"`` or a list) as a tuple of :data:`READOUTS`, in order given.

    Raises:
        InputError: an unknown name, or none at all.
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names = tuple(dict.fromkeys(str(item).strip().lower() for item in items if str(item).strip()))
    unknown = [name for name in names if name not in READOUTS]
    if unknown or not names:
        shown = unknown[0] if unknown else spec
        raise InputError(f"unknown readout {shown!r}; choose from {', '.join(READOUTS)}")
    return names


def parse_readout(name: str) -> str:
    """One readout name, checked (see :func:`parse_readouts`).

    Raises:
        InputError: unknown, or more than one.
    """
    names = parse_readouts(name)
    if len(names) != 1:
        raise InputError(f"expected one readout, got {name!r}")
    return names[0]


def check_hub_k(hub_k: int) -> int:
    """``hub_k`` as a positive int.

    Raises:
        InputError: not a positive integer.
    """
    if isinstance(hub_k, bool) or not isinstance(hub_k, int) or hub_k < 1:
        raise InputError(f"the CSLS hub K must be a positive integer, got {hub_k!r}")
    return hub_k


@dataclass(frozen=True)
class HubStatistic:
    """Per-token CSLS neighbourhood statistic over all vectors of one kind.

    Attributes:
        r_pos: ``(n_tokens,)`` float32: mean of each token's ``k`` highest cosines.
        r_neg: ``(n_tokens,)`` float32: mean of each token's ``k`` lowest cosines, negated
            (the ``k`` highest cosines with the negated vectors).
        k: the ``K`` used (at most the number of vectors).
        n_vectors: how many vectors the statistic was taken over.
    """

    r_pos: Tensor
    r_neg: Tensor
    k: int
    n_vectors: int


def unit_rows(vectors: Tensor, norm_of: Tensor) -> Tensor:
    """``vectors / norm_of`` row by row (zero norms give zero rows).

    Args:
        vectors: ``(n, d)``.
        norm_of: ``(n, d)`` the rows whose Euclidean norm divides (``norm_linear(v)`` or ``v``).
    """
    norms = norm_of.norm(dim=1, keepdim=True)  # (n, 1)
    return vectors / torch.where(norms > 0, norms, torch.ones_like(norms))


def cosine_columns(R_T: Tensor, token_norms: Tensor) -> Tensor:
    """``R_T`` with each token's column divided by its unembedding norm ``||u_t||``.

    Args:
        R_T: ``(d, n_tokens)`` raw readout.
        token_norms: ``(n_tokens,)``.

    Returns:
        ``(d, n_tokens)``: ``unit(x) @ this`` is the cosine of ``x`` and ``u_t``.
    """
    safe = torch.where(token_norms > 0, token_norms, torch.ones_like(token_norms))
    return R_T / safe.to(R_T.dtype)[None, :]  # (d, n_tokens)


def _merge_topk(best: Tensor | None, new: Tensor, k: int, largest: bool) -> Tensor:
    if best is not None:
        new = torch.cat([best, new], dim=1)  # (n_tokens, 2k)
    return new.topk(min(k, new.shape[1]), dim=1, largest=largest).values  # (n_tokens, k)


def hub_statistic(
    unit_chunks: Iterable[Tensor],
    cos_T: Tensor,
    k: int = HUB_K,
    *,
    block_mb: float = 192,
    scratch: Scratch | None = None,
) -> HubStatistic:
    """The CSLS statistic ``r(t)`` of every token over a stream of unit vectors.

    Args:
        unit_chunks: ``(c, d)`` blocks of vectors already divided by their norm (see
            :func:`unit_rows`); they may be of any size, they are re-chunked to ``block_mb``.
        cos_T: ``(d, n_tokens)`` cosine readout (:func:`cosine_columns`).
        k: how many nearest vectors per token.
        block_mb: size of the reused ``(n_tokens, chunk)`` cosine block.
        scratch: where to keep the block between calls.

    Returns:
        A :class:`HubStatistic` on the CPU.

    Raises:
        InputError: no vectors at all.
    """
    n_tokens = cos_T.shape[1]
    rows = rows_per_block(n_tokens, block_mb, cos_T.element_size())
    buffer = (scratch or Scratch()).get((n_tokens * rows,), cos_T.dtype, cos_T.device)
    top: Tensor | None = None
    bottom: Tensor | None = None
    n_vectors = 0
    for chunk in _rechunk(unit_chunks, rows):
        chunk = chunk.to(device=cos_T.device, dtype=cos_T.dtype)  # (c, d)
        block = buffer[: n_tokens * chunk.shape[0]].view(n_tokens, chunk.shape[0])  # (n_tokens, c)
        torch.matmul(cos_T.T, chunk.T, out=block)  # (n_tokens, c)
        kk = min(k, chunk.shape[0])
        high = grouped_topk(block, kk, largest=True)[0]  # (n_tokens, kk)
        low = grouped_topk(block, kk, largest=False)[0]  # (n_tokens, kk)
        top = _merge_topk(top, high, k, largest=True)
        bottom = _merge_topk(bottom, low, k, largest=False)
        n_vectors += chunk.shape[0]
    if top is None or bottom is None:
        raise InputError("no vectors to compute the CSLS hub statistic over")
    return HubStatistic(
        r_pos=top.float().mean(1).cpu(),
        r_neg=(-bottom.float()).mean(1).cpu(),
        k=top.shape[1],
        n_vectors=n_vectors,
    )


def _rechunk(chunks: Iterable[Tensor], rows: int) -> Iterator[Tensor]:
    """The rows of ``chunks`` again, in blocks of ``rows`` (the last one shorter)."""
    pending: list[Tensor] = []
    held = 0
    for chunk in chunks:
        pending.append(chunk)
        held += chunk.shape[0]
        while held >= rows:
            joined = torch.cat(pending)  # (held, d)
            yield joined[:rows]
            pending, held = [joined[rows:]], held - rows
    if held:
        yield torch.cat(pending)


def csls_readout(cos_T: Tensor, hub: HubStatistic, scratch: Scratch | None = None) -> Readout:
    """The CSLS readout: ``unit(x) @ R_T + offset`` is ``2 cos - r+(t)`` / ``2 cos + r-(t)``.

    Args:
        cos_T: ``(d, n_tokens)`` cosine readout.
        hub: the hub statistic of the same tokens.
        scratch: shared logits block.
    """
    offsets = torch.stack([-hub.r_pos, hub.r_neg]).to(cos_T.device, cos_T.dtype)  # (2, n_tokens)
    return Readout(2 * cos_T, scratch, offsets=offsets)
