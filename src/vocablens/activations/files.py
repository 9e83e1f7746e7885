"""The on-disk format of a corpus run: Parquet tables plus ``manifest.json`` in a folder.

* ``stats.parquet``: per-neuron statistics (:func:`vocablens.activations.tables.stats_frame`);
* ``top.parquet``: per neuron, sign and rank the activating token (``layer, expert, index,
  sign, rank, activation, position``);
* ``contexts.parquet``: one row per distinct top token position: its document, token, next
  token and text window (``position, doc, doc_position, token_id, token, next_token_id,
  next_token, prefix, suffix``), so a context shared by many neurons is stored once;
* ``agreement.parquet`` (when computed): :mod:`vocablens.activations.agreement`;
* ``manifest.json``: model, model card, corpus (source and fingerprint), options, counts;
* ``checkpoint/``: the running state of an unfinished run, one file per process.

:func:`read_activations` joins ``top`` and ``contexts`` back into one table.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vocablens.atomic import atomic_path, write_text_atomic
from vocablens.errors import ResultFileError

FORMAT = "vocablens.activations"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STATS = "stats.parquet"
TOP = "top.parquet"
CONTEXTS = "contexts.parquet"
AGREEMENT = "agreement.parquet"
CHECKPOINTS = "checkpoint"


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet, atomically."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``folder/manifest.json`` atomically."""
    write_text_atomic(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a run folder.

    Raises:
        ResultFileError: missing, unreadable, or not an activations manifest.
    """
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ResultFileError(f"{folder} holds no activations run (no {MANIFEST})") from exc
    except (OSError, ValueError) as exc:
        raise ResultFileError(f"cannot read {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ResultFileError(f"{path} is not the manifest of an activations run")
    return manifest


@dataclass
class Activations:
    """A finished corpus run, read back.

    Attributes:
        manifest: the run's manifest.
        stats: per-neuron statistics, one row per (layer, expert, index).
        contexts: the top-n contexts, one row per (layer, expert, index, sign, rank), with the
            columns of ``top.parquet`` and ``contexts.parquet`` joined on ``position``.
        agreement: the Geva et al. agreement per layer and sign, or None.
    """

    manifest: dict[str, Any]
    stats: pd.DataFrame
    contexts: pd.DataFrame
    agreement: pd.DataFrame | None = None


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise ResultFileError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc


def read_activations(folder: str | os.PathLike[str]) -> Activations:
    """Read a finished run folder written by :func:`vocablens.activations.run.activations_to_dir`.

    Raises:
        ResultFileError: not a run folder, an unfinished run, or a damaged file.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not manifest.get("complete"):
        raise ResultFileError(f"the activations run in {folder} is not finished; run it again")
    top = _read(folder / TOP)
    text = _read(folder / CONTEXTS)
    contexts = top.merge(text, on="position", how="left")
    agreement = _read(folder / AGREEMENT) if (folder / AGREEMENT).is_file() else None
    return Activations(manifest, _read(folder / STATS), contexts, agreement)
