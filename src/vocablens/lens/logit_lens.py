"""The residual logit lens: read every layer's residual stream through final norm and unembedding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from vocablens.buffers import Scratch
from vocablens.errors import InputError
from vocablens.lens import inputs
from vocablens.lens.result import LensResult
from vocablens.lens.stats import STATS, FinalDist, chunk_stats, parse_stats
from vocablens.model.hooks import Site, forward_capture
from vocablens.model.loading import load_model
from vocablens.tokens import token_strings

Prompt = str | Sequence[int]

_FIELDS = {  # the result arrays each statistic fills
    "top": ("top_ids", "top_probs"),
    "entropy": ("entropy",),
    "kl": ("kl_to_final",),
    "ce": ("next_token_ce",),
    "target": ("target_rank", "target_prob"),
}


class Lens:
    """The logit lens of one model.

    Args:
        model: anything :func:`~vocablens.load_model` accepts (a loaded model, a path, an alias).
        tokenizer: the tokenizer, when ``model`` is a model object.
        batch_size: prompts per forward pass.
        chunk_tokens: positions read out at once; memory is about
            ``4 * chunk_tokens * vocab * 4`` bytes above the model.

    Example:
        >>> lens = Lens("smollm2-135m")                                   # doctest: +SKIP
        >>> result = lens(["The capital of France is"], k=5)              # doctest: +SKIP
        >>> print(result.table())                                         # doctest: +SKIP
    """

    def __init__(
        self, model: Any, tokenizer: Any = None, *, batch_size: int = 8, chunk_tokens: int = 256
    ):
        self.loaded = load_model(model, tokenizer)
        self.view = self.loaded.view
        self.tokenizer = self.loaded.tokenizer
        self.batch_size = batch_size
        self.chunk_tokens = chunk_tokens
        self.scratch = Scratch()

    @property
    def n_layers(self) -> int:
        """The model's number of blocks."""
        return self.view.n_layers

    @property
    def context_length(self) -> int | None:
        """The model's longest input in tokens (None: no limit known)."""
        return self.view.context_length

    # ----- input checks ----------------------------------------------------------------------
    def tokenize(self, prompt: Prompt, *, bos: bool = False, truncate: bool = False) -> list[int]:
        """Token ids of one prompt (see :func:`vocablens.lens.inputs.tokenize`)."""
        return inputs.tokenize(prompt, self.tokenizer, self.view.W_E.shape[0], self.context_length,
                               bos=bos, truncate=truncate)  # fmt: skip

    def target_id(self, target: str | int | None) -> int | None:
        """The id of a one-token target (see :func:`vocablens.lens.inputs.target_id`)."""
        return inputs.target_id(target, self.tokenizer, self.view.vocab_size)

    def sites(
        self, sites: Sequence[str] = ("resid",), layers: Sequence[int] | None = None
    ) -> list[Site]:
        """The ``(site, layer)`` rows to read (see :func:`vocablens.lens.inputs.site_rows`)."""
        return inputs.site_rows(self.n_layers, sites, layers)

    # ----- the lens --------------------------------------------------------------------------
    def __call__(
        self,
        prompts: Prompt | Sequence[Prompt],
        *,
        k: int = 10,
        sites: Sequence[str] = ("resid",),
        layers: Sequence[int] | None = None,
        target: str | int | None = None,
        bos: bool = False,
        truncate: bool = False,
        stats: Sequence[str] = STATS,
    ) -> LensResult:
        """Read the residual stream of ``prompts`` through the unembedding.

        Args:
            prompts: a prompt or a list; each a string or a list of token ids.
            k: top tokens to keep per site and position.
            sites: any of ``resid``, ``resid_mid``, ``attn_out``, ``mlp_out``.
            layers: restrict to these layers (None: all).
            target: a token (string or id) whose rank and probability to track; by default the
                actual next token.
            bos: prepend the BOS token.
            truncate: cut prompts longer than the context instead of failing.
            stats: the statistics to compute, any of ``top`` (top-k ids and probabilities, and
                ``first_top1_layer``), ``entropy``, ``kl``, ``ce`` (next-token cross-entropy),
                ``target`` (target rank and probability); by default all. The others stay
                NaN / -1 in the result, and cost nothing.

        Returns:
            A :class:`~vocablens.lens.result.LensResult`.

        Raises:
            InputError: bad prompts, sites, layers, target, ``k`` or statistic names.
        """
        single = isinstance(prompts, str) or (bool(prompts) and isinstance(prompts[0], int))
        batch: list[Prompt] = [prompts] if single else list(prompts)  # type: ignore[list-item,arg-type]
        if not batch:
            raise InputError("no prompt given")
        if k < 1 or k > self.view.vocab_size:
            raise InputError(f"top-k must lie in 1..{self.view.vocab_size}")
        ids = [self.tokenize(p, bos=bos, truncate=truncate) for p in batch]
        rows = self.sites(sites, layers)
        target_id = self.target_id(target)
        wanted = parse_stats(stats)
        result = self._allocate(batch, ids, rows, k, target)
        result.stats = tuple(name for name in STATS if name in wanted)
        for start in range(0, len(ids), self.batch_size):
            chunk = ids[start : start + self.batch_size]
            self._run_batch(result, chunk, start, k, target_id, wanted)
        self._finish(result)
        return result

    def _allocate(self, prompts, ids, rows, k, target) -> LensResult:
        P, S, T = len(ids), len(rows), max(len(i) for i in ids)
        texts = [p if isinstance(p, str) else "" for p in prompts]
        if self.tokenizer is not None:
            texts = [t or self.tokenizer.decode(i) for t, i in zip(texts, ids, strict=True)]
        return LensResult(
            model=self.loaded.name,
            texts=texts,
            token_ids=ids,
            tokens=[token_strings(self.tokenizer, i) for i in ids],
            sites=rows,
            n_layers=self.n_layers,
            top_ids=np.full((P, S, T, k), -1, dtype=np.int64),
            top_probs=np.full((P, S, T, k), np.nan, dtype=np.float32),
            entropy=np.full((P, S, T), np.nan, dtype=np.float32),
            kl_to_final=np.full((P, S, T), np.nan, dtype=np.float32),
            next_token_ce=np.full((P, S, T), np.nan, dtype=np.float32),
            target_rank=np.full((P, S, T), -1, dtype=np.int64),
            target_prob=np.full((P, S, T), np.nan, dtype=np.float32),
            final_top1=np.full((P, T), -1, dtype=np.int64),
            first_top1_layer=np.full((P, T), -1, dtype=np.int64),
            target=target if isinstance(target, str) else None,
        )

    @torch.inference_mode()
    def _run_batch(
        self, result: LensResult, batch: list[list[int]], offset: int, k, target_id, wanted
    ):
        view = self.view
        device = self.loaded.device
        B, T = len(batch), max(len(i) for i in batch)
        pad = 0 if self.tokenizer is None else (self.tokenizer.pad_token_id or 0)
        # Right padding: real tokens keep positions 0..n-1, and causal attention never lets
        # them see the padding, so each prompt reads exactly as it would alone.
        input_ids = torch.full((B, T), pad, dtype=torch.long)
        mask = torch.zeros((B, T), dtype=torch.long)
        next_ids = torch.full((B, T), -1, dtype=torch.long)
        for b, ids in enumerate(batch):
            input_ids[b, : len(ids)] = torch.tensor(ids)
            mask[b, : len(ids)] = 1
            next_ids[b, : len(ids) - 1] = torch.tensor(ids[1:], dtype=torch.long)
        final_site = ("resid", view.n_layers)
        read = list(dict.fromkeys([*result.sites, final_site]))
        f = read.index(final_site)
        n_out = len(result.sites)  # the first n_out rows of `read` are the result's sites
        states = forward_capture(view, input_ids.to(device), mask.to(device), read)
        where = mask.bool().nonzero()  # (n_valid, 2): (batch row, position)
        targets = next_ids if target_id is None else torch.where(mask.bool(), target_id, -1)
        # Each chunk reads a few positions at every site in one matrix product.
        per_chunk = max(1, self.chunk_tokens // len(read))
        for c0 in range(0, len(where), per_chunk):
            rows, pos = where[c0 : c0 + per_chunk].unbind(1)  # (chunk,), (chunk,)
            x = torch.stack([states[site][rows, pos] for site in read], dim=1)  # (chunk, S, d)
            buf = self.scratch.get((*x.shape[:2], view.vocab_size), x.dtype, x.device, "logits")
            logits = view.unembed(x, out=buf).float()  # (chunk, S, vocab)
            final = FinalDist.from_logits(logits[:, f], self.scratch)
            # All read rows (the final one too, if only appended: logits stay contiguous)
            st = chunk_stats(logits, final, k, next_ids[rows, pos].to(device),
                             targets[rows, pos].to(device), self.scratch, stats=wanted,
                             final_row=f)  # fmt: skip
            p_idx, t_idx = (rows + offset).numpy(), pos.numpy()
            # The read-out of resid L is the final distribution: take its top-1 from the same
            # top-k when that site is a result row, so ties never break the two apart.
            same = f < n_out and "top" in wanted
            top1 = st.top_ids[:, f, 0] if same else final.top1
            result.final_top1[p_idx, t_idx] = top1.cpu().numpy()
            for stat in wanted:
                for name in _FIELDS[stat]:
                    values = getattr(st, name)[:, :n_out]  # (chunk, S, ...)
                    getattr(result, name)[p_idx, :, t_idx] = values.cpu().numpy()

    def _finish(self, result: LensResult) -> None:
        resid_rows = [(s, layer) for s, (name, layer) in enumerate(result.sites) if name == "resid"]
        for s, layer in sorted(resid_rows, key=lambda r: -r[1]):  # earliest layer written last
            hit = result.top_ids[:, s, :, 0] == result.final_top1  # (P, T)
            result.first_top1_layer[hit & (result.final_top1 >= 0)] = layer
        used = np.unique(np.concatenate([result.top_ids.ravel(), result.final_top1.ravel()]))
        used = used[used >= 0]
        result.vocab = dict(
            zip(used.tolist(), token_strings(self.tokenizer, used.tolist()), strict=True)
        )


def logit_lens(model: Any, prompts: Prompt | Sequence[Prompt], **kwargs: Any) -> LensResult:
    """One-call logit lens: ``Lens(model)(prompts, **kwargs)``."""
    return Lens(model)(prompts, **kwargs)
