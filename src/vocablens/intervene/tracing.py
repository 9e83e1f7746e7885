"""Causal tracing (Meng et al. 2022, ROME): where a model recalls a fact about a subject.

For a prompt and its subject span:

1. *clean* run: the probability ``p_clean`` of the correct token at the last position, and
   every state: ``resid`` (the output of block ℓ, the residual stream entering ℓ+1),
   ``mlp_out`` and ``attn_out`` of every layer at every position;
2. *corrupted* runs: Gaussian noise (``noise`` × the standard deviation of the embeddings as the
   first block sees them, ROME's 3×) added to the subject tokens' embeddings, one draw per seed:
   ``p_corrupt``;
3. *restored* runs: corrupted, with one clean state put back: ``resid`` of one layer at one
   position, or ``mlp_out`` / ``attn_out`` of a window of ``window`` layers around ℓ,
   ``[ℓ - w//2, ℓ + ⌈w/2⌉)`` clipped to the model (ROME uses 10), at one position. The *indirect effect* of that state is ``p_restored - p_corrupt``.

Restorations run batched (one row per restored state, the same noise in every row of a seed).
Positions before the subject see no noise and, by causality, restoring them changes nothing:
they get ``p_corrupt`` without a forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from vocablens.errors import InputError
from vocablens.intervene.edits import Edit, edited
from vocablens.intervene.forward import as_loaded
from vocablens.intervene.nodes import Node
from vocablens.intervene.ops import Add, Patch
from vocablens.lens import inputs
from vocablens.model.hooks import forward_capture
from vocablens.tokens import token_strings

KINDS = ("resid", "mlp_out", "attn_out")
Tensor = torch.Tensor


@dataclass
class TraceResult:
    """Causal trace of one prompt. ``L`` layers, ``T`` tokens, ``K`` kinds.

    Attributes:
        prompt: the prompt text.
        tokens: ``(T,)`` token strings.
        subject: the subject's token span ``(start, end)``, end exclusive.
        target: the correct token's string; ``target_id`` its id.
        p_clean: its probability in the clean run.
        p_corrupt: its probability with the subject corrupted (mean over seeds).
        kinds: the ``K`` restored state kinds (``resid``, ``mlp_out``, ``attn_out``).
        scores: ``(K, L, T)`` the target's probability with one state restored (mean over seeds).
        window: layers restored together for ``mlp_out`` / ``attn_out``.
        noise: the noise scale (× the embedding std); ``seeds`` the seeds.
        promoted: per kind, ``(layer, pos, top tokens)`` of the state with the largest effect,
            read through the final norm and unembedding (the lens of that clean state).
    """

    prompt: str
    tokens: list[str]
    subject: tuple[int, int]
    target: str
    target_id: int
    p_clean: float
    p_corrupt: float
    kinds: tuple[str, ...]
    scores: np.ndarray
    window: int
    noise: float
    seeds: tuple[int, ...]
    promoted: dict[str, tuple[int, int, list[str]]] = field(default_factory=dict)

    @property
    def indirect(self) -> np.ndarray:
        """``(K, L, T)`` indirect effects ``p_restored - p_corrupt``."""
        return self.scores - self.p_corrupt


def subject_span(lm: Any, prompt: str, subject: str) -> tuple[list[int], tuple[int, int]]:
    """Token ids of ``prompt`` and the token span ``(start, end)`` covering ``subject``.

    Raises:
        InputError: the subject is not in the prompt, or the model has no tokenizer.
    """
    if lm.tokenizer is None:
        raise InputError("causal tracing needs a tokenizer: the subject is found in the text")
    inputs.check_prompt(prompt)
    start = prompt.find(subject) if subject.strip() else -1
    if start < 0:
        raise InputError(f"subject {subject!r} is not in the prompt {prompt!r}")
    end = start + len(subject)
    enc = lm.tokenizer(prompt, return_offsets_mapping=True)
    ids = [int(i) for i in enc["input_ids"]]
    hit = [t for t, (a, b) in enumerate(enc["offset_mapping"]) if a < end and b > start and b > a]
    if not hit:
        raise InputError(f"subject {subject!r} covers no token of the prompt {prompt!r}")
    return ids, (hit[0], hit[-1] + 1)


def embedding_std(view: Any) -> float:
    """The standard deviation of the embedding entries as the first block sees them."""
    W_E = view.W_E.detach().float() * view.embed_scale
    return float(W_E.std())


def _states(view, ids: list[int]) -> dict[tuple[str, int], Tensor]:
    """Clean ``(T, d)`` states: ``resid`` ℓ = block ℓ's output, and each sublayer's output."""
    L = view.n_layers
    sites = [("resid", layer + 1) for layer in range(L)]
    sites += [(k, layer) for k in ("mlp_out", "attn_out") for layer in range(L)]
    x = torch.tensor([ids], device=view.W_U.device)
    got = forward_capture(view, x, torch.ones_like(x), sites)
    out = {(k, layer - 1 if k == "resid" else layer): v[0] for (k, layer), v in got.items()}
    return out  # (T, d_model) each


def _restore_edits(view, rows: list[tuple[int, int, int]], clean, kinds, window, T) -> list[Edit]:
    """Patch edits restoring, in batch row ``b``, the state ``rows[b] = (kind, layer, pos)``."""
    L = view.n_layers
    masks: dict[tuple[str, int], Tensor] = {}
    for b, (k, layer, pos) in enumerate(rows):
        kind = kinds[k]
        if kind == "resid":
            span = [layer]
        else:
            # ROME's window: layers [l - w//2, l + ceil(w/2)), clipped to the model
            span = list(range(max(0, layer - window // 2), min(L, layer - (-window // 2))))
        for at in span:
            mask = masks.setdefault((kind, at), torch.zeros(len(rows), T, dtype=torch.bool))
            mask[b, pos] = True
    edits = []
    for (kind, at), mask in masks.items():
        op = Patch(clean[(kind, at)], mask)
        if kind == "resid":  # block `at`'s output is the residual entering block at+1
            edits.append(Edit(op, None, "resid", at + 1, label=f"restore resid {at}"))
        else:
            node = Node(at, "mlp" if kind == "mlp_out" else "attn")
            edits.append(Edit(op, node, label=f"restore {kind} {at}"))
    return edits


@torch.inference_mode()
def _probs(view, ids: list[int], n_rows: int, edits: list[Edit], target_id: int) -> Tensor:
    """The target's probability at the last position in each of ``n_rows`` copies: ``(n_rows,)``."""
    x = torch.tensor([ids] * n_rows, device=view.W_U.device)  # (rows, T)
    with edited(view, edits):
        try:
            logits = view.model(input_ids=x, use_cache=False, logits_to_keep=1).logits
        except TypeError:
            logits = view.model(input_ids=x, use_cache=False).logits
    last = logits[:, -1].to(torch.promote_types(logits.dtype, torch.float32))  # (rows, vocab)
    return torch.softmax(last, dim=-1)[:, target_id].cpu()  # (rows,)


def trace(
    model: Any,
    prompt: str,
    subject: str,
    *,
    target: str | int | None = None,
    kinds: Sequence[str] = KINDS,
    window: int = 10,
    noise: float = 3.0,
    seeds: Sequence[int] = (0, 1, 2),
    batch_size: int = 64,
    k: int = 8,
    positions: str | Sequence[int] = "all",
) -> TraceResult:
    """Causal trace of ``prompt`` with ``subject`` corrupted (see the module docstring).

    Args:
        model: the model (LoadedModel or anything :func:`~vocablens.load_model` accepts).
        prompt: the prompt text.
        subject: a substring of ``prompt``.
        target: the correct token (default: the clean run's top-1).
        kinds: the state kinds to restore.
        window: layers restored together for ``mlp_out`` / ``attn_out`` (1: single layers).
        noise: the noise scale, in embedding standard deviations.
        seeds: one noise draw per seed.
        batch_size: restored rows per forward pass.
        k: tokens in the vocabulary view.
        positions: the positions to restore: ``"all"``, ``"summary"`` (the last subject token
            and the last token: what :func:`summarize` reads, at a fraction of the cost), or
            a list. Positions not traced hold NaN (those before the subject: ``p_corrupt``).

    Raises:
        InputError: the subject is not in the prompt, an unknown kind or a bad target.
    """
    lm = as_loaded(model)
    view = lm.view
    bad = [kind for kind in kinds if kind not in KINDS]
    if bad or not kinds:
        raise InputError(f"unknown trace kind {bad[0] if bad else ''!r}; use {', '.join(KINDS)}")
    if window < 1:
        raise InputError("the restoration window must be at least 1 layer")
    ids, (s0, s1) = subject_span(lm, prompt, subject)
    T, L, K = len(ids), view.n_layers, len(kinds)
    clean = _states(view, ids)
    fixed = inputs.target_id(target, lm.tokenizer, view.vocab_size)
    if fixed is None:
        x = torch.tensor([ids], device=view.W_U.device)
        with torch.inference_mode():
            fixed = int(view.model(input_ids=x, use_cache=False).logits[0, -1].argmax())
    p_clean = float(_probs(view, ids, 1, [], fixed)[0])
    std = embedding_std(view)
    traced = _positions(positions, s0, s1, T)
    rows = [(k_, layer, pos) for k_ in range(K) for layer in range(L) for pos in traced]
    scores = np.zeros((len(seeds), K, L, T))
    p_corrupt = np.zeros(len(seeds))
    for s, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(seed)
        delta = torch.zeros(T, view.d_model)
        delta[s0:s1] = torch.randn(s1 - s0, view.d_model, generator=gen) * (noise * std)
        noise_edit = Edit(Add(delta), None, "resid", 0, label="corrupt subject")
        p_corrupt[s] = float(_probs(view, ids, 1, [noise_edit], fixed)[0])
        scores[s] = np.nan
        scores[s, :, :, :s0] = p_corrupt[s]  # causality: restoring these changes nothing
        for c0 in range(0, len(rows), batch_size):
            chunk = rows[c0 : c0 + batch_size]
            edits = [noise_edit, *_restore_edits(view, chunk, clean, kinds, window, T)]
            probs = _probs(view, ids, len(chunk), edits, fixed).numpy()
            for (k_, layer, pos), p in zip(chunk, probs, strict=True):
                scores[s, k_, layer, pos] = p
    result = TraceResult(
        prompt=prompt,
        tokens=token_strings(lm.tokenizer, ids),
        subject=(s0, s1),
        target=token_strings(lm.tokenizer, [fixed])[0],
        target_id=fixed,
        p_clean=p_clean,
        p_corrupt=float(p_corrupt.mean()),
        kinds=tuple(kinds),
        scores=scores.mean(axis=0),
        window=window,
        noise=noise,
        seeds=tuple(seeds),
    )
    result.promoted = _promoted(lm, result, clean, k)
    return result


def _positions(positions: str | Sequence[int], s0: int, s1: int, T: int) -> list[int]:
    """The positions to restore, from the subject start on (earlier ones need no run)."""
    if positions == "all":
        return list(range(s0, T))
    if positions == "summary":
        return sorted({s1 - 1, T - 1})
    if isinstance(positions, str):
        raise InputError(f"unknown positions {positions!r}: use all, summary or a list")
    out = sorted({p % T for p in positions if -T <= p < T})
    if len(out) != len(set(positions)):
        raise InputError(f"a traced position is out of range: the prompt has {T} tokens")
    return [p for p in out if p >= s0]


@torch.inference_mode()
def _promoted(lm, result: TraceResult, clean, k: int) -> dict[str, tuple[int, int, list[str]]]:
    """Per kind, the top tokens of the clean state with the largest indirect effect."""
    out = {}
    for k_, kind in enumerate(result.kinds):
        grid = np.nan_to_num(result.scores[k_], nan=-1.0)  # (L, T)
        layer, pos = np.unravel_index(int(grid.argmax()), grid.shape)
        state = clean[(kind, int(layer))][int(pos)]  # (d_model,)
        top = lm.view.unembed(state[None]).float()[0].topk(k).indices.tolist()
        out[kind] = (int(layer), int(pos), token_strings(lm.tokenizer, top))
    return out


@dataclass
class TraceSummary:
    """Average indirect effects over prompts, ROME's per-layer figure.

    Attributes:
        kinds: the ``K`` state kinds.
        last_subject: ``(K, L)`` mean indirect effect at the last subject token.
        last_token: ``(K, L)`` mean indirect effect at the last token.
        mean_clean, mean_corrupt: the mean ``p_clean`` and ``p_corrupt``.
        n_prompts: how many traces.
    """

    kinds: tuple[str, ...]
    last_subject: np.ndarray
    last_token: np.ndarray
    mean_clean: float
    mean_corrupt: float
    n_prompts: int


def summarize(results: Sequence[TraceResult]) -> TraceSummary:
    """Average indirect effect per layer at the last subject token and at the last token.

    Raises:
        InputError: no traces, or traces of different kinds.
    """
    if not results:
        raise InputError("no traces to summarize")
    kinds = results[0].kinds
    if any(r.kinds != kinds for r in results):
        raise InputError("traces with different kinds cannot be averaged")
    subj = np.stack([r.indirect[:, :, r.subject[1] - 1] for r in results])  # (n, K, L)
    last = np.stack([r.indirect[:, :, -1] for r in results])  # (n, K, L)
    return TraceSummary(
        kinds=kinds,
        last_subject=subj.mean(axis=0),
        last_token=last.mean(axis=0),
        mean_clean=float(np.mean([r.p_clean for r in results])),
        mean_corrupt=float(np.mean([r.p_corrupt for r in results])),
        n_prompts=len(results),
    )
