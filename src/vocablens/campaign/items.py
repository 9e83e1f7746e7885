"""Campaign items from a projection folder (and optionally an annotation file and a gold file).

One item per (model, kind, layer, expert, index, sign). Its evidence is what the projection
shows of the vector: the promoted (``sign +1``) and suppressed (``sign -1``) tokens under each
readout (a ``readout`` column when the projections have one, else ``"raw"``), and the top
source -> output pairs of head kinds (``ov``, ``qk``). Tokens are stored in their shown form
(:func:`vocablens.tokens.shown`). The machine label of an annotation file is kept per readout,
and hidden from annotators unless the campaign shows it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vocablens.campaign.db import CampaignError
from vocablens.errors import VocabLensError, first_line
from vocablens.project.files import MANIFEST, read_manifest, read_projections
from vocablens.tokens import shown

KEYS = ("kind", "layer", "expert", "index", "sign")
DEFAULT_READOUT = "raw"
#: Tokens per side and pairs per head kept as evidence.
EVIDENCE_K = 30
#: Top-activating contexts kept per value vector and sign, and the characters of text before each.
CONTEXTS = 5
_PREFIX_CHARS = 60


@dataclass
class Source:
    """What a campaign is created from.

    Attributes:
        model: the model's name (from the manifest).
        source: the projection folder, as given.
        manifest_hash: SHA-256 of ``manifest.json``.
        items: one dict per item: :data:`KEYS`, ``evidence``, ``machine``, ``gold``.
    """

    model: str
    source: str
    manifest_hash: str
    items: list[dict[str, Any]]


def manifest_hash(folder: Path) -> str:
    """SHA-256 (hex) of a projection folder's ``manifest.json``."""
    return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()


def _key(row: Any) -> tuple:
    return (str(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]))


def _evidence(frame: pd.DataFrame) -> dict[tuple, dict[str, Any]]:
    """Per vector (kind, layer, expert, index): readouts -> promoted/suppressed, and pairs."""
    if "readout" not in frame.columns:
        frame = frame.assign(readout=DEFAULT_READOUT)
    frame = frame[frame["rank"] < EVIDENCE_K]
    frame = frame.sort_values(["kind", "layer", "expert", "index", "readout", "sign", "rank"])
    out: dict[tuple, dict[str, Any]] = {}
    cols = ["kind", "layer", "expert", "index", "readout", "sign"]
    for (kind, layer, expert, index, readout, sign), part in frame.groupby(cols, sort=False):
        vector = out.setdefault((str(kind), int(layer), int(expert), int(index)),
                                {"readouts": {}, "pairs": {}, "signs": set()})  # fmt: skip
        vector["signs"].add(int(sign))
        side = "promoted" if int(sign) > 0 else "suppressed"
        tokens = [shown(str(t)) for t in part["token"].tolist()]
        vector["readouts"].setdefault(str(readout), {"promoted": [], "suppressed": []})[side] = (
            tokens
        )
        src = part["src_token_id"].to_numpy() if "src_token_id" in part else np.full(len(part), -1)
        if int(sign) > 0 and (src >= 0).any():
            srcs = [shown(str(t)) for t in part["src_token"].tolist()]
            vector["pairs"][str(readout)] = [[s, t] for s, t in zip(srcs, tokens, strict=True)]
    return out


def _column(table: pd.DataFrame, name: str, default: Any) -> list:
    return table[name].tolist() if name in table.columns else [default] * len(table)


def read_machine_labels(path: Path) -> dict[tuple, dict[str, dict[str, Any]]]:
    """Machine labels per item key and readout from an annotation file (read defensively).

    Needs ``kind``, ``layer``, ``index``, ``sign``, ``label``; ``expert`` (-1), ``label_kind``,
    ``confident``, ``polysemantic``, ``label_score`` and ``readout`` are read when present.

    Raises:
        CampaignError: the file is missing, unreadable or lacks a needed column.
    """
    import pyarrow.parquet as pq

    if not path.is_file():
        raise CampaignError(f"annotations not found: {path}")
    try:
        table = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises many kinds for a bad file
        raise CampaignError(f"cannot read annotations file {path}: {first_line(exc)}") from exc
    missing = [c for c in ("kind", "layer", "index", "sign", "label") if c not in table.columns]
    if missing:
        raise CampaignError(f"{path} is not an annotation table: no column {missing[0]!r}")
    rows = zip(table["kind"], table["layer"], _column(table, "expert", -1), table["index"],
               table["sign"], strict=True)  # fmt: skip
    fields = {name: _column(table, name, default) for name, default in
              (("label", ""), ("label_kind", ""), ("confident", False), ("polysemantic", False),
               ("label_score", None), ("readout", DEFAULT_READOUT))}  # fmt: skip
    out: dict[tuple, dict[str, dict[str, Any]]] = {}
    for i, row in enumerate(rows):
        label = fields["label"][i]
        score = fields["label_score"][i]
        out.setdefault(_key(row), {})[str(fields["readout"][i])] = {
            "label": "" if label is None or label != label else str(label),
            "label_kind": str(fields["label_kind"][i] or ""),
            "confident": bool(fields["confident"][i]),
            "polysemantic": bool(fields["polysemantic"][i]),
            "score": None if score is None or score != score else float(score),
        }
    return out


def read_gold(path: Path) -> dict[tuple, str]:
    """Known answers: a CSV, JSONL or Parquet file with kind, layer, index, sign, label[, expert].

    Raises:
        CampaignError: missing, unreadable, or without those columns.
    """
    if not path.is_file():
        raise CampaignError(f"gold file not found: {path}")
    try:
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
        elif path.suffix in (".jsonl", ".json"):
            table = pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()
                                  if line.strip()])  # fmt: skip
        else:
            table = pd.read_csv(path, keep_default_na=False)
    except Exception as exc:  # pandas / json raise many kinds
        raise CampaignError(f"cannot read gold file {path}: {first_line(exc)}") from exc
    missing = [c for c in ("kind", "layer", "index", "sign", "label") if c not in table.columns]
    if missing:
        raise CampaignError(f"{path} is not a gold file: no column {missing[0]!r}")
    try:
        rows = zip(table["kind"], table["layer"], _column(table, "expert", -1), table["index"],
                   table["sign"], strict=True)  # fmt: skip
        return {_key(row): str(label) for row, label in zip(rows, table["label"], strict=True)}
    except (TypeError, ValueError) as exc:
        raise CampaignError(f"bad row in gold file {path}: {first_line(exc)}") from exc


def _sample(keys: list[tuple], n: int | None, rng: np.random.Generator) -> list[tuple]:
    """``n`` keys stratified by layer (as even a share per layer as the layers allow)."""
    if n is None or n >= len(keys):
        return keys
    by_layer: dict[int, list[tuple]] = {}
    for key in keys:
        by_layer.setdefault(key[1], []).append(key)
    pools = {layer: [group[i] for i in rng.permutation(len(group))]
             for layer, group in sorted(by_layer.items())}  # fmt: skip
    chosen: list[tuple] = []
    while len(chosen) < n:
        for pool in pools.values():
            if pool and len(chosen) < n:
                chosen.append(pool.pop())
    return chosen


def read_contexts(folder: Path, n: int = CONTEXTS) -> dict[tuple, list[dict[str, Any]]]:
    """The top-``n`` activating contexts per value-vector item, from a corpus run's folder.

    Keys are item keys (``values``, layer, expert, index, sign); each context is
    ``{"prefix", "token", "next", "activation"}``, the text as display strings.

    Raises:
        CampaignError: not a finished activations folder.
    """
    from vocablens.activations.files import read_activations
    from vocablens.tokens import visible

    try:
        found = read_activations(folder)
    except VocabLensError as exc:
        raise CampaignError(str(exc)) from exc
    ctx = found.contexts
    ctx = ctx[ctx["rank"] < n].sort_values(["layer", "expert", "index", "sign", "rank"])
    out: dict[tuple, list[dict[str, Any]]] = {}
    for row in ctx.itertuples():
        nxt = row.next_token if isinstance(row.next_token, str) else ""
        key = ("values", int(row.layer), int(row.expert), int(row.index), int(row.sign))
        out.setdefault(key, []).append({
            "prefix": visible(str(row.prefix))[-_PREFIX_CHARS:], "token": shown(str(row.token)),
            "next": shown(nxt) if nxt else "", "activation": round(float(row.activation), 4),
        })  # fmt: skip
    return out


def load_source(
    folder: str | Path,
    annotations: str | Path | None = None,
    gold: str | Path | None = None,
    sample: int | None = None,
    seed: int = 0,
    activations: str | Path | None = None,
) -> Source:
    """Read and check everything a campaign is made of (nothing is written).

    Args:
        folder: a projection folder (``vocablens project``).
        annotations: an annotation file (``vocablens annotate``) for the machine labels.
        gold: a file of known answers; gold items are always included.
        sample: how many (non-gold) items, stratified by layer; None for all.
        seed: seed of the sample and of the item order.
        activations: a corpus run's folder (``vocablens activations``): each value vector's
            top-activating contexts join its evidence.

    Raises:
        CampaignError: a bad folder or file, a gold row that names no item, a bad sample.
    """
    folder = Path(folder)
    if sample is not None and sample < 1:
        raise CampaignError(f"--sample must be a positive number, got {sample}")
    try:
        manifest = read_manifest(folder)
        frame = read_projections(folder)
    except VocabLensError as exc:
        raise CampaignError(str(exc)) from exc
    if not len(frame):
        raise CampaignError(f"{folder} holds no finished projections")
    digest = manifest_hash(folder)
    evidence = _evidence(frame)
    machine = read_machine_labels(Path(annotations)) if annotations is not None else {}
    answers = read_gold(Path(gold)) if gold is not None else {}
    contexts = read_contexts(Path(activations)) if activations is not None else {}
    keys = [
        (*vector, sign) for vector, ev in evidence.items() for sign in sorted(ev["signs"])[::-1]
    ]
    unknown = [key for key in answers if key not in set(keys)]
    if unknown:
        raise CampaignError(f"gold item {unknown[0]} is not in the projections")
    rng = np.random.default_rng(seed)
    chosen = _sample([key for key in keys if key not in answers], sample, rng) + list(answers)
    order = rng.permutation(len(chosen))
    items = []
    model = str(manifest.get("model", "unknown"))
    for position, i in enumerate(order):
        key = chosen[int(i)]
        ev = evidence[key[:4]]
        items.append({
            **dict(zip(KEYS, key, strict=True)), "model": model, "position": position,
            "manifest_hash": digest, "machine": machine.get(key, {}),
            "evidence": {"readouts": ev["readouts"], "pairs": ev["pairs"],
                         "contexts": contexts.get(key, [])},
            "gold": answers.get(key),
        })  # fmt: skip
    return Source(model=model, source=str(folder), manifest_hash=digest, items=items)
