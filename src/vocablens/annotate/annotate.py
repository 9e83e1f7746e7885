"""The whole-file pipeline: label every vector of a projections table, score polysemanticity.

Input: the long projections table of ``vocablens project`` (one row per kind, layer, index, sign,
rank), as a DataFrame, a projections folder (Parquet files + ``manifest.json``) or one Parquet
file. Output: one row per (kind, layer, index, sign) with its concept label, coverage and
polysemanticity (see :data:`OUTPUT_COLUMNS`).

For pair kinds (``ov``, ``qk``) the output-side tokens (the ``token`` column) are labelled.

Which features the polysemanticity clustering uses (the ``features`` column says it per row):

* a model (``model=`` or, when ``model=None``, the model named in the folder's ``manifest.json``
  if it loads): its input embeddings ``W_E`` for the token ids, joined with WordNet features
  (``"both"``);
* no model (``model=False``, or the manifest's model cannot be loaded, or token ids outside its
  vocabulary): WordNet features only (``"wordnet"``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocablens.annotate.labeler import ConceptLabeler, Label
from vocablens.annotate.polysemantic import PolysemanticityDetector
from vocablens.atomic import atomic_path, check_file_target
from vocablens.errors import InputError, ResultFileError, VocabLensError
from vocablens.layerspec import LayerSpec, parse_layers

log = logging.getLogger(__name__)

#: Columns a projections table needs here.
REQUIRED_COLUMNS = ("kind", "layer", "index", "sign", "rank", "token")

#: Output columns (``generative_suggestion`` only with ``generative=True``).
OUTPUT_COLUMNS = (
    "kind", "layer", "neuron", "sign", "label", "label_kind", "supersense", "synset", "coverage",
    "confident", "label_score", "polysemantic", "score", "n_clusters", "cluster_labels",
    "sides_polysemantic", "features", "explained_tokens", "top_tokens",
)  # fmt: skip


@dataclass(frozen=True)
class AnnotateConfig:
    """Options of ``vocablens annotate`` (see :func:`annotate_to_file`).

    Attributes:
        projections: a projections folder or Parquet file.
        out: the output Parquet file.
        kinds: vector kinds to annotate (None: all in the table).
        layers: layers to annotate, e.g. ``"0-5,10"`` (None: all).
        model: a model spec for the embeddings; None: the manifest's model; ``"none"``: no model.
        top_k: read only ranks ``< top_k`` (None: all).
        device: where to load the model (``"cpu"``, ``"cuda"``, ...; None: the CPU).
        generative: add a generative label suggestion (slow: one generation per vector).
        generative_model: the instruction-tuned model for it.
        progress: show a progress bar.
    """

    projections: Path
    out: Path
    kinds: tuple[str, ...] | None = None
    layers: LayerSpec = None
    model: str | None = None
    top_k: int | None = None
    device: str | None = None
    generative: bool = False
    generative_model: str = "smollm2-135m"
    progress: bool = True


def read_projection_table(source: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A projections table and its manifest (``{}`` when there is none).

    Args:
        source: a DataFrame, a projections folder or a Parquet file.

    Raises:
        ResultFileError: missing, unreadable, or without the needed columns.
    """
    manifest: dict[str, Any] = {}
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        path = Path(source)
        if not path.exists():
            raise ResultFileError(f"projections not found: {path}")
        if path.is_dir() and (path / "manifest.json").is_file():
            try:
                manifest = json.loads((path / "manifest.json").read_text())
            except (OSError, ValueError) as exc:
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
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResultFileError(f"cannot read projections file {path}: {message}") from exc


def _resolve_model(model: Any, manifest: dict[str, Any], device: Any = None) -> Any:
    """A LoadedModel or None (see the module docstring)."""
    from vocablens.model.loading import load_model

    if model is False or (isinstance(model, str) and model.lower() == "none"):
        return None
    if model is not None:
        return load_model(model, device=device)
    spec = manifest.get("model")
    if not spec:
        return None
    try:
        return load_model(spec, device=device)
    except VocabLensError as exc:
        log.warning(
            "annotate: cannot load the manifest's model %r (%s); WordNet features", spec, exc
        )
        return None


def _groups(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows sorted by (kind, layer, index, sign, rank) and the start of every group."""
    keys = ["kind", "layer", "index", "sign", "rank"]
    frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    if not len(frame):
        return frame, np.zeros(1, dtype=np.int64)
    key = frame[["kind", "layer", "index", "sign"]]
    change = np.zeros(len(frame), dtype=bool)
    change[0] = True
    for col in key.columns:
        values = key[col].to_numpy()
        change[1:] |= values[1:] != values[:-1]
    starts = np.flatnonzero(change)
    return frame, np.append(starts, len(frame))


def annotate_projections(
    projections: Any,
    *,
    kinds: Sequence[str] | None = None,
    layers: LayerSpec = None,
    model: Any = None,
    top_k: int | None = None,
    labeler: ConceptLabeler | None = None,
    detector: PolysemanticityDetector | None = None,
    generative: Any = False,
    progress: bool = False,
    device: Any = None,
) -> pd.DataFrame:
    """Label every vector of a projections table and score its polysemanticity.

    Args:
        projections: a long projections DataFrame, a projections folder or a Parquet file.
        kinds: vector kinds to annotate (None: all; e.g. ``["values"]``).
        layers: layers to annotate: ints or a string like ``"0-5,10"`` (None / ``"all"``: all).
        model: a model (spec or LoadedModel) whose embeddings feed the clustering; None: the
            manifest's model if it loads; False or ``"none"``: no model (WordNet features).
        top_k: read only ranks ``< top_k`` (None: all).
        labeler: a :class:`ConceptLabeler` (fitted or not; None: the detector's, else a default).
        detector: a :class:`PolysemanticityDetector` (re-fitted here on the model's ``W_E``;
            None: default parameters, sharing ``labeler``).
        generative: False, True (SmolLM2-Instruct suggestions) or a
            :class:`~vocablens.annotate.generative.GenerativeLabeler`.
        progress: show a tqdm progress bar.
        device: where to load a model given by spec (None: the CPU).

    Returns:
        One row per (kind, layer, index, sign), columns :data:`OUTPUT_COLUMNS` (+
        ``generative_suggestion``): ``explained_tokens`` and ``top_tokens`` are lists of
        strings, ``sides_polysemantic`` compares the ``+v`` and ``-v`` rows of the same vector
        (None without both), ``cluster_labels`` is ``'|'``-joined.

    Raises:
        ResultFileError: unreadable or malformed projections.
        InputError: bad ``top_k`` or ``layers``.
    """
    from tqdm.auto import tqdm

    frame, manifest = read_projection_table(projections)
    if top_k is not None:
        if top_k < 1:
            raise InputError(f"top_k must be positive, got {top_k}")
        frame = frame[frame["rank"] < top_k]
    if kinds:
        frame = frame[frame["kind"].isin(list(kinds))]
    chosen = parse_layers(layers)
    if chosen is not None:
        frame = frame[frame["layer"].isin(chosen)]
    lm = _resolve_model(model, manifest, device) if len(frame) else None
    if detector is None:
        detector = PolysemanticityDetector(labeler=labeler)
    embeddings = None if lm is None else lm.view.W_E
    with single_blas_thread():  # also here: a busy machine makes threaded BLAS crawl
        detector.fit(embeddings)
    if labeler is None:
        labeler = detector.labeler_  # one labeller (and one WordNet cache) for both
    elif not hasattr(labeler, "lexicon_"):
        labeler.fit()
    n_vocab = None if embeddings is None else int(embeddings.shape[0])

    frame, bounds = _groups(frame)
    ids = frame["token_id"].to_numpy() if "token_id" in frame.columns else None
    columns = {name: frame[name].to_numpy() for name in ("kind", "layer", "index", "sign")}
    tokens_col = frame["token"].astype(str).to_numpy()
    rows: list[dict[str, Any]] = []
    labels: list[Label] = []
    with single_blas_thread():
        for g in tqdm(range(len(bounds) - 1), disable=not progress, desc="annotate", unit="vector"):
            lo, hi = bounds[g], bounds[g + 1]
            tokens = tokens_col[lo:hi].tolist()
            group_ids = None
            ok = ids is not None and n_vocab is not None
            if ok and ((ids[lo:hi] >= 0) & (ids[lo:hi] < n_vocab)).all():  # type: ignore[index]
                group_ids = ids[lo:hi].tolist()  # type: ignore[index]
            label = labeler.label(tokens)
            poly = detector.score(tokens, token_ids=group_ids)
            labels.append(label)
            rows.append(_row(columns, lo, tokens, label, poly))
        _compare_sides(rows, labels, detector)
    out = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
    if generative:
        out["generative_suggestion"] = _suggest(generative, out["top_tokens"].tolist(), progress)
    return _typed(out)


def _row(
    columns: dict[str, np.ndarray], lo: int, tokens: list[str], label: Label, poly: Any
) -> dict:
    return {
        "kind": str(columns["kind"][lo]), "layer": int(columns["layer"][lo]),
        "neuron": int(columns["index"][lo]), "sign": int(columns["sign"][lo]),
        "label": label.label, "label_kind": label.kind, "supersense": label.supersense,
        "synset": label.synset, "coverage": float(label.coverage),
        "confident": bool(label.confident), "label_score": float(label.score),
        "polysemantic": bool(poly.polysemantic), "score": float(poly.score),
        "n_clusters": int(poly.n_clusters), "cluster_labels": "|".join(poly.cluster_labels),
        "sides_polysemantic": None, "features": poly.features,
        "explained_tokens": list(label.explained), "top_tokens": tokens,
    }  # fmt: skip


def single_blas_thread() -> Any:
    """A context that limits BLAS to one thread.

    The detector multiplies tiny matrices (30 x d) once per vector; a multi-threaded BLAS spends
    far longer waking its threads than computing (100x slower on a busy 2-core machine).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _compare_sides(rows: list[dict[str, Any]], labels: list[Label], detector: Any) -> None:
    """Fill ``sides_polysemantic`` for vectors that have both a +1 and a -1 row."""
    where: dict[tuple[str, int, int], dict[int, int]] = {}
    for i, row in enumerate(rows):
        where.setdefault((row["kind"], row["layer"], row["neuron"]), {})[row["sign"]] = i
    for sides in where.values():
        if 1 in sides and -1 in sides:
            p, n = sides[1], sides[-1]
            result = detector.compare_sides(
                rows[p]["top_tokens"], rows[n]["top_tokens"], labels[p], labels[n]
            )
            rows[p]["sides_polysemantic"] = rows[n]["sides_polysemantic"] = result.polysemantic


def _suggest(generative: Any, token_lists: list[list[str]], progress: bool) -> list[str]:
    from vocablens.annotate.generative import GenerativeLabeler

    gen = generative if isinstance(generative, GenerativeLabeler) else GenerativeLabeler()
    if not hasattr(gen, "model_"):
        gen.fit()
    return gen.transform(token_lists, progress=progress)


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    types = {"layer": "int32", "neuron": "int32", "sign": "int8", "coverage": "float32",
             "label_score": "float32", "score": "float32", "n_clusters": "int16"}  # fmt: skip
    out = out.astype(types)
    out["sides_polysemantic"] = out["sides_polysemantic"].astype("boolean")
    return out


def write_annotations(frame: pd.DataFrame, out: str | os.PathLike) -> Path:
    """Write an annotation table as Parquet, atomically (a temporary file, then a rename).

    Raises:
        InputError: the output folder does not exist or cannot be written.
    """
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError(f"output folder does not exist: {out.parent}")
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"cannot write {out}: permission denied")
    with atomic_path(out) as tmp:
        frame.to_parquet(tmp, index=False)
    return out


def annotate_to_file(config: AnnotateConfig) -> Path:
    """Annotate a projections folder or file and write the result (what the CLI runs).

    Returns:
        The output file.

    Raises:
        ResultFileError: unreadable or malformed projections.
        InputError: bad options or an unwritable output (checked before any work).
    """
    from vocablens.model.devices import resolve_device

    check_file_target(config.out)
    if config.device is not None:
        resolve_device(config.device)
    frame = annotate_projections(
        config.projections,
        kinds=config.kinds,
        layers=config.layers,
        model=config.model,
        top_k=config.top_k,
        generative=_generative(config),
        progress=config.progress,
        device=config.device,
    )
    return write_annotations(frame, config.out)


def _generative(config: AnnotateConfig) -> Any:
    if not config.generative:
        return False
    from vocablens.annotate.generative import GenerativeLabeler

    return GenerativeLabeler(model=config.generative_model)
