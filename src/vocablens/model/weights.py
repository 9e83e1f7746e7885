"""Per-layer weights in one layout for every family: attention per head, MLP per neuron.

* attention: ``q = x @ W_Q[h] + b_Q[h]`` with ``W_Q`` of shape ``(n_heads, d_model, d_head)``;
  ``W_K``/``W_V`` have ``n_kv_heads`` heads (grouped-query attention); the head output ``z``
  enters the residual stream as ``z @ W_O[h]`` with ``W_O`` of shape ``(n_heads, d_head, d_model)``.
* MLP: row ``i`` of ``W_out`` (``(d_mlp, d_model)``) is neuron ``i``'s value vector; rows of
  ``W_in`` (plain MLPs) or ``W_gate``/``W_up`` (gated MLPs) are its key vectors.
* mixture-of-experts MLP: the same matrices with a leading expert axis, ``W_out[e, i]`` is neuron
  ``i`` of expert ``e`` (``(n_experts, d_mlp, d_model)``, ``d_mlp`` per expert). The router is
  not part of the weights: it chooses experts, it writes nothing to the residual stream.
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

    A mixture-of-experts layer has a leading expert axis on every matrix (``(n_experts, d_mlp,
    d_model)``, neuron ``i`` of expert ``e`` at ``[e, i]``; biases ``(n_experts, ...)``);
    :meth:`parts` gives one dense :class:`MLPWeights` per expert either way.

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
    def moe(self) -> bool:
        """Whether this is a mixture-of-experts layer (matrices with an expert axis)."""
        return self.W_out.ndim == 3

    @property
    def n_experts(self) -> int:
        """Number of experts; 0 for a dense MLP."""
        return self.W_out.shape[0] if self.moe else 0

    @property
    def d_mlp(self) -> int:
        """Number of neurons (per expert in a mixture-of-experts layer)."""
        return self.W_out.shape[-2]

    def expert(self, expert: int) -> MLPWeights:
        """The dense weights of one expert of a mixture-of-experts layer (views, no copies)."""
        if not self.moe:
            raise ValueError("a dense MLP has no experts")
        pick = lambda w: None if w is None else w[expert]  # noqa: E731
        return MLPWeights(
            W_out=self.W_out[expert],  # (d_mlp, d_model)
            W_in=pick(self.W_in),
            W_gate=pick(self.W_gate),
            W_up=pick(self.W_up),
            b_in=pick(self.b_in),
            b_out=pick(self.b_out),
        )

    def parts(self) -> list[tuple[int, MLPWeights]]:
        """``(expert, dense weights)`` pairs: ``[(-1, self)]`` for a dense MLP, else every expert."""
        if not self.moe:
            return [(-1, self)]
        return [(e, self.expert(e)) for e in range(self.n_experts)]
