"""Keys meet values (Geva et al. 2020): do a neuron's triggers precede what its value promotes?

For every neuron and sign, each top-activating context's *next* token (the token that actually
follows the trigger) is looked up among the top-k tokens of the neuron's value vector on the
same sign: a positive coefficient adds ``+v`` (the tokens ``v`` promotes, projection sign +1), a
negative one adds ``-v`` (the tokens ``v`` suppresses, sign -1). The agreement rate of a layer
and sign is the fraction of contexts where it is found. The baseline pairs each neuron's
contexts with the next neuron's value vector (``index + 1``, cyclically): the rate expected
from the layer's token statistics alone. In a mixture-of-experts layer each expert's neuron
(``expert``, ``index``) is read against its own value vector (the baseline: the next neuron of
the same expert), and the layer's rate pools its experts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Columns of the per-layer table.
AGREEMENT_COLUMNS = ("layer", "sign", "k", "contexts", "neurons", "rate", "baseline")


def context_hits(contexts: pd.DataFrame, values: pd.DataFrame, k: int,
                 shift: int = 0) -> np.ndarray:  # fmt: skip
    """Per context row: is its next token among the value's top-``k`` on its sign?

    Args:
        contexts: rows with ``layer, expert, index, sign, next_token_id``.
        values: value projections in the long layout (``kind`` "values", ``layer``,
            ``expert``, ``index``, ``sign``, ``rank``, ``token_id``).
        k: top tokens of each value vector and sign that count.
        shift: compare with neuron ``index + shift`` (cyclic within the layer): the baseline.

    Returns:
        ``(len(contexts),)`` bool.
    """
    keys = ["layer", "expert", "index", "sign"]
    top = values.loc[values["rank"] < k, [*keys, "token_id"]].drop_duplicates()
    probe = contexts[keys].copy()
    if shift:
        size = values.groupby("layer")["index"].max() + 1  # neurons per layer
        probe["index"] = (probe["index"] + shift) % probe["layer"].map(size).to_numpy()
    probe["token_id"] = contexts["next_token_id"].to_numpy()
    probe["_row"] = np.arange(len(probe))
    found = probe.merge(top.assign(_hit=True), on=[*keys, "token_id"], how="left")
    hit = np.zeros(len(probe), dtype=bool)
    hit[found.loc[found["_hit"].eq(True), "_row"].to_numpy()] = True
    return hit


def agreement(contexts: pd.DataFrame, values: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """The agreement rate per layer and sign (:data:`AGREEMENT_COLUMNS`), baseline beside it.

    Contexts at a document's end (``next_token_id`` -1) are left out.
    """
    rows = contexts[contexts["next_token_id"] >= 0].reset_index(drop=True)
    frame = rows[["layer", "sign"]].copy()
    frame["neuron"] = rows["expert"].astype(np.int64) * (1 << 32) + rows["index"]  # one id each
    frame["hit"] = context_hits(rows, values, k)
    frame["base"] = context_hits(rows, values, k, shift=1)
    out = (frame.groupby(["layer", "sign"])
           .agg(contexts=("hit", "size"), neurons=("neuron", "nunique"), rate=("hit", "mean"),
                baseline=("base", "mean"))
           .reset_index())  # fmt: skip
    out["k"] = k
    return out[list(AGREEMENT_COLUMNS)].sort_values(["layer", "sign"], ascending=[True, False],
                                                     ignore_index=True)  # fmt: skip


def agreement_for(model: Any, contexts: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """:func:`agreement` with the value projections computed here (``project(what="values")``).

    Args:
        model: a ``LoadedModel`` (or a spec for :func:`vocablens.load_model`).
        contexts: a run's contexts (:attr:`vocablens.activations.files.Activations.contexts`).
        k: top tokens per value vector and sign.
    """
    from vocablens.project.projector import project

    layers = sorted(int(layer) for layer in contexts["layer"].unique())
    values = project(model, what="values", layers=layers, k=k).to_pandas()
    return agreement(contexts, values, k)
