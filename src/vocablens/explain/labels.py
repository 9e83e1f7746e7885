"""Neuron labels for an explanation, from an annotation table (read defensively).

Only the columns ``layer``, ``index``, ``sign`` and ``label`` are required; ``expert`` (-1 when
absent), ``kind`` (rows of kind ``values`` are used when present) and ``label_kind`` (empty when
absent) are read where the table has them, so the lookup keeps working while the annotation
schema grows.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from vocablens.errors import InputError

LabelKey = tuple[int, int, int, int]  # (layer, expert, index, sign)


def read_annotations(source: Any) -> pd.DataFrame:
    """The table of ``source``: an annotation file path, an ``Annotations`` or a DataFrame.

    Raises:
        ResultFileError: a file that is missing or not an annotation table.
        InputError: an object of another kind.
    """
    if isinstance(source, (str, os.PathLike)):
        from vocablens.annotate.result import Annotations

        return Annotations.read(source).to_pandas()
    if isinstance(source, pd.DataFrame):
        return source
    frame = getattr(source, "frame", None)
    if isinstance(frame, pd.DataFrame):
        return frame
    raise InputError(
        f"annotations must be a file, an Annotations or a DataFrame, not {type(source).__name__}"
    )


def label_lookup(source: Any) -> dict[LabelKey, tuple[str, str]]:
    """``(layer, expert, index, sign) -> (label, label_kind)`` of the labelled value vectors.

    Args:
        source: see :func:`read_annotations`, or a lookup this function returned (kept as it
            is); None gives an empty lookup.

    Raises:
        InputError: the table lacks ``layer``, ``index``, ``sign`` or ``label``.
    """
    if source is None:
        return {}
    if isinstance(source, dict):
        return source
    frame = read_annotations(source)
    missing = [c for c in ("layer", "index", "sign", "label") if c not in frame.columns]
    if missing:
        raise InputError(f"annotations lack the column(s) {', '.join(missing)}")
    if "kind" in frame.columns:
        frame = frame[frame["kind"] == "values"]
    labels = frame["label"].fillna("").astype(str)
    frame = frame[labels != ""]
    labels = labels[labels != ""]
    expert = frame["expert"] if "expert" in frame.columns else pd.Series(-1, index=frame.index)
    kinds = (frame["label_kind"].fillna("").astype(str) if "label_kind" in frame.columns
             else pd.Series("", index=frame.index))  # fmt: skip
    keys = zip(frame["layer"], expert, frame["index"], frame["sign"], strict=True)
    return {
        (int(layer), int(e), int(i), int(s)): (label, kind)
        for (layer, e, i, s), label, kind in zip(keys, labels, kinds, strict=True)
    }
