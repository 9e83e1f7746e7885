"""The readout side of :class:`~vocablens.project.projector.Projector`: columns, cosine, CSLS.

Kept apart from the projector's tables so each module stays small; see
:mod:`vocablens.project.readouts` for what the readouts are.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from vocablens.buffers import Scratch
from vocablens.errors import InputError
from vocablens.model.untrained import untrained_tokens
from vocablens.model.view import ModelView
from vocablens.project import readouts as ro
from vocablens.project.topk import Readout

Tensor = torch.Tensor

#: The weight matrix of each vector kind in :class:`~vocablens.model.weights.MLPWeights`.
MATRIX = {"values": "W_out", "keys_in": "W_in", "keys_gate": "W_gate", "keys_up": "W_up"}


class ReadoutMixin:
    """Readout preparation of a projector (needs its view, token set, caches and raw readouts).

    Attributes:
        readout: the readout name of vector tables.
        mask_untrained: whether untrained tokens are left out of vector tables.
        masked: ``(n_masked,)`` int64 token ids left out.
        vector_tokens: ``(n_cols,)`` int64 token ids: the columns of vector tables (the token
            set; masked tokens are columns that are never chosen).
    """

    view: ModelView
    tokens: Tensor
    k: int
    dtype: torch.dtype
    final_norm: bool
    block_mb: float
    hub_k: int
    readout: str
    mask_untrained: bool
    masked: Tensor
    vector_tokens: Tensor
    _masked_cols: Tensor | None
    _scratch: Scratch

    def _lazy(self, name: Any, build) -> Any:
        raise NotImplementedError

    def write_readout(self) -> Readout:
        """The raw readout of written vectors (see the projector)."""
        raise NotImplementedError

    def read_readout(self) -> Readout:
        """The raw readout of read vectors (see the projector)."""
        raise NotImplementedError

    def _set_columns(self) -> None:
        """The masked tokens of vector tables (kept as columns, never chosen: see the offsets)."""
        if self.mask_untrained:
            self.masked = self._lazy("untrained", lambda: untrained_tokens(self.view))
        else:
            self.masked = torch.empty(0, dtype=torch.int64)
        masked = torch.isin(self.tokens, self.masked)  # (n_tokens,)
        self._masked_cols = masked if bool(masked.any()) else None
        self.vector_tokens = self.tokens  # (n_cols,) the columns of vector tables
        n_cols = len(self.tokens) - int(masked.sum())
        if not 1 <= self.k <= n_cols:
            raise InputError(f"top-k must be between 1 and the {n_cols} tokens, got {self.k}")

    def with_readout(self, readout: str, mask_untrained: bool | None = None) -> Any:
        """A projector of the same model and options under another readout.

        It shares this one's prepared readouts, hub statistics and work block.
        """
        other = copy.copy(self)
        other.readout = ro.parse_readout(readout)
        other.mask_untrained = other.readout != "raw" if mask_untrained is None else mask_untrained
        other._set_columns()
        return other

    def vector_readout(self, kind: str) -> Readout:
        """The readout of vector tables of ``kind`` under this projector's ``readout``.

        Its columns are :attr:`vector_tokens` (the whole token set). Masked tokens stay columns
        (a readout as wide as the vocabulary keeps the matmul fast: 49,122 columns instead of
        49,152 made it 40 % slower) and get offsets of ``-/+ big`` so that neither side's
        top-k can choose them.
        """
        written = self._written(kind)
        hub_kind = "values" if kind == "vector" else kind
        key = (self.readout, hub_kind if self.readout == "csls" else written, self.mask_untrained)

        def build() -> Readout:
            if self.readout == "raw":
                base = self.write_readout() if written else self.read_readout()
                offsets = None
            elif self.readout == "cosine":
                base, offsets = self._cosine_columns(kind), None
            else:
                base = self._cosine_columns(hub_kind)
                hub = self.hub(hub_kind)
                offsets = torch.stack([-hub.r_pos, hub.r_neg]).to(base.device, base.dtype)
                base = Readout(2 * base.R_T, self._scratch)  # CSLS: 2 cos - r+ / 2 cos + r-
            mask = self.mask_offsets(base)
            if mask is not None:
                offsets = mask if offsets is None else offsets + mask
            if offsets is None:
                return base
            return Readout(base.R_T, self._scratch, offsets=offsets, share=True)

        return self._lazy(key, build)

    def mask_offsets(self, base: Readout) -> Tensor | None:
        """``(2, n_cols)``: ``-big`` / ``+big`` on the masked columns, 0 elsewhere; or None."""
        if self._masked_cols is None:
            return None
        big = torch.finfo(base.dtype).max / 8  # far beyond any score, and no overflow
        masked = self._masked_cols.to(base.device, base.dtype)  # (n_cols,)
        return torch.stack([-big * masked, big * masked])  # (2, n_cols)

    def _written(self, kind: str) -> bool:
        return kind in ("values", "vector")

    def _cosine_columns(self, kind: str) -> Readout:
        def build() -> Readout:
            base = self.write_readout() if self._written(kind) else self.read_readout()
            return Readout(ro.cosine_columns(base.R_T, self.token_norms()), self._scratch)

        return self._lazy(("cosine", self._written(kind)), build)

    def unit_vectors(self, kind: str, vectors: Tensor) -> Tensor:
        """``vectors`` divided by the norm the cosine readout uses (``norm_linear(v)`` or ``v``)."""
        vectors = vectors.detach().to(device=self.view.W_U.device, dtype=self.dtype)
        with torch.no_grad():
            return ro.unit_rows(vectors, self._norm_of(kind, vectors))

    def row_norms(self, kind: str, vectors: Tensor) -> Tensor:
        """``(n,)`` the norms :meth:`unit_vectors` divides by (zero norms read as 1)."""
        vectors = vectors.detach().to(device=self.view.W_U.device, dtype=self.dtype)
        with torch.no_grad():
            norms = self._norm_of(kind, vectors).norm(dim=1)  # (n,)
        return torch.where(norms > 0, norms, torch.ones_like(norms))

    def token_norms(self) -> Tensor:
        """``(n_cols,)`` the unembedding norms ``||u_t||`` the cosine columns divide by."""
        W_U = self.view.W_U.detach()
        return self._lazy(
            "token_norms", lambda: W_U[self.tokens.to(W_U.device)].to(self.dtype).norm(dim=1)
        )

    def _norm_of(self, kind: str, vectors: Tensor) -> Tensor:
        """The rows whose norm the cosine readout divides by: ``norm_linear(v)`` or ``v``."""
        if self._written(kind) and self.final_norm:
            return self.view.norm_linear(vectors)
        return vectors

    def hub(self, kind: str) -> ro.HubStatistic:
        """The CSLS hub statistic of :attr:`vector_tokens` over every ``kind`` vector of the model.

        ``kind`` is one of :data:`VECTOR_KINDS` (every layer's and expert's vectors of that
        kind). Computed once (a streamed pass), then cached on the projector: the projector
        stands for one model and one token set.
        """

        def chunks():
            for layer in range(self.view.n_layers):
                for _, part in self.view.mlp(layer).parts():
                    matrix = getattr(part, MATRIX[kind])  # (d_mlp, d_model)
                    if matrix is not None:
                        yield self.unit_vectors(kind, matrix)

        def build() -> ro.HubStatistic:
            cosine_T = self._cosine_columns(kind).R_T  # (d_model, n_cols)
            return ro.hub_statistic(
                chunks(), cosine_T, self.hub_k, block_mb=self.block_mb, scratch=self._scratch
            )

        return self._lazy(("hub", kind), build)
