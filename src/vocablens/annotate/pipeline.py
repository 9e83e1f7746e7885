"""The whole-file pipeline: label every vector of a projections table, score polysemanticity.

Input: the long projections table of ``vocablens project`` (one row per kind, layer, index, sign,
rank), as a DataFrame, a projections folder (Parquet files + ``manifest.json``) or one Parquet
file. Output: :class:`~vocablens.annotate.result.Annotations`, one row per (kind, layer, expert,
index, sign) with its concept label, coverage and polysemanticity (columns:
:data:`vocablens.annotate.result.SCHEMA`).

For pair kinds (``ov``, ``qk``) the output-side tokens (the ``token`` column) are labelled.

**Readout.** Labels are read on one readout of the projections (``readout``, default
:data:`DEFAULT_READOUT`, ``"cosine"``: each token's score divided by its unembedding norm). On the
judged set of SmolLM2 value vectors (``benchmarks/bench_labels.py``) it gives the best concept
recall at a false-concept rate under 0.15; the raw readout's hub tokens (``␣strugg``,
``␣affili``) hide meanings. A projections table with a ``readout`` column is filtered to it; a
table without one holds the raw readout. When the chosen readout is missing the call fails with
a one-line error naming the ``vocablens project --readout`` to run (the annotator never
re-projects). The output's ``readout`` column says which readout was read.

Polysemanticity comes from the labeller's semantic groups (WordNet; the ``features`` column is
``"wordnet"``); no model is loaded for it.

**Contexts as evidence.** With ``activations`` (a ``vocablens activations`` folder of the same
model) every ``values`` row also gets where its neuron fires: the Geva et al. agreement, the
labeller on the trigger tokens, and whether the contexts support the label
(:mod:`vocablens.annotate.context_evidence`, :data:`~vocablens.annotate.result.EVIDENCE_COLUMNS`).
``label`` still comes from the value's own tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocablens.annotate.inputs import (
    DEFAULT_READOUT,
    KEYS,
    groups_of,
    raw_lists,
    read_projection_table,
    select_readout,
    side_key,
)
from vocablens.annotate.labeler import ConceptLabeler, Label
from vocablens.annotate.polysemantic import PolysemanticityDetector, polysemanticity
from vocablens.annotate.result import (
    COLUMNS,
    GENERATIVE_COLUMN,
    Annotations,
    empty_frame,
)
from vocablens.atomic import check_file_target
from vocablens.errors import InputError
from vocablens.layerspec import LayerSpec, parse_layers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnnotateConfig:
    """Options of ``vocablens annotate`` (see :func:`annotate_to_file`).

    Attributes:
        projections: a projections folder or Parquet file.
        out: the output Parquet file.
        kinds: vector kinds to annotate (None: all in the table).
        layers: layers to annotate, e.g. ``"0-5,10"`` (None: all).
        top_k: read only ranks ``< top_k`` (None: all).
        generative: add a generative label suggestion (slow: one generation per vector).
        generative_model: the instruction-tuned model for it.
        progress: show a progress bar.
        readout: the projection readout to read labels on (``"cosine"``, ``"raw"``, ``"csls"``).
        activations: a ``vocablens activations`` folder: add the context evidence columns.
        context_tokens: which context token the evidence reads: ``"trigger"`` or ``"next"``.
    """

    projections: Path
    out: Path
    kinds: tuple[str, ...] | None = None
    layers: LayerSpec = None
    top_k: int | None = None
    generative: bool = False
    generative_model: str = "smollm2-135m"
    progress: bool = True
    readout: str = DEFAULT_READOUT
    activations: Path | None = None
    context_tokens: str = "trigger"


def annotate_projections(
    projections: Any,
    *,
    kinds: Sequence[str] | None = None,
    layers: LayerSpec = None,
    top_k: int | None = None,
    labeler: ConceptLabeler | None = None,
    detector: PolysemanticityDetector | None = None,
    generative: Any = False,
    progress: bool | Callable[[int, int], Any] = False,
    readout: str = DEFAULT_READOUT,
    activations: Any = None,
    context_tokens: str = "trigger",
    agree_k: int = 10,
) -> Annotations:
    """Label every vector of a projections table and score its polysemanticity.

    Args:
        projections: a long projections DataFrame, a projections folder or a Parquet file.
        kinds: vector kinds to annotate (None: all; e.g. ``["values"]``).
        layers: layers to annotate: ints or a string like ``"0-5,10"`` (None / ``"all"``: all).
        top_k: read only ranks ``< top_k`` (None: all).
        labeler: a :class:`ConceptLabeler` (fitted or not; None: the detector's, else a default).
        detector: a :class:`PolysemanticityDetector` (None: one sharing ``labeler``).
        generative: False, True (SmolLM2-Instruct suggestions) or a
            :class:`~vocablens.annotate.generative.GenerativeLabeler`.
        progress: True: show a tqdm progress bar; a callable: called as ``progress(done, total)``
            (vectors) after each one, e.g. to drive a caller's own bar.
        readout: the projection readout to read (see the module docstring).
        activations: a corpus run of the same model (a ``vocablens activations`` folder or an
            :class:`~vocablens.activations.files.Activations`): adds the evidence columns
            (:mod:`vocablens.annotate.context_evidence`) to the ``values`` rows (null elsewhere).
        context_tokens: ``"trigger"`` (the tokens where the neuron fires) or ``"next"``: the
            context tokens the evidence labels and matches.
        agree_k: top value tokens that count for ``context_agreement``.

    Returns:
        :class:`~vocablens.annotate.result.Annotations`: one row per (kind, layer, expert, index,
        sign), columns :data:`~vocablens.annotate.result.SCHEMA` (+ ``generative_suggestion``):
        ``explained_tokens`` and ``top_tokens`` are lists of strings, ``sides_polysemantic``
        compares the ``+v`` and ``-v`` rows of the same vector (null without both),
        ``cluster_labels`` is ``'|'``-joined.

    Raises:
        ResultFileError: unreadable or malformed projections.
        InputError: bad ``top_k`` or ``layers``, the projections lack ``readout``, or the
            activations are of another model or lack a layer.
    """
    from tqdm.auto import tqdm

    table, manifest = read_projection_table(projections)
    frame = select_readout(table, readout, projections, manifest)
    if top_k is not None and top_k < 1:
        raise InputError(f"top_k must be positive, got {top_k}")
    chosen = parse_layers(layers)

    def keep(rows: pd.DataFrame) -> pd.DataFrame:
        if top_k is not None:
            rows = rows[rows["rank"] < top_k]
        if kinds:
            rows = rows[rows["kind"].isin(list(kinds))]
        return rows if chosen is None else rows[rows["layer"].isin(chosen)]

    frame = keep(frame)
    raw_by_key = raw_lists(keep(table), readout)  # where the form may also be read
    run = _context_run(activations, frame, manifest, context_tokens, agree_k)
    if detector is None:
        detector = PolysemanticityDetector(labeler=labeler)
    if not hasattr(detector, "labeler_"):
        detector.fit()
    if labeler is None:
        labeler = detector.labeler_  # one labeller (and one WordNet cache) for both
    elif not hasattr(labeler, "lexicon_"):
        labeler.fit()

    frame, bounds = groups_of(frame)
    columns = {name: frame[name].to_numpy() for name in KEYS}
    tokens_col = frame["token"].astype(str).to_numpy()
    rows: list[dict[str, Any]] = []
    labels: list[Label] = []
    n_groups = len(bounds) - 1
    report = progress if callable(progress) else None
    bar = progress is True
    labeler.prepare(tokens_col.tolist())  # the theme words of all lists, embedded in batches
    with single_blas_thread():
        for g in tqdm(range(n_groups), disable=not bar, desc="annotate", unit="vector"):
            lo, hi = bounds[g], bounds[g + 1]
            tokens = tokens_col[lo:hi].tolist()
            raw = raw_by_key.get(side_key(columns, lo))
            label = labeler.label(tokens, raw=raw, readout=readout)
            poly = polysemanticity(label)
            labels.append(label)
            rows.append(_row(columns, lo, tokens, label, poly, readout))
            if report is not None:
                report(g + 1, n_groups)
        _compare_sides(rows, labels, detector)
    out = pd.DataFrame(rows, columns=list(COLUMNS)) if rows else empty_frame()
    if generative:
        out[GENERATIVE_COLUMN] = _suggest(generative, out["top_tokens"].tolist(), bar)
    if run is not None:
        out = _with_evidence(out, rows, labels, frame, run, labeler, context_tokens, agree_k)
    return Annotations(out)


def _context_run(activations: Any, frame: pd.DataFrame, manifest: dict, tokens: str,
                 agree_k: int) -> Any:  # fmt: skip
    """The checked corpus run, or None without ``activations`` (fails before any labelling)."""
    if activations is None:
        return None
    from vocablens.annotate.context_evidence import check_options, check_run, open_context_run

    check_options(tokens, agree_k)
    if "token_id" not in frame.columns:
        raise InputError("the projections have no token_id column: the context agreement needs it")
    run = open_context_run(activations)
    values = frame[frame["kind"] == "values"]
    check_run(run, manifest, sorted(int(x) for x in values["layer"].unique()))
    return run


def _with_evidence(out: pd.DataFrame, rows: list[dict[str, Any]], labels: list[Label],
                   frame: pd.DataFrame, run: Any, labeler: ConceptLabeler, tokens: str,
                   agree_k: int) -> pd.DataFrame:  # fmt: skip
    """``out`` with the evidence columns: computed for ``values`` rows, null on the others."""
    from vocablens.annotate.context_evidence import context_evidence
    from vocablens.annotate.result import EVIDENCE_COLUMNS

    keyed = {(r["layer"], r["expert"], r["index"], r["sign"]): label
             for r, label in zip(rows, labels, strict=True) if r["kind"] == "values"}  # fmt: skip
    values = frame[frame["kind"] == "values"]
    if "expert" not in values.columns:
        values = values.assign(expert=np.int32(-1))
    evidence = context_evidence(run, values, keyed, labeler, k=agree_k, tokens=tokens)
    if not len(evidence):  # no values rows: typed keys, so the merge still lines up
        evidence = pd.DataFrame({**{k: pd.Series(dtype="int64") for k in KEYS[1:]},
                                 **{c: pd.Series(dtype="object") for c in EVIDENCE_COLUMNS}})  # fmt: skip
    evidence = evidence.assign(kind="values")
    joined = out.merge(evidence, on=list(KEYS), how="left", validate="one_to_one")
    return joined


def _row(
    columns: dict[str, np.ndarray], lo: int, tokens: list[str], label: Label, poly: Any,
    readout: str,
) -> dict:  # fmt: skip
    return {
        "kind": str(columns["kind"][lo]), "layer": int(columns["layer"][lo]),
        "expert": int(columns["expert"][lo]), "index": int(columns["index"][lo]),
        "sign": int(columns["sign"][lo]),
        "label": label.label, "label_kind": label.kind, "supersense": label.supersense,
        "synset": label.synset, "coverage": float(label.coverage),
        "form": label.form, "form_coverage": float(label.form_coverage),
        "form_readout": label.form_readout,
        "confident": bool(label.confident), "label_score": float(label.score),
        "polysemantic": bool(poly.polysemantic), "score": float(poly.score),
        "n_clusters": int(poly.n_clusters), "cluster_labels": "|".join(poly.cluster_labels),
        "sides_polysemantic": None, "features": poly.features, "readout": readout,
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
    check_file_target(config.out)  # fail before minutes of work
    annotations = annotate_projections(
        config.projections,
        kinds=config.kinds,
        layers=config.layers,
        top_k=config.top_k,
        generative=_generative(config),
        progress=config.progress,
        readout=config.readout,
        activations=config.activations,
        context_tokens=config.context_tokens,
    )
    return annotations.write(config.out)


def _generative(config: AnnotateConfig) -> Any:
    if not config.generative:
        return False
    from vocablens.annotate.generative import GenerativeLabeler

    return GenerativeLabeler(model=config.generative_model)
