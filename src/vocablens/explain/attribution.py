"""Direct logit attribution of one prediction: :func:`explain`.

One ordinary forward pass of the prompt, with hooks that only record
(:func:`~vocablens.model.component_hooks.capture_components`), so that hooks an intervention
installed act as usual. Then, for the readout direction ``g = W_U[target]`` (minus
``W_U[contrast]``):

* the final norm is frozen at its scale ``s`` for the position: ``d = s * gain * g`` (centred for
  LayerNorm), and the readout of the final residual ``x`` is ``x @ d`` (:attr:`residual_logit`);
* ``x`` is the sum of the embeddings, each block's attention output (per head
  ``z_h @ W_O[h]``, plus ``b_O``) and MLP output (per neuron ``m_i * v_i``, plus ``b_out``; MoE:
  per expert, weighted by its routing weight), so each part's contribution is ``part @ d``;
* a norm after a sublayer (Gemma-2, Gemma-3, OLMo-2) is frozen at its own scale for the position
  and folded into that sublayer's direction the same way.

Sums are computed in float64 (float32 on MPS).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from vocablens.errors import InputError
from vocablens.explain.geva import GEVA_FRACTIONS, fill_ranks, geva_layer
from vocablens.explain.labels import label_lookup
from vocablens.explain.result import Explanation, LayerContributions
from vocablens.lens import inputs
from vocablens.model import components, sublayers
from vocablens.model.component_hooks import capture_components
from vocablens.model.loading import LoadedModel, load_model
from vocablens.model.view import ModelView
from vocablens.tokens import token_strings

Tensor = torch.Tensor
Prompt = str | Sequence[int]


def check_position(position: int, n_tokens: int) -> int:
    """``position`` as ``0..n_tokens-1`` (negative counts from the end).

    Raises:
        InputError: the prompt has no such position.
    """
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
        raise InputError(f"position must be an integer, not {position!r}")
    if not -n_tokens <= position < n_tokens:
        raise InputError(
            f"position {position} out of range: the prompt has {n_tokens} tokens "
            f"(positions 0..{n_tokens - 1}, or -1 for the last)"
        )
    return int(position) % n_tokens


def token_id(token: str | int | None, tokenizer: Any, vocab_size: int, what: str) -> int | None:
    """The id of a one-token ``token`` (the lens's check), refusing text the tokenizer does not know.

    Raises:
        InputError: not one token (:func:`vocablens.lens.inputs.target_id`), or text that reads as
            the tokenizer's unknown token.
    """
    try:
        found = inputs.target_id(token, tokenizer, vocab_size)
    except InputError as exc:
        raise InputError(str(exc).replace("target", what, 1)) from None
    unk = getattr(tokenizer, "unk_token_id", None)
    if (
        isinstance(token, str)
        and found is not None
        and found == unk
        and token != tokenizer.unk_token
    ):
        raise InputError(
            f"{what} {token!r} is not in the vocabulary (it reads as the unknown token)"
        )
    return found


def _float(x: Tensor) -> float:
    return float(x.detach().cpu())


def _sublayer_direction(view: ModelView, norm: Any, state: Tensor | None, direction: Tensor):
    """Read ``direction`` back through a post-sublayer norm; returns (direction, bias term, scale)."""
    if norm is None or state is None:
        return direction, 0.0, None
    parts = components.norm_parts(norm, view.norm_kind)
    scale = components.norm_scale(parts, state.to(direction))
    bias = 0.0 if parts.bias is None else _float(parts.bias.to(direction) @ direction)
    return components.read_through(parts, scale, direction), bias, _float(scale)


def _layer(view: ModelView, store: dict, layer: int, d: Tensor) -> LayerContributions:
    """Block ``layer``'s contributions along the final-norm-side direction ``d`` ``(d_model,)``."""
    attn_post, mlp_post = sublayers.post_norms(view, layer)
    d_attn, attn_const, attn_scale = _sublayer_direction(
        view, attn_post, store.get(("attn_post", layer)), d
    )
    d_mlp, mlp_const, mlp_scale = _sublayer_direction(
        view, mlp_post, store.get(("mlp_post", layer)), d
    )
    attn = view.attention(layer)
    W_O = attn.W_O.to(d)  # (n_heads, d_head, d_model)
    z = store[("z", layer)].to(d).view(W_O.shape[0], W_O.shape[1])  # (n_heads, d_head)
    heads = (z * (W_O @ d_attn)).sum(dim=-1)  # (n_heads,)
    attn_bias = attn_const + (0.0 if attn.b_O is None else _float(attn.b_O.to(d) @ d_attn))

    mlp = view.mlp(layer)
    reads = mlp.W_out.to(d) @ d_mlp  # (d_mlp,) or (n_experts, d_mlp): v_i @ d
    if mlp.moe:
        hidden, experts, weights = store[("moe", layer)]
        coefficients = components.expert_coefficients(
            view, layer, hidden[None], experts[None], weights[None]
        )[0].to(d)  # (n_experts, d_mlp)
    else:
        coefficients = store[("m", layer)].to(d)  # (d_mlp,)
    mlp_bias = mlp_const + (0.0 if mlp.b_out is None else _float(mlp.b_out.to(d) @ d_mlp))
    return LayerContributions(
        layer=layer,
        heads=heads.cpu().numpy(),
        attn_bias=attn_bias,
        neurons=(coefficients * reads).cpu().numpy(),
        coefficients=coefficients.cpu().numpy(),
        mlp_bias=mlp_bias,
        attn_norm_scale=attn_scale,
        mlp_norm_scale=mlp_scale,
    )


def _forward(lm: LoadedModel, ids: list[int], pos: int) -> tuple[dict, Tensor]:
    """One forward pass; the recorded components and the logits ``(vocab,)`` at ``pos``."""
    device = lm.device
    input_ids = torch.tensor([ids], dtype=torch.long, device=device)  # (1, pos)
    mask = torch.ones_like(input_ids)
    with torch.inference_mode(), capture_components(lm.view, len(ids), pos) as store:
        output = lm.model(input_ids=input_ids, attention_mask=mask, use_cache=False)
    return store, output.logits[0, pos]


def explain(
    model: Any,
    prompt: Prompt,
    target: str | int | None = None,
    *,
    contrast: str | int | None = None,
    position: int = -1,
    bos: bool = False,
    truncate: bool = False,
    annotations: Any = None,
    geva_top: int = 10,
    fractions: Sequence[float] = GEVA_FRACTIONS,
) -> Explanation:
    """What builds the prediction at one position: every component's direct logit contribution.

    Args:
        model: a :class:`~vocablens.model.loading.LoadedModel` (or anything
            :func:`~vocablens.load_model` accepts).
        prompt: a string or a list of token ids.
        target: the token to explain (one token: a string or an id); None: the model's top-1
            prediction at the position.
        contrast: a second token: explain ``logit(target) - logit(contrast)``.
        position: the position (negative counts from the end; default the last).
        bos: prepend the BOS token.
        truncate: cut a prompt longer than the context instead of failing.
        annotations: an annotation file, :class:`~vocablens.annotate.result.Annotations` or
            DataFrame whose labels are attached to the neurons (None: no labels).
        geva_top: top sub-updates per layer kept in the Geva view, with their value-vector ranks
            (0: none, and no projection is computed).
        fractions: the fractions of each layer's shift the Geva view counts sub-updates for.

    Returns:
        An :class:`~vocablens.explain.result.Explanation`.

    Raises:
        InputError: an empty or too long prompt, a position out of range, a target or contrast
            that is not one token, bad annotations.
    """
    inputs.check_prompt(prompt)
    if geva_top < 0:
        raise InputError(f"geva_top must be 0 or more, not {geva_top}")
    if any(not 0 < f <= 1 for f in fractions):
        raise InputError("fractions must lie in (0, 1]")
    lm = load_model(model)
    view = lm.view
    tokenizer = lm.tokenizer
    ids = inputs.tokenize(prompt, tokenizer, view.W_E.shape[0], view.context_length, bos=bos,
                          truncate=truncate)  # fmt: skip
    pos = check_position(position, len(ids))
    target_id = token_id(target, tokenizer, view.vocab_size, "target")
    contrast_id = token_id(contrast, tokenizer, view.vocab_size, "contrast")
    labels = label_lookup(annotations)

    store, logits = _forward(lm, ids, pos)
    predicted = int(logits.argmax())
    target_id = predicted if target_id is None else target_id
    work = torch.float32 if lm.device.type == "mps" else torch.float64

    with torch.inference_mode():
        g = view.W_U[target_id].to(work)  # (d_model,) the readout direction
        unembed_bias = 0.0 if view.b_U is None else _float(view.b_U[target_id].to(work))
        if contrast_id is not None:
            g = g - view.W_U[contrast_id].to(work)
            if view.b_U is not None:
                unembed_bias -= _float(view.b_U[contrast_id].to(work))
        final = components.norm_parts(view.final_norm, view.norm_kind)
        x = store["final"].to(work)  # (d_model,)
        scale = components.norm_scale(final, x)
        d = components.read_through(final, scale, g)  # (d_model,)
        norm_bias = 0.0 if final.bias is None else _float(final.bias.to(work) @ g)
        resid0 = store["resid0"].to(work)  # (d_model,)
        pos_embed = store.get("pos_embed")
        pos_part = None if pos_embed is None else _float(pos_embed.to(work) @ d)
        token_part = _float(resid0 @ d) - (pos_part or 0.0)
        layers = [_layer(view, store, layer, d) for layer in range(view.n_layers)]
        logit_row = logits.to(work)
        model_logit = _float(logit_row[target_id])
        if contrast_id is not None:
            model_logit -= _float(logit_row[contrast_id])

    residual_logit = _float(x @ d)
    logit = residual_logit + norm_bias + unembed_bias
    capped = _capped(view, lm, x, final, scale, target_id, contrast_id, logit, work)
    geva = []
    for lay in layers:
        keys = lay.neuron_keys()
        geva.append(geva_layer(lay.layer, lay.neurons.ravel(), lay.coefficients.ravel(), keys,
                               tuple(fractions), geva_top))  # fmt: skip
    if geva_top:
        fill_ranks(view, geva, target_id)
    texts = token_strings(tokenizer, ids)
    named = [target_id, predicted] if contrast_id is None else [target_id, predicted, contrast_id]
    shown = token_strings(tokenizer, named)
    text = prompt if isinstance(prompt, str) else (tokenizer.decode(ids) if tokenizer else "")
    return Explanation(
        model=lm.name, text=text, token_ids=ids, tokens=texts, position=pos,
        target_id=target_id, target=shown[0], contrast_id=contrast_id,
        contrast=shown[2] if contrast_id is not None else None, predicted_id=predicted,
        predicted=shown[1], token_embed=token_part, pos_embed=pos_part, layers=layers,
        final_norm_scale=_float(scale), residual_logit=residual_logit, norm_bias=norm_bias,
        unembed_bias=unembed_bias, softcap=view.softcap, capped_logit=capped,
        model_logit=model_logit, geva=geva, labels=_neuron_labels(layers, labels),
    )  # fmt: skip


def _capped(view, lm, x, final, scale, target_id, contrast_id, logit, work) -> float:
    """The readout after the soft-cap (each token's logit capped, then the difference)."""
    if view.softcap is None:
        return logit
    ids = [target_id] + ([contrast_id] if contrast_id is not None else [])
    with torch.inference_mode():
        centred = x - x.mean() if final.centre else x
        normed = centred * scale * final.gain.to(work)  # (d_model,) the final norm's output
        if final.bias is not None:
            normed = normed + final.bias.to(work)
        rows = view.W_U[ids].to(work) @ normed  # (1 or 2,)
        if view.b_U is not None:
            rows = rows + view.b_U[ids].to(work)
        capped = view.cap(rows)
    return _float(capped[0] - capped[1]) if len(ids) == 2 else _float(capped[0])


def _neuron_labels(layers: list[LayerContributions], labels: dict) -> dict:
    """``(layer, expert, index) -> (label, label_kind)`` on the side each neuron writes."""
    if not labels:
        return {}
    out = {}
    for lay in layers:
        experts, indices = lay.neuron_keys()
        signs = np.where(lay.coefficients.ravel() < 0, -1, 1)
        for e, i, s in zip(experts.tolist(), indices.tolist(), signs.tolist(), strict=True):
            found = labels.get((lay.layer, e, i, s))
            if found is not None:
                out[(lay.layer, e, i)] = found
    return out
