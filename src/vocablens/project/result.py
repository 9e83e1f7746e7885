"""Results of parameter projections: per-(kind, layer) tables and their long DataFrame format.

The long format has one row per (vector, sign, rank); its columns and dtypes are
:data:`vocablens.project.files.SCHEMA`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from vocablens.project.files import COLUMNS, SCHEMA
from vocablens.project.tokensets import TokenNames

Tensor = torch.Tensor


@dataclass
class ProjectionTable:
    """Top-k tokens of the vectors of one kind in one layer.

    Attributes:
        kind: one of :data:`vocablens.project.projector.KINDS`.
        layer: block number, -1 for user vectors.
        index: ``(n,)`` int64: neuron, head or vector number of each vector (for a
            mixture-of-experts layer: the neuron within its expert).
        signs: the signs along axis 1 of the arrays: ``(1, -1)`` or ``(1,)``.
        scores: ``(n, n_signs, k)`` float32 scores, most extreme first.
        token_ids: ``(n, n_signs, k)`` int64 token ids (output token; key token for ``qk``).
        src_token_ids: ``(n, n_signs, k)`` int64 source (``ov``) or query (``qk``) token ids,
            or None for single-token rows.
        expert: the expert of a mixture-of-experts layer the vectors belong to; -1 otherwise.
        readout: how the scores were read (:data:`vocablens.project.readouts.READOUTS`); pair
            tables are always ``"raw"``.
    """

    kind: str
    layer: int
    index: Tensor
    signs: tuple[int, ...]
    scores: Tensor
    token_ids: Tensor
    src_token_ids: Tensor | None = None
    expert: int = -1
    readout: str = "raw"

    def columns(self, names: TokenNames) -> dict[str, np.ndarray]:
        """The table's rows in the long format (see :data:`vocablens.project.files.SCHEMA`)."""
        n, n_signs, k = self.scores.shape
        rows = n * n_signs * k
        token_ids = self.token_ids.reshape(-1).numpy()  # (rows,)
        if self.src_token_ids is None:
            src_ids = np.full(rows, -1, dtype=np.int64)
        else:
            src_ids = self.src_token_ids.reshape(-1).numpy()  # (rows,)
        return {
            "kind": np.full(rows, self.kind, dtype=object),
            "readout": np.full(rows, self.readout, dtype=object),
            "layer": np.full(rows, self.layer, dtype=np.int32),
            "expert": np.full(rows, self.expert, dtype=np.int32),
            "index": np.repeat(self.index.numpy(), n_signs * k).astype(np.int32),
            "sign": np.tile(np.repeat(np.array(self.signs), k), n).astype(np.int8),
            "rank": np.tile(np.arange(k), n * n_signs).astype(np.int16),
            "token_id": token_ids.astype(np.int32),
            "token": names(token_ids),
            "score": self.scores.reshape(-1).numpy().astype(np.float32),
            "src_token_id": src_ids.astype(np.int32),
            "src_token": names(src_ids),
        }


@dataclass
class Projections:
    """The result of :func:`project` or :func:`project_vectors`.

    Attributes:
        model: the model's name.
        k: top-k per vector and sign.
        tables: one :class:`ProjectionTable` per (kind, layer).
        names: token-id -> readable string lookup (uses the model's tokenizer).
    """

    model: str
    k: int
    tables: list[ProjectionTable]
    names: TokenNames = field(repr=False)

    def table(
        self, kind: str, layer: int, expert: int = -1, readout: str | None = None
    ) -> ProjectionTable:
        """The table of ``kind`` in ``layer`` (of ``expert`` in a mixture-of-experts layer).

        ``readout`` picks one readout's table when the result holds several; None: the first.

        Raises:
            KeyError: there is no such table (a dense layer's tables have ``expert=-1``).
        """
        for table in self.tables:
            if (
                table.kind == kind
                and table.layer == layer
                and table.expert == expert
                and readout in (None, table.readout)
            ):
                return table
        raise KeyError((kind, layer, expert, readout))

    def to_pandas(self) -> pd.DataFrame:
        """All tables in the long format, one row per (vector, sign, rank).

        Columns and dtypes: see :data:`vocablens.project.files.SCHEMA`.
        """
        parts = [table.columns(self.names) for table in self.tables]
        data = {
            name: np.concatenate([part[name] for part in parts])
            if parts
            else np.empty(0, dtype=SCHEMA.field(name).type.to_pandas_dtype())
            for name in COLUMNS
        }
        return pd.DataFrame(data)
