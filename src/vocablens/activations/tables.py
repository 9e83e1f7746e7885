"""Result tables of a corpus run, built from the merged :class:`LayerState` of each layer.

* statistics, one row per neuron: ``layer``, ``expert`` (-1: dense), ``index``, ``count`` (the
  tokens seen; for an expert's neuron the tokens routed to the expert, over which all its
  statistics are taken),
  ``mean``, ``var`` (population variance), ``std``, ``frac_active`` (coefficient > 0), ``min``,
  ``max`` and the quantiles ``q01 q05 q25 q50 q75 q95 q99``;
* contexts, one row per (neuron, sign, rank): ``layer``, ``expert``, ``index``, ``sign``,
  ``rank``, ``activation``, ``position`` (global position in the stream), ``doc``,
  ``doc_position`` (the token's place in its document), ``token_id``, ``token``,
  ``next_token_id`` (-1 at a document's end), ``next_token``, ``prefix`` and ``suffix`` (the
  text the model saw before the token, at most ``context`` tokens, and up to ``context // 4``
  tokens of the text after it).

Quantiles are estimated from the fixed histogram (:data:`~vocablens.activations.accumulate.EDGES`)
of every 4th token (global position a multiple of
:data:`~vocablens.activations.accumulate.HIST_EVERY`): the bin holding the quantile of that
sample is found exactly and the value interpolated linearly inside it, so the estimate lies in
the same bin as the sample's exact quantile (10 bins per decade: within a factor
1.26 of it for magnitudes from 1e-4 to 1e4; the outer bins are bounded by the observed min and
max). A neuron whose expert no token was routed to has NaN statistics (and ``count`` 0), and
quantiles are NaN where the subsample holds no token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from vocablens.activations.accumulate import EDGES, EMPTY, LayerState, unpack
from vocablens.activations.chunks import Window

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
QUANTILE_COLUMNS = tuple(f"q{round(q * 100):02d}" for q in QUANTILES)


def _quantiles(hist: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``(d, len(QUANTILES))`` estimates from ``hist`` ``(d, bins)`` and each row's min/max."""
    d = hist.shape[0]
    cum = np.cumsum(hist, axis=1)  # (d, bins)
    total = cum[:, -1:]
    out = np.empty((d, len(QUANTILES)))
    rows = np.arange(d)
    for j, q in enumerate(QUANTILES):
        target = q * total[:, 0]  # (d,)
        b = np.argmax(cum >= np.maximum(target, 1e-12)[:, None], axis=1)  # first bin reaching it
        below = np.where(b > 0, cum[rows, np.maximum(b - 1, 0)], 0)
        inside = hist[rows, b]
        left = np.where(b > 0, EDGES[np.maximum(b - 1, 0)], -np.inf)
        right = np.where(b < len(EDGES), EDGES[np.minimum(b, len(EDGES) - 1)], np.inf)
        left, right = np.maximum(left, lo), np.minimum(right, hi)
        frac = np.clip((target - below) / np.maximum(inside, 1), 0.0, 1.0)
        out[:, j] = left + frac * (right - left)
    return out


def stats_frame(layer: int, state: LayerState, expert: int = -1) -> pd.DataFrame:
    """The statistics table of one layer, or of one expert of it (see the module docstring)."""
    values, _ = unpack(state.keys[:, :, 0])  # (2, d): the largest and the (negated) smallest
    top, bottom = values[0].double().numpy(), -values[1].double().numpy()
    n = max(state.count, 1)
    s1, s2 = state.sums()
    mean = s1 / n
    var = np.maximum(s2 / n - mean * mean, 0.0)
    d = s1.shape[0]
    frame = pd.DataFrame({
        "layer": np.full(d, layer, dtype=np.int32), "expert": np.full(d, expert, dtype=np.int32),
        "index": np.arange(d, dtype=np.int32), "count": np.full(d, state.count, dtype=np.int64),
        "mean": mean, "var": var, "std": np.sqrt(var),
        "frac_active": state.active.numpy() / n, "min": bottom, "max": top,
    })  # fmt: skip
    hist = state.hist.numpy()
    quantiles = _quantiles(hist, bottom, top)
    quantiles[hist.sum(axis=1) == 0] = np.nan  # nothing sampled (an expert with few tokens)
    for j, name in enumerate(QUANTILE_COLUMNS):
        frame[name] = quantiles[:, j]
    if state.count == 0:  # an expert no token was routed to
        frame.loc[:, "mean":] = np.nan
    return frame


def top_rows(layer: int, state: LayerState, expert: int = -1) -> pd.DataFrame:
    """One layer's (or expert's) top-n: ``layer, expert, index, sign, rank, activation, position``."""
    frames = []
    for side, sign in ((0, 1), (1, -1)):
        keys = state.keys[side]  # (d, n)
        values, positions = unpack(keys)
        index, rank = np.nonzero((keys != EMPTY).numpy())
        frames.append(pd.DataFrame({
            "layer": np.int32(layer), "expert": np.int32(expert), "index": index.astype(np.int32),
            "sign": np.int8(sign), "rank": rank.astype(np.int16),
            "activation": sign * values.numpy()[index, rank],
            "position": positions.numpy()[index, rank].astype(np.int64),
        }))  # fmt: skip
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["index", "sign", "rank"], ascending=[True, False, True],
                           ignore_index=True)  # fmt: skip


def _doc_windows(stream: Iterator[Window]) -> Iterator[tuple[Window, list[int]]]:
    """Each window with its whole document's recorded ids (a document's windows are adjacent)."""
    pending: list[Window] = []
    for window in stream:
        if pending and window.doc != pending[0].doc:
            ids = [t for w in pending for t in w.ids]
            yield from ((w, ids) for w in pending)
            pending = []
        pending.append(window)
    if pending:
        ids = [t for w in pending for t in w.ids]
        yield from ((w, ids) for w in pending)


def context_rows(stream: Iterator[Window], wanted: set[int], tokenizer: Any, context: int,
                 token_text) -> dict[int, dict[str, Any]]:  # fmt: skip
    """The text around each wanted global position: ``{position: {doc, doc_position, ...}}``.

    ``stream`` is the run's window stream again (no model needed); ``token_text(ids)`` gives
    token strings (:func:`vocablens.tokens.token_strings`).
    """
    found: dict[int, dict[str, Any]] = {}
    after = max(1, context // 4)
    for window, doc_ids in _doc_windows(stream):
        end = window.first + len(window.ids)
        hits = [p for p in range(window.first, end) if p in wanted]
        for p in hits:
            local = p - window.first
            at = window.start + local  # place in the document
            nxt = doc_ids[at + 1] if at + 1 < len(doc_ids) else -1
            token_id = doc_ids[at]
            names = token_text([token_id] if nxt < 0 else [token_id, nxt])
            found[p] = {
                "doc": window.doc, "doc_position": at, "token_id": token_id, "token": names[0],
                "next_token_id": nxt, "next_token": names[1] if nxt >= 0 else "",
                "prefix": tokenizer.decode(list(window.ids[max(0, local - context) : local])),
                "suffix": tokenizer.decode(doc_ids[at + 1 : at + 1 + after]),
            }  # fmt: skip
        if len(found) == len(wanted):
            break
    return found


def contexts_frame(tops: pd.DataFrame, found: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """The top-n rows joined with their text (see the module docstring)."""
    text = pd.DataFrame.from_dict(found, orient="index")
    text.index.name = "position"
    out = tops.join(text, on="position")
    out["doc"] = out["doc"].astype(np.int64)
    out["doc_position"] = out["doc_position"].astype(np.int64)
    out["token_id"] = out["token_id"].astype(np.int32)
    out["next_token_id"] = out["next_token_id"].astype(np.int32)
    out["activation"] = out["activation"].astype(np.float32)
    return out
