"""Ops: what an edit does to an activation ``x`` of shape ``(batch, pos, width)``.

Each op is a small callable object with a ``name``. Values are moved to ``x``'s dtype and device
when applied. A value may be ``(width,)`` (every row and position), ``(pos, width)`` (per
position: inputs must have that many positions) or ``(batch, pos, width)`` (per row).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from vocablens.errors import InputError

Tensor = torch.Tensor


def _fit(value: Tensor, x: Tensor) -> Tensor:
    """``value`` broadcast to ``x`` ``(batch, pos, width)``, in its dtype and device."""
    value = value.to(device=x.device, dtype=x.dtype)
    if value.ndim == 1:
        return value.expand_as(x)
    if value.ndim == 2:
        if value.shape[0] != x.shape[1]:
            raise InputError(
                f"a per-position value has {value.shape[0]} positions, the input {x.shape[1]}"
            )
        return value[None].expand_as(x)
    if value.shape[:2] != x.shape[:2]:
        raise InputError(
            f"a per-row value of shape {tuple(value.shape[:2])} does not fit the input "
            f"{tuple(x.shape[:2])} (batch, pos)"
        )
    return value


@dataclass
class Zero:
    """``x -> 0``."""

    name: str = "zero"

    def __call__(self, x: Tensor) -> Tensor:
        """Apply the op."""
        return torch.zeros_like(x)


@dataclass
class Scale:
    """``x -> factor * x``."""

    factor: float
    name: str = "scale"

    def __call__(self, x: Tensor) -> Tensor:
        """Apply the op."""
        return x * self.factor


@dataclass
class Set:
    """``x -> value`` (``(width,)``, ``(pos, width)`` or ``(batch, pos, width)``)."""

    value: Tensor
    name: str = "replace"

    def __call__(self, x: Tensor) -> Tensor:
        """Apply the op."""
        return _fit(self.value, x).clone()


@dataclass
class Add:
    """``x -> x + value`` (``(width,)``, ``(pos, width)`` or ``(batch, pos, width)``)."""

    value: Tensor
    name: str = "add"

    def __call__(self, x: Tensor) -> Tensor:
        """Apply the op."""
        return x + _fit(self.value, x)


@dataclass
class Patch:
    """``x -> value`` where ``mask`` is true, ``x`` elsewhere.

    Attributes:
        value: ``(pos, width)`` or ``(batch, pos, width)``.
        mask: ``(batch, pos)`` bool.
    """

    value: Tensor
    mask: Tensor
    name: str = "patch"

    def __call__(self, x: Tensor) -> Tensor:
        """Apply the op."""
        mask = self.mask.to(x.device)[..., None]  # (batch, pos, 1)
        return torch.where(mask, _fit(self.value, x), x)


@dataclass
class Record:
    """Leaves ``x`` unchanged and keeps a detached copy of each call's ``x`` in ``seen``."""

    seen: list[Tensor] = field(default_factory=list)
    name: str = "record"

    def __call__(self, x: Tensor) -> Tensor:
        """Apply the op."""
        self.seen.append(x.detach().clone())
        return x
