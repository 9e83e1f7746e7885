"""Parameter vectors read off a loaded model as plain arrays (for maps and other analyses)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from vocablens.errors import InputError
from vocablens.model.loading import LoadedModel
from vocablens.model.view import ModelView


def _view(model: Any) -> ModelView:
    if isinstance(model, LoadedModel):
        return model.view
    if isinstance(model, ModelView):
        return model
    raise InputError(
        f"expected a LoadedModel (see vocablens.load_model) or a ModelView, "
        f"not a {type(model).__name__}"
    )


def value_vectors(
    model: LoadedModel | ModelView, layers: Sequence[int] | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """The FFN value vectors (rows of ``W_out``) of some layers, stacked (every expert's, for MoE).

    Args:
        model: a loaded model (or its view); it is never loaded here.
        layers: blocks to read (negative counts from the end); None: all.

    Returns:
        ``(vectors, keys)``: ``(n, d_model)`` float32, and one row per vector with ``layer``,
        ``expert`` (-1: dense MLP) and ``index`` (the neuron), int32, in the order of the rows.

    Raises:
        InputError: no layers, a layer out of range, or not a loaded model.
    """
    view = _view(model)
    chosen = list(range(view.n_layers)) if layers is None else [view.check_layer(x) for x in layers]
    if not chosen:
        raise InputError("no layers to read value vectors from")
    blocks, keys = [], []
    with torch.inference_mode():
        for layer in chosen:
            for expert, mlp in view.mlp(layer).parts():  # dense: one part, expert -1
                w_out = mlp.W_out.detach().float().cpu().numpy()  # (d_mlp, d_model)
                blocks.append(w_out)
                index = np.arange(len(w_out))
                keys.append(pd.DataFrame({"layer": layer, "expert": expert, "index": index}))
    vectors = np.concatenate(blocks)  # (n, d_model)
    return vectors, pd.concat(keys, ignore_index=True).astype("int32")
