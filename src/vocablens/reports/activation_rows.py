"""The layer pages' top-activating contexts and agreement line, from a corpus run's tables.

Reads what :func:`vocablens.activations.run.activations_to_dir` wrote (no model): the report is
given the folder (``ReportConfig.activations``, ``vocablens report --activations DIR``).
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from vocablens.reports.page_rows import unit
from vocablens.tokens import shown, visible

#: Contexts shown per neuron and sign on a layer page.
SHOWN_CONTEXTS = 3
_TAIL_CHARS = 48  # characters of the prefix shown before the token


def load_contexts(folder: str | os.PathLike[str], layers: list[int],
                  n: int = SHOWN_CONTEXTS) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:  # fmt: skip
    """The top-``n`` contexts per neuron and sign of ``layers``, the agreement table, the model.

    Raises:
        ResultFileError: not a finished activations folder.
    """
    from vocablens.activations.files import read_activations

    found = read_activations(folder)
    ctx = found.contexts
    ctx = ctx[ctx["layer"].isin(layers) & (ctx["rank"] < n)].reset_index(drop=True)
    return ctx, found.agreement, str(found.manifest.get("model", ""))


def _tail(prefix: str) -> str:
    text = visible(prefix)
    return text if len(text) <= _TAIL_CHARS else "…" + text[-_TAIL_CHARS:]


def context_rows(contexts: pd.DataFrame | None, layer: int,
                 values: dict[tuple, list[tuple]], k: int) -> list[dict[str, Any]]:  # fmt: skip
    """One row per neuron of ``layer``: its top contexts per sign.

    A context is flagged ``hit`` where its next token is among the value vector's top-``k``
    tokens on that sign (Geva et al. 2020).
    """
    if contexts is None:
        return []
    rows = []
    here = contexts[contexts["layer"] == layer].sort_values(["index", "sign", "rank"],
                                                           ascending=[True, False, True])  # fmt: skip
    for (expert, index), group in here.groupby(["expert", "index"], sort=True):
        name = unit(int(expert), int(index))
        row: dict[str, Any] = {"index": name, "pos": [], "neg": []}
        for item in group.itertuples():
            tops = {t for t, _ in values.get((layer, name, int(item.sign)), [])[:k]}
            nxt = str(item.next_token) if isinstance(item.next_token, str) else ""
            entry = {"prefix": _tail(str(item.prefix)), "token": shown(str(item.token)),
                     "next": shown(nxt) if nxt else "", "activation": float(item.activation),
                     "hit": bool(nxt) and shown(nxt) in tops}  # fmt: skip
            row["pos" if item.sign > 0 else "neg"].append(entry)
        rows.append(row)
    return rows


def agreement_rows(agreement: pd.DataFrame | None, layer: int) -> list[dict[str, Any]]:
    """The agreement rate of ``layer`` per sign (empty when not computed)."""
    if agreement is None:
        return []
    here = agreement[agreement["layer"] == layer]
    return [{"sign": "+" if r.sign > 0 else "−", "rate": float(r.rate),
             "baseline": float(r.baseline), "k": int(r.k), "contexts": int(r.contexts)}
            for r in here.itertuples()]  # fmt: skip
