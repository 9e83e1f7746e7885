"""Streaming top-k engines: top tokens of many vectors, and top entries of low-rank products.

Nothing here knows about models. Two engines:

* :class:`Readout` + :func:`vector_topk`: for each vector ``v`` the ``k`` columns with the largest
  and the ``k`` with the smallest ``v @ R_T`` (``R_T`` a ``(d, n_cols)`` readout such as the
  unembedding). Vectors go through in chunks so that one logits block is about ``block_mb``;
  the block is reused, so memory does not grow with the number of vectors.
* :func:`pair_topk`: the ``k`` largest entries of ``left @ right`` (a rank-``r`` matrix such as
  an OV or QK circuit) without forming it: row blocks are multiplied one at a time and their
  top-k merged into a running top-k; optionally the running column maximum too.

Both use the same exact pruning: split the candidates into groups, take each group's maximum
(a cheap vectorized reduction), and keep only the ``k`` groups with the largest maxima. The ``k``
largest elements lie in those groups (ties aside): every group holding one of them has a
maximum at least the ``k``-th largest value, and at most ``k`` groups can. ``torch.topk`` then
runs on ``k`` groups instead of everything, which is what keeps it well below the matmul's cost.
:func:`vector_topk` uses the shared row-wise engine :func:`vocablens.grouped_topk.grouped_topk`
(the logit lens's top-k too); :func:`pair_topk` prunes by column maxima over row blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from vocablens.buffers import Scratch
from vocablens.grouped_topk import grouped_topk

Tensor = torch.Tensor


@dataclass(frozen=True)
class VectorTopK:
    """Top-k columns of a set of vectors, both directions.

    Attributes:
        scores: ``(n_vectors, 2, k)`` float32: ``[:, 0]`` the largest values (descending),
            ``[:, 1]`` the smallest (ascending, i.e. the top-k of ``-v``).
        cols: ``(n_vectors, 2, k)`` int64 column numbers of the readout.
    """

    scores: Tensor
    cols: Tensor


@dataclass(frozen=True)
class PairTopK:
    """The largest entries of a matrix given as a product ``left @ right``.

    Attributes:
        scores: ``(k,)`` float32, descending.
        rows: ``(k,)`` int64 row numbers (of ``left``).
        cols: ``(k,)`` int64 column numbers (of ``right``).
        col_max: ``(n_cols,)`` float32 maximum of each column over all rows, or None.
    """

    scores: Tensor
    rows: Tensor
    cols: Tensor
    col_max: Tensor | None = None


def rows_per_block(n_cols: int, block_mb: float, itemsize: int = 4) -> int:
    """How many rows of width ``n_cols`` fit in a block of ``block_mb`` megabytes (at least 1)."""
    return max(1, int(block_mb * 2**20) // (n_cols * itemsize))


class Readout:
    """A readout matrix prepared for :func:`vector_topk`.

    Args:
        R_T: ``(d, n_cols)`` readout; the score of column ``j`` for a vector ``v`` is
            ``v @ R_T[:, j]``. It is copied once, contiguous.
        scratch: where to keep the logits block between calls (shareable; a fresh one if None).
        offsets: optional ``(2, n_cols)`` per-column offsets added to the scores before the
            largest (row 0) and before the smallest (row 1) top-k (the CSLS hub correction,
            masked tokens).
        share: use ``R_T`` itself when it is contiguous (it must not change afterwards).
    """

    def __init__(
        self,
        R_T: Tensor,
        scratch: Scratch | None = None,
        offsets: Tensor | None = None,
        *,
        share: bool = False,
    ):
        self.n_cols = R_T.shape[1]
        if share and R_T.is_contiguous():  # another readout's matrix, used as it is
            self.R_T = R_T
        else:
            self.R_T = R_T.clone(memory_format=torch.contiguous_format)  # (d, n_cols)
        self.scratch = scratch or Scratch()  # the logits block, reused between calls
        self.offsets = offsets  # (2, n_cols) or None

    @property
    def d(self) -> int:
        """The vectors' dimension."""
        return self.R_T.shape[0]

    @property
    def dtype(self) -> torch.dtype:
        """The readout's dtype."""
        return self.R_T.dtype

    @property
    def device(self) -> torch.device:
        """The readout's device."""
        return self.R_T.device


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def vector_topk(vectors: Tensor, readout: Readout, k: int, *, block_mb: float = 192) -> VectorTopK:
    """Top-``k`` and bottom-``k`` columns of ``vectors @ readout.R_T``, streamed in row chunks.

    With ``readout.offsets``, the largest of ``vectors @ R_T + offsets[0]`` and the smallest of
    ``vectors @ R_T + offsets[1]``, with those shifted scores.

    Args:
        vectors: ``(n_vectors, d)``; converted to the readout's dtype and device chunk by chunk.
        readout: the prepared readout.
        k: how many columns per direction (at most ``readout.n_cols``).
        block_mb: size of the reused logits block in megabytes.

    Returns:
        A :class:`VectorTopK` on the CPU.
    """
    return _topk_views(vectors, readout, k, block_mb, None)[0]


def vector_topk_scaled(
    vectors: Tensor,
    readout: Readout,
    k: int,
    scale: Tensor,
    offsets: Tensor | None = None,
    *,
    block_mb: float = 192,
) -> tuple[VectorTopK, VectorTopK]:
    """:func:`vector_topk` of ``readout``, and of its columns scaled by ``scale``, from one product.

    The second is the top-k of ``(vectors @ R_T) * scale (+ offsets)``: the logits block of the
    first, scaled in place, so the ``(n, d) @ (d, n_cols)`` product is paid once.

    Args:
        vectors: ``(n_vectors, d)``.
        readout: the prepared readout, without offsets (its block is reused for the second).
        k: how many columns per direction.
        scale: ``(n_cols,)`` the per-column factor of the second readout.
        offsets: optional ``(2, n_cols)`` offsets of the second readout (as :class:`Readout`'s).
        block_mb: size of the reused logits block in megabytes.

    Raises:
        ValueError: ``readout`` has offsets.
    """
    if readout.offsets is not None:
        raise ValueError("the first readout of a scaled pair must have no offsets")
    scale = scale.to(readout.device, readout.dtype)  # (n_cols,)
    first, second = _topk_views(vectors, readout, k, block_mb, (scale, offsets))
    return first, second


def _topk_views(
    vectors: Tensor,
    readout: Readout,
    k: int,
    block_mb: float,
    scaled: tuple[Tensor, Tensor | None] | None,
) -> list[VectorTopK]:
    """The top-k of ``readout``, and of the scaled block when ``scaled`` is ``(scale, offsets)``."""
    n = vectors.shape[0]
    k = min(k, readout.n_cols)
    rows = min(
        max(n, 1), rows_per_block(readout.R_T.shape[1], block_mb, readout.R_T.element_size())
    )
    buffer = readout.scratch.get((rows, readout.R_T.shape[1]), readout.dtype, readout.device)
    views = [(None, readout.offsets)] + ([] if scaled is None else [scaled])
    out = [(torch.empty(n, 2, k, dtype=torch.float32), torch.empty(n, 2, k, dtype=torch.int64))
           for _ in views]  # fmt: skip
    for part in _chunks(n, rows):
        chunk = vectors[part].to(device=readout.device, dtype=readout.dtype)  # (c, d)
        block = buffer[: chunk.shape[0]]  # (c, n_cols)
        torch.matmul(chunk, readout.R_T, out=block)  # (c, n_cols)
        for (scale, offsets), (scores, cols) in zip(views, out, strict=True):
            if scale is not None:
                block.mul_(scale)  # (c, n_cols): the scaled readout's scores
            added = None
            for side, largest in ((0, True), (1, False)):
                if offsets is not None:  # shift the block to this side's offsets
                    offset = offsets[side]  # (n_cols,)
                    block.add_(offset if added is None else offset - added)
                    added = offset
                top_scores, top_cols = grouped_topk(block, k, largest=largest)  # (c, k) both
                scores[part, side] = top_scores.float().cpu()
                cols[part, side] = top_cols.cpu()
    return [VectorTopK(scores=scores, cols=cols) for scores, cols in out]


def _merge(
    best: tuple[Tensor, Tensor, Tensor] | None, new: tuple[Tensor, Tensor, Tensor], k: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Merge two (scores, rows, cols) candidate lists into the top ``k``."""
    if best is not None:
        new = tuple(torch.cat([a, b]) for a, b in zip(best, new, strict=True))  # type: ignore[assignment]
    scores, rows, cols = new
    scores, order = scores.topk(min(k, scores.numel()))  # (k,)
    return scores, rows[order], cols[order]


def pair_topk(
    left: Tensor,
    right: Tensor,
    k: int,
    *,
    col_max: bool = False,
    block_mb: float = 128,
    scratch: Scratch | None = None,
) -> PairTopK:
    """The ``k`` largest entries of ``left @ right`` without forming it.

    Args:
        left: ``(n_rows, r)``.
        right: ``(r, n_cols)``; same dtype and device as ``left``.
        k: how many entries.
        col_max: also return each column's maximum over all rows.
        block_mb: size of the reused product block in megabytes.
        scratch: where to keep the product block between calls (a fresh one if None).

    Returns:
        A :class:`PairTopK` on the CPU.
    """
    n_rows, n_cols = left.shape[0], right.shape[1]
    rows = min(n_rows, rows_per_block(n_cols, block_mb, right.element_size()))
    k_cols = min(k, n_cols)
    buffer = (scratch or Scratch()).get((rows, n_cols), right.dtype, right.device)
    best: tuple[Tensor, Tensor, Tensor] | None = None
    running_max: Tensor | None = None
    for part in _chunks(n_rows, rows):
        block = buffer[: part.stop - part.start]  # (b, n_cols)
        torch.matmul(left[part], right, out=block)  # (b, n_cols)
        block_max = block.amax(0)  # (n_cols,)
        if col_max:
            running_max = (
                block_max if running_max is None else torch.maximum(running_max, block_max)
            )
        top_cols = block_max.topk(k_cols, sorted=False).indices  # (k_cols,)
        cand = block[:, top_cols].reshape(-1)  # (b * k_cols,)
        scores, pos = cand.topk(min(k, cand.numel()))  # (k,)
        new = (scores, pos // k_cols + part.start, top_cols[pos % k_cols])
        best = _merge(best, new, k)
    assert best is not None, "pair_topk needs at least one row"
    scores, top_rows, top_cols = best
    return PairTopK(
        scores=scores.float().cpu(),
        rows=top_rows.cpu(),
        cols=top_cols.cpu(),
        col_max=None if running_max is None else running_max.float().cpu(),
    )
