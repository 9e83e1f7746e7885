"""The whole-file pipeline: label every vector of a projections table, score polysemanticity.

Input: the long projections table of ``vocablens project`` (one row per kind, layer, index, sign,
rank), as a DataFrame, a projections folder (Parquet files + ``manifest.json``) or one Parquet
file. Output: :class:`~vocablens.annotate.result.Annotations`, one row per (kind, layer, expert,
index, sign) with its concept label, coverage and polysemanticity (columns:
:data:`vocablens.annotate.result.SCHEMA`).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocablens.annotate.labeler import ConceptLabeler, Label
from vocablens.annotate.polysemantic import PolysemanticityDetector
from vocablens.annotate.result import (
    COLUMNS,
    GENERATIVE_COLUMN,
    Annotations,
    empty_frame,
)
from vocablens.atomic import check_file_target
from vocablens.errors import InputError, ResultFileError, VocabLensError, first_line
from vocablens.layerspec import LayerSpec, parse_layers

log = logging.getLogger(__name__)

#: Columns a projections table needs here (``expert`` is read when present, else -1).
REQUIRED_COLUMNS = ("kind", "layer", "index", "sign", "rank", "token")
#: The columns that name one vector side, as in the projections table.
KEYS = ("kind", "layer", "expert", "index", "sign")


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
        raise ResultFileError(f"cannot read projections file {path}: {first_line(exc)}") from exc


def _resolve_model(model: Any, manifest: dict[str, Any], device: Any = None) -> Any:
    """A LoadedModel or None (see the module docstring); a LoadedModel is used as it is."""
    if model is False or (isinstance(model, str) and model.lower() == "none"):
        return None
    from vocablens.model.loading import LoadedModel, load_model

    if isinstance(model, LoadedModel):
        return model
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
    progress: bool | Callable[[int, int], Any] = False,
    device: Any = None,
) -> Annotations:
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
        progress: True: show a tqdm progress bar; a callable: called as ``progress(done, total)``
            (vectors) after each one, e.g. to drive a caller's own bar.
        device: where to load a model given by spec (None: the CPU).

    Returns:
        :class:`~vocablens.annotate.result.Annotations`: one row per (kind, layer, expert, index,
        sign), columns :data:`~vocablens.annotate.result.SCHEMA` (+ ``generative_suggestion``):
        ``explained_tokens`` and ``top_tokens`` are lists of strings, ``sides_polysemantic``
        compares the ``+v`` and ``-v`` rows of the same vector (null without both),
        ``cluster_labels`` is ``'|'``-joined.

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
    columns = {name: frame[name].to_numpy() for name in KEYS}
    tokens_col = frame["token"].astype(str).to_numpy()
    rows: list[dict[str, Any]] = []
    labels: list[Label] = []
    n_groups = len(bounds) - 1
    report = progress if callable(progress) else None
    bar = progress is True
    with single_blas_thread():
        for g in tqdm(range(n_groups), disable=not bar, desc="annotate", unit="vector"):
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
            if report is not None:
                report(g + 1, n_groups)
        _compare_sides(rows, labels, detector)
    out = pd.DataFrame(rows, columns=list(COLUMNS)) if rows else empty_frame()
    if generative:
        out[GENERATIVE_COLUMN] = _suggest(generative, out["top_tokens"].tolist(), bar)
    return Annotations(out)


def _row(
    columns: dict[str, np.ndarray], lo: int, tokens: list[str], label: Label, poly: Any
) -> dict:
    return {
        "kind": str(columns["kind"][lo]), "layer": int(columns["layer"][lo]),
        "expert": int(columns["expert"][lo]), "index": int(columns["index"][lo]),
        "sign": int(columns["sign"][lo]),
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
    where: dict[tuple[str, int, int, int], dict[int, int]] = {}
    for i, row in enumerate(rows):
        key = (row["kind"], row["layer"], row["expert"], row["index"])
        where.setdefault(key, {})[row["sign"]] = i
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


def annotate_to_file(config: AnnotateConfig) -> Path:
    """Annotate a projections folder or file and write the result (what the CLI runs).

    Returns:
        The output file.

    Raises:
        ResultFileError: unreadable or malformed projections.
        InputError: bad options or an unwritable output (checked before any work).
    """
    from vocablens.model.devices import resolve_device

    check_file_target(config.out)  # fail before minutes of work
    if config.device is not None:
        resolve_device(config.device)
    annotations = annotate_projections(
        config.projections,
        kinds=config.kinds,
        layers=config.layers,
        model=config.model,
        top_k=config.top_k,
        generative=_generative(config),
        progress=config.progress,
        device=config.device,
    )
    return annotations.write(config.out)


def _generative(config: AnnotateConfig) -> Any:
    if not config.generative:
        return False
    from vocablens.annotate.generative import GenerativeLabeler

    return GenerativeLabeler(model=config.generative_model)
