"""Token-space attention circuits of one head, as rank-``d_head`` factor pairs (never vocab x vocab).

Conventions (biases and positions are ignored, as in Elhage et al., 2021):

* A token ``s`` enters attention as its embedding ``W_E[s]`` brought to unit RMS (centred
  first for LayerNorm families): the attention's input norm without its gain, which makes
  tokens with large embeddings no louder than others. See :func:`token_inputs`. OLMo-2 has no
  input norm (its norms follow the sublayers); its tokens enter at unit RMS all the same.
* q/k norms (Qwen-3, Qwen3-MoE, Gemma-3 per head; OLMo-2 over all heads) and post-attention norms
  (Gemma-2/3, OLMo-2) are left out: the circuits use ``W_Q``, ``W_K``, ``W_V``, ``W_O`` alone.
* OV circuit of head ``h``: ``OV[s, t] = x_s @ W_V[kv(h)] @ W_O[h] @ R[:, t]`` where ``R`` is the
  readout (the unembedding, with the final norm's linear part when asked): how much attending
  to source token ``s`` raises the logit of output token ``t``.
* QK circuit of head ``h``: ``QK[q, s] = (x_q @ W_Q[h]) . (x_s @ W_K[kv(h)])``, unscaled: how much
  a query token ``q`` attends to a key token ``s`` on content alone.

Each circuit is returned as ``(left, right)`` with ``circuit = left @ right``: ``left`` is
``(n_rows, d_head)`` and ``right`` ``(d_head, n_cols)``, ready for
:func:`vocablens.project.topk.pair_topk`.
"""

from __future__ import annotations

import torch

from vocablens.model.view import ModelView
from vocablens.model.weights import AttentionWeights

Tensor = torch.Tensor


def token_inputs(view: ModelView, token_ids: Tensor, dtype: torch.dtype) -> Tensor:
    """Embeddings of ``token_ids`` as attention sees them: centred (LayerNorm) and unit RMS.

    Args:
        view: the model view.
        token_ids: ``(n,)`` int64 ids.
        dtype: compute dtype.

    Returns:
        ``(n, d_model)`` on the model's device.
    """
    W_E = view.W_E.detach()
    x = W_E[token_ids.to(W_E.device)].to(dtype)  # (n, d_model)
    return view.unit_rms(x)  # (n, d_model)


def ov_factors(
    attn: AttentionWeights, head: int, src_inputs: Tensor, readout_T: Tensor
) -> tuple[Tensor, Tensor]:
    """OV circuit of ``head`` as ``(left, right)``: rows are source tokens, columns output tokens.

    Args:
        attn: the layer's attention weights.
        head: query-head number.
        src_inputs: ``(n_src, d_model)`` from :func:`token_inputs`.
        readout_T: ``(d_model, n_out)`` readout (unembedding columns).

    Returns:
        ``left`` ``(n_src, d_head)`` and ``right`` ``(d_head, n_out)``.
    """
    dtype = readout_T.dtype
    W_V = attn.W_V[attn.kv_head(head)].detach().to(dtype)  # (d_model, d_head)
    W_O = attn.W_O[head].detach().to(dtype)  # (d_head, d_model)
    left = src_inputs @ W_V  # (n_src, d_head)
    right = W_O @ readout_T  # (d_head, n_out)
    return left, right


def qk_factors(
    attn: AttentionWeights, head: int, query_inputs: Tensor, key_inputs: Tensor
) -> tuple[Tensor, Tensor]:
    """QK circuit of ``head`` as ``(left, right)``: rows are query tokens, columns key tokens.

    Args:
        attn: the layer's attention weights.
        head: query-head number.
        query_inputs: ``(n_query, d_model)`` from :func:`token_inputs`.
        key_inputs: ``(n_key, d_model)`` from :func:`token_inputs`.

    Returns:
        ``left`` ``(n_query, d_head)`` and ``right`` ``(d_head, n_key)``.
    """
    dtype = query_inputs.dtype
    W_Q = attn.W_Q[head].detach().to(dtype)  # (d_model, d_head)
    W_K = attn.W_K[attn.kv_head(head)].detach().to(dtype)  # (d_model, d_head)
    left = query_inputs @ W_Q  # (n_query, d_head)
    right = (key_inputs @ W_K).T.contiguous()  # (d_head, n_key)
    return left, right
