"""Reusable work buffers for the hot loops of the lens and the projections."""

from __future__ import annotations

import math

import torch


class Scratch:
    """Named buffers for large ``(rows, vocab)`` work tensors, reused across calls.

    On CPU a fresh 50–200 MB tensor costs page faults on every call — measured here as much as the
    arithmetic done in it — so hot loops carve their blocks out of buffers that live across calls.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, torch.Tensor] = {}

    def get(
        self, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device, name: str = "block"
    ) -> torch.Tensor:
        """An uninitialised tensor of ``shape``, carved from the buffer called ``name``."""
        numel = math.prod(shape)
        buf = self._buffers.get(name)
        if buf is None or buf.numel() < numel or buf.dtype != dtype or buf.device != device:
            buf = self._buffers[name] = torch.empty(numel, dtype=dtype, device=device)
        return buf[:numel].view(shape)
