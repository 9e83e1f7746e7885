"""Export a campaign: one row per label (history included) and one per adjudicated item.

One file, Parquet (``.parquet``) or JSON Lines (``.jsonl``), written atomically. Column
``record`` tells the two kinds of row apart (``"label"``, ``"adjudicated"``); every row carries
the projection's ``manifest_hash``, so it says exactly what the person was shown. Text is
exported exactly as it was typed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from vocablens.atomic import atomic_path, check_file_target
from vocablens.campaign.db import CampaignError
from vocablens.campaign.tables import adjudications_frame, labels_frame

if TYPE_CHECKING:
    from vocablens.campaign.store import CampaignStore

SCHEMA = pa.schema([
    ("record", pa.string()), ("label_id", pa.int64()), ("item_id", pa.int64()),
    ("model", pa.string()), ("kind", pa.string()), ("layer", pa.int32()), ("expert", pa.int32()),
    ("index", pa.int32()), ("sign", pa.int8()), ("manifest_hash", pa.string()),
    ("person", pa.string()), ("concept", pa.string()), ("no_concept", pa.bool_()),
    ("polysemantic", pa.bool_()), ("groups", pa.list_(pa.string())),
    ("confidence", pa.float64()), ("note", pa.string()), ("idempotency_key", pa.string()),
    ("machine_shown", pa.string()), ("machine", pa.string()), ("created", pa.string()),
    ("value", pa.string()),
])  # fmt: skip
FORMATS = (".parquet", ".jsonl")


def export_frame(store: CampaignStore) -> pd.DataFrame:
    """The export table (columns :data:`SCHEMA`): labels first, then adjudicated items."""
    labels = labels_frame(store)
    labels = labels.assign(
        record="label", person=labels["annotator"],
        machine_shown=[json.dumps(s.get("machine"), ensure_ascii=False) if s.get("machine")
                       else None for s in labels["shown"]], machine=None,
    )  # fmt: skip
    adjudicated = adjudications_frame(store)
    adjudicated = adjudicated.assign(
        record="adjudicated", person=adjudicated["adjudicator"], label_id=None, confidence=None,
        idempotency_key=None, machine_shown=None,
        machine=[json.dumps(m, ensure_ascii=False) if m else None for m in adjudicated["machine"]],
    )  # fmt: skip
    frame = pd.concat([labels[SCHEMA.names], adjudicated[SCHEMA.names]], ignore_index=True)
    return frame


def export(store: CampaignStore, out: str | os.PathLike[str]) -> Path:
    """Write the export table to ``out`` (``.parquet`` or ``.jsonl``); returns the path.

    Raises:
        CampaignError: another file extension; InputError: the folder cannot be written.
    """
    out = Path(out)
    if out.suffix not in FORMATS:
        raise CampaignError(f"export to .parquet or .jsonl, not {out.suffix or out.name!r}")
    check_file_target(out)
    frame = export_frame(store)
    with atomic_path(out) as tmp:
        if out.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False)
            pq.write_table(table, tmp, compression="zstd")
        else:
            with open(tmp, "w", encoding="utf-8") as handle:
                for record in frame.astype(object).where(frame.notna(), None).to_dict("records"):
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out
