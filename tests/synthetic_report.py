"""Synthetic report data, shaped exactly like the real thing, for tests and template work.

:func:`synthetic_data` needs no model: random arrays and tables over a small vocabulary that holds
hostile token strings (markup, ampersands, quotes, control characters, U+FFFD).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vocablens.reports.config import ReportConfig
from vocablens.reports.report_data import ReportData

if TYPE_CHECKING:
    from vocablens.annotate.result import Annotations

#: Token strings that a report must escape or show visibly.
HOSTILE_TOKENS: tuple[str, ...] = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "&amp;",
    "\"'",
    "\n",
    "\x07",
    "\ufffd",
    "</textarea>",
    "$x^2$",
    "{{ 7*7 }}",
    "\u2028",
)


def synthetic_annotations() -> Annotations:
    """Value vectors of layers 0 and 1 (64 each): 3 in 4 confidently labelled on the +v side."""
    import pandas as pd

    rows = []
    for layer in (0, 1):
        for index in range(64):
            confident = index % 4 != 0
            kind = ("semantic", "form")[index % 2]
            for sign in (1, -1):
                rows.append({"kind": "values", "layer": layer, "expert": -1, "index": index,
                             "sign": sign, "label": f"concept {index % 5}" if confident else "",
                             "label_kind": kind if confident else "none", "supersense": None,
                             "synset": None, "coverage": 0.6, "confident": confident and sign > 0,
                             "label_score": 0.5, "polysemantic": False, "score": 0.0,
                             "n_clusters": 1, "cluster_labels": "", "sides_polysemantic": None,
                             "features": "wordnet", "explained_tokens": [], "top_tokens": []})  # fmt: skip
    key = {**rows[0], "kind": "keys_gate", "index": 0, "label": "x", "confident": True}
    from vocablens.annotate.result import Annotations

    return Annotations(pd.DataFrame([*rows, key]))


def synthetic_data(
    *,
    n_layers: int = 3,
    d_mlp: int = 12,
    n_heads: int = 2,
    vocab: tuple[str, ...] = (),
    k: int = 6,
    seed: int = 0,
    planted: str = " Paris",
    layers: list[int] | None = None,
    table_rows: int = 25,
) -> ReportData:
    """A :class:`ReportData` with random content over ``vocab`` + :data:`HOSTILE_TOKENS`.

    ``planted`` is the top promoted token of neuron 3 in the last layer and of head 0's OV
    circuit there, so a search for it has a known answer. ``layers``: the layers that get a page
    (default: all ``n_layers``); only those have projections, annotations and map points.
    """
    import pandas as pd

    from vocablens.annotate.result import UNLABELLED, Annotations
    from vocablens.lens.result import LensResult
    from vocablens.tokens import visible

    rng = np.random.default_rng(seed)
    words = list(vocab) or [" the", " a", " of", " city", " France", " Rome", " cat", " dog"]
    raw = [*words, *HOSTILE_TOKENS, planted]
    table = {i: visible(t) for i, t in enumerate(raw)}
    V = len(raw)
    texts = ["The capital of France is", "<script>alert('p')</script> & \"x\"\n\x07"]
    token_ids = [[0, 3, 2, 4], [V - 2, 1, V - 3, 5, 6]]
    P, S, T = len(texts), n_layers + 1, max(map(len, token_ids))
    top_ids = np.full((P, S, T, k), -1, dtype=np.int64)
    top_probs = np.full((P, S, T, k), np.nan, dtype=np.float32)
    stats = [np.full((P, S, T), np.nan, dtype=np.float32) for _ in range(3)]
    for p, ids in enumerate(token_ids):
        n = len(ids)
        for s in range(S):
            top_ids[p, s, :n] = np.stack([rng.permutation(V)[:k] for _ in range(n)])
            probs = np.sort(rng.dirichlet(np.ones(k) * 0.5, size=n), axis=1)[:, ::-1]
            top_probs[p, s, :n] = probs
            for arr, scale in zip(stats, (3.0, 4.0, 5.0), strict=True):
                arr[p, s, :n] = scale * (1 - s / S) + rng.random(n)
        stats[2][p, :, n - 1] = np.nan  # no next token at the end
    lens = LensResult(
        model="synthetic", texts=texts, token_ids=token_ids,
        tokens=[[table[i] for i in ids] for ids in token_ids],
        sites=[("resid", s) for s in range(S)], n_layers=n_layers,
        top_ids=top_ids, top_probs=top_probs, entropy=stats[0], kl_to_final=stats[1],
        next_token_ce=stats[2], target_rank=np.zeros((P, S, T), dtype=np.int64),
        target_prob=np.zeros((P, S, T), dtype=np.float32),
        final_top1=top_ids[:, -1, :, 0].copy(), first_top1_layer=np.zeros((P, T), dtype=np.int64),
        vocab=table,
    )  # fmt: skip

    def ranked(kind: str, layer: int, index: int, sign: int, first: int | None = None, src=False):
        ids = rng.permutation(V)[:k]
        if first is not None:
            ids = np.concatenate([[first], ids[ids != first]])[:k]
        out = []
        for r, t in enumerate(ids):
            s = int(rng.integers(V)) if src else -1
            out.append({"kind": kind, "layer": layer, "expert": -1, "index": index, "sign": sign, "rank": r,
                        "token_id": int(t), "token": table[int(t)], "score": sign * (10.0 - r),
                        "src_token_id": s, "src_token": table[s] if src else ""})  # fmt: skip
        return out

    pages = list(range(n_layers)) if layers is None else sorted(layers)
    last, planted_id = pages[-1], V - 1
    rows, ov_rows, ann, coords = [], [], [], []
    for layer in pages:
        for n in range(d_mlp):
            first = planted_id if (layer == last and n == 3) else None
            rows += ranked("values", layer, n, 1, first) + ranked("values", layer, n, -1)
            label = ["", "city", "<b>bold</b> & co", "animal"][n % 4]
            ann.append({"kind": "values", "layer": layer, "expert": -1, "index": n, "sign": 1,
                        "label": label, "label_kind": "semantic" if label else "none",
                        "supersense": "noun.location" if label == "city" else None,
                        "synset": None, "coverage": 0.6 if label else 0.1,
                        "confident": bool(label), "label_score": 0.5,
                        "polysemantic": n % 5 == 1, "score": 0.5, "n_clusters": 1,
                        "cluster_labels": "", "sides_polysemantic": None, "features": "wordnet",
                        "explained_tokens": [], "top_tokens": []})  # fmt: skip
            coords.append({"layer": layer, "expert": -1, "index": n, "x": rng.normal(),
                           "y": rng.normal(), "label": label or UNLABELLED,
                           "label_kind": "semantic" if label else "none"})  # fmt: skip
        for h in range(n_heads):
            first = planted_id if (layer == last and h == 0) else None
            ov_rows += ranked("ov_promoted", layer, h, 1, first) + ranked(
                "ov", layer, h, 1, src=True
            )
    annotations = Annotations(pd.DataFrame(ann))
    card = {"family": "llama", "model_type": "llama", "n_layers": n_layers, "d_model": 16,
            "n_heads": n_heads, "n_kv_heads": n_heads, "d_head": 8, "d_mlp": d_mlp,
            "gated_mlp": True, "vocab_size": V, "norm": "rmsnorm", "tied_embeddings": False,
            "parallel_blocks": False, "final_logit_softcap": None}  # fmt: skip
    return ReportData(
        model_name="synthetic <model> & \"co\"", card=card, config=ReportConfig(lens_k=k, value_k=k, table_k=k, search_k=k, ov_k=k,
                                                                       table_rows=table_rows),
        layers=pages, lens=lens, values=pd.DataFrame(rows),
        annotations=annotations, umap=pd.DataFrame(coords), ov=pd.DataFrame(ov_rows),
        notes=["synthetic data <not a model>"], timings={"nothing": 0.0},
        created="2024-01-01T00:00:00",
    )  # fmt: skip
