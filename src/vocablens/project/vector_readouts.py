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
        vector_tokens: ``(n_cols,)`` int64 token ids: the columns of vector tables.
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
    _keep: Tensor | None
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
        """The columns of vector tables: the token set less the masked tokens."""
        if self.mask_untrained:
            self.masked = self._lazy("untrained", lambda: untrained_tokens(self.view))
        else:
            self.masked = torch.empty(0, dtype=torch.int64)
        keep = ~torch.isin(self.tokens, self.masked)  # (n_tokens,)
        self._keep = None if bool(keep.all()) else keep
        self.vector_tokens = self.tokens[keep]  # (n_cols,) the columns of vector tables
        n_cols = min(len(self.tokens), len(self.vector_tokens))
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

        Its columns are :attr:`vector_tokens` (the token set without masked tokens).
        """
        if self.readout == "raw":
            return self._raw_columns(kind)
        if self.readout == "cosine":
            return self._cosine_columns(kind)
        hub_kind = "values" if kind == "vector" else kind
        return self._lazy(
            ("csls", hub_kind, self._keep is None),
            lambda: ro.csls_readout(
                self._cosine_columns(hub_kind).R_T, self.hub(hub_kind), self._scratch
            ),
        )

    def _written(self, kind: str) -> bool:
        return kind in ("values", "vector")

    def _raw_columns(self, kind: str) -> Readout:
        base = self.write_readout() if self._written(kind) else self.read_readout()
        if self._keep is None:
            return base
        keep = self._keep.to(base.device)
        return self._lazy(
            ("raw", self._written(kind), self._keep is None),
            lambda: Readout(base.R_T[:, keep], self._scratch),
        )

    def _cosine_columns(self, kind: str) -> Readout:
        def build() -> Readout:
            W_U = self.view.W_U.detach()
            norms = W_U[self.vector_tokens.to(W_U.device)].to(self.dtype).norm(dim=1)  # (n_cols,)
            return Readout(ro.cosine_columns(self._raw_columns(kind).R_T, norms), self._scratch)

        return self._lazy(("cosine", self._written(kind), self._keep is None), build)

    def unit_vectors(self, kind: str, vectors: Tensor) -> Tensor:
        """``vectors`` divided by the norm the cosine readout uses (``norm_linear(v)`` or ``v``)."""
        vectors = vectors.detach().to(device=self.view.W_U.device, dtype=self.dtype)
        with torch.no_grad():
            if self._written(kind) and self.final_norm:
                return ro.unit_rows(vectors, self.view.norm_linear(vectors))
            return ro.unit_rows(vectors, vectors)

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

        return self._lazy(("hub", kind, self._keep is None), build)
