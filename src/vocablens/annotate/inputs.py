"""Reading the annotator's input: a projections table, its manifest, one readout, its vectors.

A projections table (``vocablens project``) has one row per kind, layer, expert, index, sign and
rank; :func:`read_projection_table` reads it from a DataFrame, a folder or a Parquet file,
:func:`select_readout` keeps the readout labels are read on, and :func:`groups_of` sorts the
rows into one run per vector side.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocablens.errors import InputError, ResultFileError, first_line

#: Columns a projections table needs here (``expert`` is read when present, else -1).
REQUIRED_COLUMNS = ("kind", "layer", "index", "sign", "rank", "token")
#: The columns that name one vector side, as in the projections table.
KEYS = ("kind", "layer", "expert", "index", "sign")
#: The readout labels are read on (see the module docstring).
DEFAULT_READOUT = "cosine"
#: The readout of a projections table without a ``readout`` column.
TABLE_READOUT = "raw"


def read_projection_table(source: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A projections table and its manifest (``{}`` when there is none).

    Args:
        source: a DataFrame, a projections folder or a Parquet file (a layer file's manifest is
            its folder's, when that one is readable).

    Raises:
        ResultFileError: missing, unreadable, or without the needed columns; a folder's
            manifest that cannot be read.
    """
    manifest: Any = {}
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        path = Path(source)
        if not path.exists():
            raise ResultFileError(f"projections not found: {path}")
        folder = path if path.is_dir() else path.parent
        if (folder / "manifest.json").is_file():
            try:
                manifest = json.loads((folder / "manifest.json").read_text())
            except (OSError, ValueError) as exc:
                if folder == path:
                    raise ResultFileError(f"corrupt manifest in {path}: {exc}") from exc
        frame = _read(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ResultFileError(
            f"not a projections table: missing column{'s' if len(missing) > 1 else ''} "
            + ", ".join(repr(c) for c in missing)
        )
    return frame, manifest if isinstance(manifest, dict) else {}


def _read(path: Path) -> pd.DataFrame:
    from vocablens.project.files import read_projections

    if path.is_dir() or path.suffix == ".parquet":
        try:
            return read_projections(path)
        except ResultFileError as exc:
            if "no column" not in str(exc):
                raise
            # fall through: report the missing columns our way (all of them, one line)
    if path.is_dir():
        raise ResultFileError(f"{path} is not a projections folder")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds for a bad file
        raise ResultFileError(f"cannot read projections file {path}: {first_line(exc)}") from exc


def select_readout(frame: pd.DataFrame, readout: str, source: Any, manifest: dict) -> pd.DataFrame:
    """The rows of ``frame`` on ``readout``; a one-line error naming the command when absent.

    Raises:
        InputError: the table has no rows of that readout.
    """
    if "readout" in frame.columns:
        have = sorted(set(frame["readout"].astype(str)))
        if readout in have:
            return frame[frame["readout"] == readout]
    else:
        have = [TABLE_READOUT]
        if readout == TABLE_READOUT:
            return frame
    if not len(frame):
        return frame
    where = "the table" if isinstance(source, pd.DataFrame) else str(source)
    model = manifest.get("model") or "MODEL"
    raise InputError(
        f"{where} holds the {', '.join(have)} readout, the annotator reads {readout}: run "
        f"`vocablens project {model} --readout {readout}` (or annotate with --readout "
        f"{have[0]})"
    )


def groups_of(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows sorted by (kind, layer, expert, index, sign, rank) and the start of every group."""
    if "expert" not in frame.columns:
        frame = frame.assign(expert=np.int32(-1))  # projections of format 1, or a bare frame
    frame = frame.sort_values([*KEYS, "rank"], kind="stable").reset_index(drop=True)
    if not len(frame):
        return frame, np.zeros(1, dtype=np.int64)
    key = frame[list(KEYS)]
    change = np.zeros(len(frame), dtype=bool)
    change[0] = True
    for col in key.columns:
        values = key[col].to_numpy()
        change[1:] |= values[1:] != values[:-1]
    starts = np.flatnonzero(change)
    return frame, np.append(starts, len(frame))


def raw_lists(table: pd.DataFrame, readout: str) -> dict[tuple, list[str]]:
    """Per vector side (a :data:`KEYS` tuple), its tokens under the raw readout, by rank.

    Empty when labels are read on the raw readout itself or the table holds no raw rows (the
    form is then read on the labels' readout alone).
    """
    if readout == TABLE_READOUT or "readout" not in table.columns:
        return {}
    raw = table[table["readout"] == TABLE_READOUT]
    if not len(raw):
        return {}
    raw, bounds = groups_of(raw)
    columns = {name: raw[name].to_numpy() for name in KEYS}
    tokens = raw["token"].astype(str).to_numpy()
    return {side_key(columns, lo): tokens[lo:hi].tolist()
            for lo, hi in itertools.pairwise(bounds)}  # fmt: skip


def side_key(columns: dict[str, np.ndarray], i: int) -> tuple[str, int, int, int, int]:
    """The :data:`KEYS` of row ``i`` of a table's columns, as plain Python values."""
    kind, *numbers = (columns[name][i] for name in KEYS)
    return (str(kind), *(int(x) for x in numbers))  # type: ignore[return-value]
