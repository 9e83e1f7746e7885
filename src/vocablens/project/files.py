"""The on-disk format of parameter projections: one Parquet file per layer plus ``manifest.json``.

Every file is written to a temporary name in the same folder and renamed into place, so a
reader never sees a half-written file, and a run that is killed leaves only finished layers.

The table is the long format of :mod:`vocablens.project.projector`, one row per (vector, sign, rank):
see :data:`SCHEMA`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vocablens.atomic import atomic_path
from vocablens.errors import ResultFileError

FORMAT = "vocablens.projections"
FORMAT_VERSION = 3  # 2: the expert column (-1 outside mixture-of-experts layers); 3: readout
MANIFEST = "manifest.json"

SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("readout", pa.string()),
        ("layer", pa.int32()),
        ("expert", pa.int32()),
        ("index", pa.int32()),
        ("sign", pa.int8()),
        ("rank", pa.int16()),
        ("token_id", pa.int32()),
        ("token", pa.string()),
        ("score", pa.float32()),
        ("src_token_id", pa.int32()),
        ("src_token", pa.string()),
    ]
)
COLUMNS = tuple(SCHEMA.names)


def layer_file(layer: int) -> str:
    """File name of one layer's projections, e.g. ``layer_005.parquet``."""
    return f"layer_{layer:03d}.parquet"


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_name)`` for a temporary file next to ``path``, then rename it to ``path``."""
    with atomic_path(path) as tmp:
        write(str(tmp))


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a long-format projections DataFrame as Parquet, atomically."""
    table = pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False)
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""

    def write(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    _atomic_write(folder / MANIFEST, write)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a projections folder.

    Raises:
        ResultFileError: missing, unreadable or not a projections manifest.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise ResultFileError(f"{folder} is not a projections folder: no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFileError(f"corrupt manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ResultFileError(f"{path} is not a vocablens projections manifest")
    return manifest


def _read_file(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ResultFileError(f"projections file not found: {path}")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise ResultFileError(f"corrupt projections file {path}: {exc}") from exc
    if "expert" not in table.column_names and "layer" in table.column_names:  # format 1: dense
        expert = pa.array(np.full(table.num_rows, -1, dtype=np.int32))
        table = table.add_column(table.column_names.index("layer") + 1, "expert", expert)
    if "readout" not in table.column_names and "kind" in table.column_names:  # formats 1-2: raw
        readout = pa.array(np.full(table.num_rows, "raw", dtype=object), type=pa.string())
        table = table.add_column(table.column_names.index("kind") + 1, "readout", readout)
    missing = [name for name in COLUMNS if name not in table.column_names]
    if missing:
        raise ResultFileError(f"{path} is not a projections file: no column {missing[0]!r}")
    try:
        table = table.select(list(COLUMNS)).cast(SCHEMA)
    except (pa.ArrowException, ValueError) as exc:
        raise ResultFileError(f"{path} has projections columns of the wrong type: {exc}") from exc
    return table.to_pandas()


def read_projections(path: str | os.PathLike) -> pd.DataFrame:
    """Read projections written by ``vocablens project`` (a folder) or one of its Parquet files.

    Args:
        path: the output folder (its finished layers are read, in layer order) or one file.

    Returns:
        The long-format DataFrame (columns :data:`COLUMNS`).

    Raises:
        ResultFileError: the folder or file is missing, corrupt, or not projections.
    """
    path = Path(path)
    if not path.exists():
        raise ResultFileError(f"projections not found: {path}")
    if path.is_file():
        return _read_file(path)
    manifest = read_manifest(path)
    finished = manifest.get("finished", {})
    if not isinstance(finished, dict):
        raise ResultFileError(f"corrupt manifest in {path}: 'finished' is not a mapping")
    files = [path / finished[key] for key in sorted(finished, key=int)]
    if not files:
        return pd.DataFrame(
            {name: pd.Series(dtype=SCHEMA.field(name).type.to_pandas_dtype()) for name in COLUMNS}
        )
    return pd.concat([_read_file(file) for file in files], ignore_index=True)
