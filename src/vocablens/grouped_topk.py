"""Row-wise top-k by exact group pruning: the one engine behind the lens and the projections.

A row of ``n`` values is split into ``m = n // GROUP`` strided groups (group ``j`` holds columns
``j, j + m, j + 2m, ...``; the fewer than :data:`GROUP` columns past ``GROUP * m`` belong to no
group). A cheap vectorised ``amax`` (``amin`` for the smallest) gives each group's extreme, and
``torch.topk`` runs only on the ``k`` groups with the most extreme values plus the leftover
columns. That is exact (ties aside): every group holding one of the ``k`` largest values has a
maximum at least the ``k``-th largest, and at most ``k`` groups can.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor

GROUP = 16  # elements per group (strided: column j, j + m, j + 2m, ...)


def grouped_view(rows: Tensor) -> Tensor:
    """The whole groups of ``(r, n)`` values as a ``(r, GROUP, m)`` view (no copy).

    The last dimension must have stride 1 (a column slice of a wider block is fine).
    """
    r, n = rows.shape
    m = n // GROUP
    return rows[:, : m * GROUP].view(r, GROUP, m)  # (r, GROUP, m)


def group_max(rows: Tensor, out: Tensor | None = None) -> Tensor:
    """``(r, m)`` maxima of the groups of ``(r, n)`` values (see :func:`grouped_view`)."""
    if out is None:
        return grouped_view(rows).amax(dim=1)
    return torch.amax(grouped_view(rows), dim=1, out=out)


def grouped_topk(
    rows: Tensor, k: int, *, largest: bool = True, best: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Row-wise top-``k`` values and column numbers of ``(r, n)`` values, most extreme first.

    Args:
        rows: ``(r, n)``, last dimension contiguous.
        k: how many per row (at most ``n``).
        largest: the largest values (True) or the smallest.
        best: the groups' extremes when the caller has them (:func:`group_max` for
            ``largest``), else computed here.

    Returns:
        ``(values, cols)``, both ``(r, k)``; with fewer than ``4 k`` groups a plain
        ``torch.topk``.
    """
    r, n = rows.shape
    m = n // GROUP  # number of groups
    if m < 4 * k:
        return rows.topk(k, dim=-1, largest=largest)  # (r, k) both
    whole = m * GROUP
    grouped = grouped_view(rows)  # (r, GROUP, m)
    if best is None:
        best = grouped.amax(dim=1) if largest else grouped.amin(dim=1)  # (r, m)
    groups = best.topk(k, dim=1, largest=largest, sorted=False).indices  # (r, k)
    cand = grouped.gather(2, groups[:, None, :].expand(r, GROUP, k))  # (r, GROUP, k)
    cand = cand.reshape(r, GROUP * k)  # (r, GROUP * k)
    offsets = torch.arange(GROUP, device=rows.device)[None, :, None] * m  # (1, GROUP, 1)
    cols = (offsets + groups[:, None, :]).reshape(r, GROUP * k)  # (r, GROUP * k)
    if whole < n:
        tail = torch.arange(whole, n, device=rows.device).expand(r, -1)  # (r, < GROUP)
        cand = torch.cat([cand, rows[:, whole:]], dim=1)  # (r, GROUP * k + tail)
        cols = torch.cat([cols, tail], dim=1)
    values, pos = cand.topk(k, dim=1, largest=largest)  # (r, k)
    return values, cols.gather(1, pos)
