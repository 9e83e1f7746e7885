"""Per-layer weights in one layout for every family: attention per head, MLP per neuron.

* attention: ``q = x @ W_Q[h] + b_Q[h]`` with ``W_Q`` of shape ``(n_heads, d_model, d_head)``;
  ``W_K``/``W_V`` have ``n_kv_heads`` heads (grouped-query attention); the head output ``z``
  enters the residual stream as ``z @ W_O[h]`` with ``W_O`` of shape ``(n_heads, d_head, d_model)``.
* MLP: row ``i`` of ``W_out`` (``(d_mlp, d_model)``) is neuron ``i``'s value vector; rows of
  ``W_in`` (plain MLPs) or ``W_gate``/``W_up`` (gated MLPs) are its key vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

Tensor = torch.Tensor


@dataclass(frozen=True)
class AttentionWeights:
    """One layer's attention weights, per head, in the residual-stream basis.

    Attributes:
        W_Q: ``(n_heads, d_model, d_head)``.
        W_K: ``(n_kv_heads, d_model, d_head)``.
        W_V: ``(n_kv_heads, d_model, d_head)``.
        W_O: ``(n_heads, d_head, d_model)``.
        b_Q, b_K, b_V: ``(heads, d_head)`` or None.
        b_O: ``(d_model,)`` or None.
    """

    W_Q: Tensor
    W_K: Tensor
    W_V: Tensor
    W_O: Tensor
    b_Q: Tensor | None = None
    b_K: Tensor | None = None
    b_V: Tensor | None = None
    b_O: Tensor | None = None

    @property
    def n_heads(self) -> int:
        """Number of query heads."""
        return self.W_Q.shape[0]

    @property
    def n_kv_heads(self) -> int:
        """Number of key/value heads."""
        return self.W_K.shape[0]

    def kv_head(self, head: int) -> int:
        """The key/value head that query head ``head`` reads (grouped-query attention)."""
        return head // (self.n_heads // self.n_kv_heads)


@dataclass(frozen=True)
class MLPWeights:
    """One layer's MLP weights; row ``i`` of every matrix belongs to neuron ``i``.

    Attributes:
        W_out: ``(d_mlp, d_model)``: value vectors.
        W_in: ``(d_mlp, d_model)`` key vectors of a plain MLP, else None.
        W_gate: ``(d_mlp, d_model)`` gate key vectors of a gated MLP, else None.
        W_up: ``(d_mlp, d_model)`` up key vectors of a gated MLP, else None.
        b_in: ``(d_mlp,)`` or None.  b_out: ``(d_model,)`` or None.
    """

    W_out: Tensor
    W_in: Tensor | None = None
    W_gate: Tensor | None = None
    W_up: Tensor | None = None
    b_in: Tensor | None = None
    b_out: Tensor | None = None

    @property
    def gated(self) -> bool:
        """Whether the MLP is gated (SwiGLU / GeGLU)."""
        return self.W_gate is not None

    @property
    def d_mlp(self) -> int:
        """Number of neurons."""
        return self.W_out.shape[0]
