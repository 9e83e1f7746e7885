"""The annotation output: one schema, its constants, and the confident fraction.

:class:`Annotations` is what :func:`~vocablens.annotate.annotate_projections` returns and what
``vocablens annotate`` writes: one row per (kind, layer, expert, index, sign), columns
:data:`SCHEMA` (+ :data:`GENERATIVE_COLUMN` when asked for). The vector is named exactly as in the
projections table (``kind``, ``layer``, ``expert``, ``index``, ``sign``), so the two join without
renaming.

The confident fraction has one rule, :func:`confident_fraction`: among the rows of vector kind
``values`` on the ``+1`` side (what a value vector promotes), the share with a confident
*semantic* label (``confident`` true and ``label_kind == "semantic"``), per layer; form labels
("plural nouns", "word pieces") never count. The report, the benchmark and the library all call
it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from vocablens.atomic import atomic_path, check_file_target
from vocablens.errors import InputError, ResultFileError, first_line

#: Label kinds (``label_kind`` column): a meaning (a WordNet synset or "number"), or a form
#: description (what the tokens look like: "plural nouns", "word pieces", "code tokens").
SEMANTIC, FORM = "semantic", "form"
#: The label kinds a label can have.
LABEL_KINDS = (SEMANTIC, FORM)
#: The label kinds the confident fraction counts (and figures stack): meanings only.
FRACTION_KINDS = (SEMANTIC,)
#: ``label_kind`` of a vector that got no label at all (``label == ""``).
NO_LABEL_KIND = "none"
#: The label of a vector with no confident label where a label must be shown (map points).
UNLABELLED = "(no confident label)"

#: The columns and types of an annotation table.
SCHEMA = pa.schema(
    [
        ("kind", pa.string()),  # vector kind of the projections ("values", "keys_gate", "ov", ...)
        ("layer", pa.int32()),
        ("expert", pa.int32()),  # mixture-of-experts expert, -1 for dense layers
        ("index", pa.int32()),  # neuron, head or vector number, as in the projections
        ("sign", pa.int8()),  # +1: what the vector promotes, -1: what it suppresses
        ("label", pa.string()),  # "" when nothing fits
        ("label_kind", pa.string()),  # one of LABEL_KINDS, or NO_LABEL_KIND
        ("supersense", pa.string()),  # WordNet lexicographer file ("number" for numbers) or null
        ("synset", pa.string()),  # WordNet synset name, null for other kinds
        ("coverage", pa.float32()),  # rank-weighted share of the top tokens the label explains
        ("form", pa.string()),  # form description ("plural nouns"), "" when no form dominates
        ("form_coverage", pa.float32()),  # rank-weighted share of the best form class
        ("form_readout", pa.string()),  # the readout the form was read on, "" without a form
        ("confident", pa.bool_()),
        ("label_score", pa.float32()),  # coverage * specificity
        ("polysemantic", pa.bool_()),
        ("score", pa.float32()),  # polysemanticity score
        ("n_clusters", pa.int16()),
        ("cluster_labels", pa.string()),  # the semantic groups' labels, "|"-joined
        ("sides_polysemantic", pa.bool_()),  # +v and -v differ; null without both sides
        ("features", pa.string()),  # what the groups were found with ("wordnet")
        ("readout", pa.string()),  # the projection readout the labels were read on
        ("explained_tokens", pa.list_(pa.string())),
        ("top_tokens", pa.list_(pa.string())),  # by rank
    ]
)
COLUMNS = tuple(SCHEMA.names)
#: The optional column of ``generative=True``: a label suggested by a chat model (unverified).
GENERATIVE_COLUMN = "generative_suggestion"
#: The optional columns of ``activations=``: where each value vector's neuron fires, as evidence
#: for its label (:mod:`vocablens.annotate.context_evidence`); null on rows of other kinds.
EVIDENCE_FIELDS = (
    pa.field("context_agreement", pa.float32()),  # share of top contexts whose next token is top-k
    pa.field("context_label", pa.string()),  # the labeller on the tokens where the neuron fires
    pa.field("context_label_kind", pa.string()),  # as label_kind
    pa.field("context_coverage", pa.float32()),  # as coverage, of the context tokens
    pa.field("context_confident", pa.bool_()),  # as confident, for context_label
    pa.field("context_support_share", pa.float32()),  # share of contexts in the label's closure
    pa.field("context_support", pa.bool_()),  # the contexts support the token-list label
)
EVIDENCE_COLUMNS = tuple(f.name for f in EVIDENCE_FIELDS)
_LISTS = ("explained_tokens", "top_tokens")
#: Values of the columns a frame from before issue 10 lacks (``conform`` fills them in).
_DEFAULTS = {"form": "", "form_coverage": 0.0, "form_readout": "", "readout": "raw"}


def _schema(generative: bool, evidence: bool = False) -> pa.Schema:
    """:data:`SCHEMA`, + :data:`GENERATIVE_COLUMN` when ``generative``, + the evidence columns."""
    schema = SCHEMA.append(pa.field(GENERATIVE_COLUMN, pa.string())) if generative else SCHEMA
    for f in EVIDENCE_FIELDS if evidence else ():
        schema = schema.append(f)
    return schema


def _schema_of(frame: pd.DataFrame) -> pa.Schema:
    return _schema(GENERATIVE_COLUMN in frame.columns, EVIDENCE_COLUMNS[0] in frame.columns)


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the schema's columns, in order, with its pandas dtypes.

    Raises:
        InputError: a column is missing or an unknown one is present.
    """
    wanted = list(_schema_of(frame).names)
    filled = {c: v for c, v in _DEFAULTS.items() if c not in frame.columns}
    if filled:  # a frame built before these columns existed
        frame = frame.assign(**filled)
    missing = [c for c in wanted if c not in frame.columns]
    extra = [c for c in frame.columns if c not in wanted]
    if missing or extra:
        what = [f"missing {', '.join(missing)}"] if missing else []
        what += [f"unknown {', '.join(map(str, extra))}"] if extra else []
        raise InputError(f"not an annotation table: {'; '.join(what)}")
    types = {"layer": "int32", "expert": "int32", "index": "int32", "sign": "int8",
             "coverage": "float32", "confident": "bool", "label_score": "float32",
             "form_coverage": "float32",
             "polysemantic": "bool", "score": "float32", "n_clusters": "int16"}  # fmt: skip
    types.update({f.name: "str" for f in _schema_of(frame) if f.type == pa.string()})
    out = frame[wanted].astype(types)  # strings: pandas' str dtype, missing as NaN
    out["sides_polysemantic"] = out["sides_polysemantic"].astype("boolean")
    if EVIDENCE_COLUMNS[0] in out.columns:  # nullable: rows of other kinds have no evidence
        for name in ("context_agreement", "context_coverage", "context_support_share"):
            out[name] = out[name].astype("Float32")
        for name in ("context_confident", "context_support"):
            out[name] = out[name].astype("boolean")
    return out.reset_index(drop=True)


def confident_fraction(frame: pd.DataFrame, kind: str = "values", sign: int = 1) -> pd.DataFrame:
    """Per layer, the fraction of vectors whose label is confident: the one rule of vocablens.

    The rows counted are those of vector kind ``kind`` on side ``sign`` (default: value vectors,
    ``+1``: what they promote, as in Geva et al. 2022, fig. 3); a row counts when its label is a
    confident *semantic* one (``confident`` and ``label_kind == "semantic"``; see
    :class:`~vocablens.annotate.labeler.ConceptLabeler`): form descriptions never count.

    Args:
        frame: an annotation table (:data:`SCHEMA` columns; ``kind``, ``layer``, ``sign``,
            ``confident`` and ``label_kind`` are read).
        kind: the vector kind to count.
        sign: the side to count.

    Returns:
        One row per layer (ascending): ``layer``, ``n_vectors``, ``fraction`` and one fraction
        column per counted label kind (:data:`FRACTION_KINDS`; they add up to ``fraction``).
        Empty when no row matches.
    """
    rows = frame[(frame["kind"] == kind) & (frame["sign"] == sign)]
    if not len(rows):
        return pd.DataFrame(
            {"layer": pd.Series(dtype="int64"), "n_vectors": pd.Series(dtype="int64"),
             **{c: pd.Series(dtype="float64") for c in ("fraction", *FRACTION_KINDS)}}
        )  # fmt: skip
    confident = rows["confident"].astype(bool).to_numpy()
    kinds = rows["label_kind"].to_numpy()
    parts = pd.DataFrame({"layer": rows["layer"].astype("int64").to_numpy()})
    for label_kind in FRACTION_KINDS:
        parts[label_kind] = confident & (kinds == label_kind)
    parts["fraction"] = parts[list(FRACTION_KINDS)].any(axis=1)
    parts = parts[["layer", "fraction", *FRACTION_KINDS]]
    grouped = parts.astype({c: "float64" for c in ("fraction", *FRACTION_KINDS)}).groupby("layer")
    out = grouped.mean().reset_index()
    out.insert(1, "n_vectors", grouped.size().to_numpy().astype("int64"))
    return out


@dataclass
class Annotations:
    """Concept labels and polysemanticity of projected vectors (see the module docstring).

    Attributes:
        frame: one row per (kind, layer, expert, index, sign), columns :data:`COLUMNS` (+
            :data:`GENERATIVE_COLUMN`), sorted by those keys; ``explained_tokens`` and
            ``top_tokens`` hold lists of strings, ``sides_polysemantic`` is a nullable boolean.
    """

    frame: pd.DataFrame

    def __post_init__(self) -> None:
        """Bring the frame to the schema (columns, order, dtypes)."""
        self.frame = conform(self.frame)

    def __len__(self) -> int:
        """Number of rows (vector sides)."""
        return len(self.frame)

    def to_pandas(self) -> pd.DataFrame:
        """The table as a DataFrame (:attr:`frame` itself, not a copy)."""
        return self.frame

    def confident_fraction(self, kind: str = "values", sign: int = 1) -> pd.DataFrame:
        """The confident fraction per layer: :func:`confident_fraction` of this table."""
        return confident_fraction(self.frame, kind, sign)

    @classmethod
    def concat(cls, parts: list[Annotations]) -> Annotations:
        """One table of several (e.g. annotated layer by layer)."""
        if not parts:
            return cls(empty_frame())
        return cls(pd.concat([p.frame for p in parts], ignore_index=True))

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as Parquet with :data:`SCHEMA`, atomically (never half-written).

        Raises:
            InputError: the output folder does not exist or cannot be written.
        """
        import pyarrow.parquet as pq

        path = check_file_target(path)
        table = pa.Table.from_pandas(
            self.frame, schema=_schema_of(self.frame), preserve_index=False
        )
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
        return path

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Annotations:
        """Read a table written by :meth:`write` (or ``vocablens annotate``).

        Raises:
            ResultFileError: missing, unreadable, or not of :data:`SCHEMA`.
        """
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.is_file():
            raise ResultFileError(f"annotations not found: {path}")
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises many kinds for a bad file
            raise ResultFileError(
                f"cannot read annotations file {path}: {first_line(exc)}"
            ) from exc
        optional = {GENERATIVE_COLUMN, *EVIDENCE_COLUMNS}
        names = [n for n in table.schema.names if n not in optional]
        expected = _schema(GENERATIVE_COLUMN in table.schema.names,
                           EVIDENCE_COLUMNS[0] in table.schema.names)  # fmt: skip
        if names != list(COLUMNS) or not table.schema.equals(expected):
            wrong = [f.name for f in expected if f.name not in table.schema.names]
            detail = f"missing {', '.join(wrong)}" if wrong else "other columns or types"
            raise ResultFileError(f"{path} is not a vocablens annotation table ({detail})")
        frame = table.to_pandas()
        for name in _LISTS:
            frame[name] = [list(v) if v is not None else [] for v in frame[name]]
        return cls(frame)


def empty_frame(generative: bool = False) -> pd.DataFrame:
    """An annotation table with no rows."""
    return _schema(generative).empty_table().to_pandas()
