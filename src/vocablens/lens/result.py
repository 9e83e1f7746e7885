"""The logit-lens result: arrays with documented shapes, and conversions to pandas and JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vocablens.tokens import display_width, shown


@dataclass
class LensResult:
    """The logit lens of some prompts at some sites.

    ``P`` prompts, ``S`` sites (rows of ``sites``), ``T`` = the longest prompt's token count,
    ``k`` top tokens. Positions past a prompt's length hold padding (``-1`` / NaN).

    Token strings here (``tokens``, ``vocab``, :meth:`token`, :meth:`to_pandas`, the JSON) are
    the text form of :func:`vocablens.tokens.token_strings`: ``" Paris"`` with its space,
    control characters visible, a lone byte of a multi-byte character ``⟨E6⟩``. :meth:`table`
    (and every other view) shows them with :func:`vocablens.tokens.shown`: ``␣Paris``.

    Attributes:
        model: the model's name.
        texts: the ``P`` prompts.
        token_ids: per prompt, its ``T_p`` token ids.
        tokens: per prompt, its ``T_p`` tokens as strings (text form).
        sites: ``S`` pairs ``(site, layer)``; site is ``"resid"`` (layer 0..L), ``"resid_mid"``,
            ``"attn_out"`` or ``"mlp_out"`` (layer 0..L-1).
        n_layers: the model's number of blocks ``L``.
        top_ids: ``(P, S, T, k)`` int64 top-k token ids by probability.
        top_probs: ``(P, S, T, k)`` float32 their probabilities.
        entropy: ``(P, S, T)`` entropy of the read-out, nats.
        kl_to_final: ``(P, S, T)`` KL(model's distribution ‖ read-out), nats.
        next_token_ce: ``(P, S, T)`` cross-entropy on the actual next token (NaN at the end).
        target_rank: ``(P, S, T)`` 0-based rank of the target token (the given target, or the
            next token), -1 where there is none.
        target_prob: ``(P, S, T)`` probability of that target token.
        final_top1: ``(P, T)`` int64 id of the model's own top-1 next token at each position
            (the top-1 of its logits, i.e. of the lens at ``resid`` layer ``L``, whether or not
            that site is in ``sites``); -1 past a prompt's end. :meth:`token` gives its string;
            the JSON ``final_top1`` holds the strings.
        first_top1_layer: ``(P, T)`` the first ``resid`` layer in ``sites`` whose top-1 is the
            final top-1; -1 when none is (no ``resid`` site read, or only early layers) and
            past a prompt's end. With ``resid`` ``L`` read it is at most ``L``.
        target: the target token string, if one was given.
        vocab: the string (text form) of every token id that appears in the arrays.
        stats: the statistics that were computed (``Lens(..., stats=...)``; by default all of
            ``top``, ``entropy``, ``kl``, ``ce``, ``target``). The arrays of the others hold NaN
            (floats) or -1 (ids and ranks): ``top`` fills ``top_ids``, ``top_probs`` and
            ``first_top1_layer``; ``kl`` fills ``kl_to_final``; ``ce`` ``next_token_ce``;
            ``target`` ``target_rank`` and ``target_prob``. ``final_top1`` is always filled.
    """

    model: str
    texts: list[str]
    token_ids: list[list[int]]
    tokens: list[list[str]]
    sites: list[tuple[str, int]]
    n_layers: int
    top_ids: np.ndarray
    top_probs: np.ndarray
    entropy: np.ndarray
    kl_to_final: np.ndarray
    next_token_ce: np.ndarray
    target_rank: np.ndarray
    target_prob: np.ndarray
    final_top1: np.ndarray
    first_top1_layer: np.ndarray
    target: str | None = None
    vocab: dict[int, str] = field(default_factory=dict)
    stats: tuple[str, ...] = ("top", "entropy", "kl", "ce", "target")

    def site_index(self, site: str, layer: int) -> int:
        """Row of ``(site, layer)`` in the arrays."""
        return self.sites.index((site, layer))

    def token(self, token_id: int) -> str:
        """The string (text form) of a token id (``⟨id⟩`` when unknown)."""
        return self.vocab.get(int(token_id), f"⟨{int(token_id)}⟩")

    def top_tokens(self, prompt: int, site: int, pos: int) -> list[str]:
        """The top-k tokens of one cell, as strings (text form)."""
        return [self.token(i) for i in self.top_ids[prompt, site, pos]]

    def to_pandas(self):
        """One row per (prompt, site, layer, position) with the top-1 token and the statistics."""
        import pandas as pd

        rows = []
        for p, ids in enumerate(self.token_ids):
            for s, (site, layer) in enumerate(self.sites):
                for t in range(len(ids)):
                    rows.append(
                        {
                            "prompt": p,
                            "site": site,
                            "layer": layer,
                            "position": t,
                            "token": self.tokens[p][t],
                            "top1": self.token(self.top_ids[p, s, t, 0]),
                            "top1_prob": float(self.top_probs[p, s, t, 0]),
                            "top_tokens": self.top_tokens(p, s, t),
                            "entropy": float(self.entropy[p, s, t]),
                            "kl_to_final": float(self.kl_to_final[p, s, t]),
                            "next_token_ce": float(self.next_token_ce[p, s, t]),
                            "target_rank": int(self.target_rank[p, s, t]),
                            "target_prob": float(self.target_prob[p, s, t]),
                        }
                    )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON layout (see the README): model, prompts, layers, positions.

        Token strings are the text form (``" Paris"``, not the shown ``␣Paris``); ``token_ids``
        and ``top_ids`` give the ids. ``final_top1`` lists the final top-1 token's string per
        position.
        """

        def num(x: float) -> float | None:
            return None if math.isnan(x) else round(float(x), 7)

        prompts = []
        for p, ids in enumerate(self.token_ids):
            layers = []
            for s, (site, layer) in enumerate(self.sites):
                positions = []
                for t in range(len(ids)):
                    positions.append(
                        {
                            "top_ids": [int(i) for i in self.top_ids[p, s, t]],
                            "top_tokens": self.top_tokens(p, s, t),
                            "top_probs": [num(x) for x in self.top_probs[p, s, t]],
                            "entropy": num(self.entropy[p, s, t]),
                            "kl_to_final": num(self.kl_to_final[p, s, t]),
                            "next_token_ce": num(self.next_token_ce[p, s, t]),
                            "target_rank": int(self.target_rank[p, s, t]),
                            "target_prob": num(self.target_prob[p, s, t]),
                        }
                    )
                layers.append({"layer": layer, "site": site, "positions": positions})
            prompts.append(
                {
                    "text": self.texts[p],
                    "token_ids": list(ids),
                    "tokens": self.tokens[p],
                    "final_top1": [self.token(i) for i in self.final_top1[p, : len(ids)]],
                    "first_top1_layer": [int(x) for x in self.first_top1_layer[p, : len(ids)]],
                    "layers": layers,
                }
            )
        return {"model": self.model, "target": self.target, "prompts": prompts}

    def to_json(self, **kwargs: Any) -> str:
        """The JSON layout of :meth:`to_dict` as text (``kwargs`` go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def table(self, prompt: int = 0, site: str = "resid", width: int = 12) -> str:
        """A terminal table: one row per layer, one column per position, cells ``top1 prob``.

        Tokens are shown as in every view (:func:`vocablens.tokens.shown`: ``␣Paris``,
        ``⟨E6⟩``); cells are ``width`` terminal columns (wide characters count 2).
        """

        def cut(text: str, cols: int) -> str:
            if display_width(text) <= cols:
                return text
            while text and display_width(text) > cols - 1:
                text = text[:-1]
            return text + "…"

        def cell(text: str) -> str:
            text = cut(text, width)
            return text + " " * (width - display_width(text))

        n = len(self.token_ids[prompt])
        head = " ".join(cell(shown(t)) for t in self.tokens[prompt])
        lines = [f"{site + ' layer':>15} | " + head]
        lines.append("-" * display_width(lines[0]))
        for s, (name, layer) in enumerate(self.sites):
            if name != site:
                continue
            cells = []
            for t in range(n):
                top = cut(shown(self.token(self.top_ids[prompt, s, t, 0])), width - 5)
                cells.append(cell(f"{top} {self.top_probs[prompt, s, t, 0]:.2f}"))
            lines.append(f"{layer:>15} | " + " ".join(cells))
        return "\n".join(lines)
