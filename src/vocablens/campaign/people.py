"""The people's label of each item, for the report: adjudicated, else the annotators' majority.

:func:`people_labels` is what ``vocablens report --campaign DB`` reads (the compute side of the
report; nothing here touches a model). Text is returned exactly as it was typed; the report
escapes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from vocablens.campaign.answers import NO_CONCEPT
from vocablens.campaign.tables import adjudications_frame, current_labels, labels_frame

if TYPE_CHECKING:
    from vocablens.campaign.store import CampaignStore

#: The columns of :func:`people_labels`.
PEOPLE_COLUMNS = ("kind", "layer", "expert", "index", "sign", "label", "adjudicated", "n_labels")


def shown_label(no_concept: bool, polysemantic: bool, concept: str, groups: list) -> str:
    """A label as a report shows it: the concept as typed, its groups, or "(no concept)"."""
    if no_concept:
        return NO_CONCEPT
    if polysemantic and groups:
        return " | ".join(str(g) for g in groups)
    return concept


def people_labels(store: CampaignStore) -> pd.DataFrame:
    """One row per item the people have settled: :data:`PEOPLE_COLUMNS`.

    ``adjudicated`` items take their final (latest) adjudication; other items take the value
    that more than half of their current labels share (at least two labels), shown as the first
    annotator who gave it typed it. ``n_labels`` counts the item's current labels. Items
    without a settled label have no row.
    """
    key = ["kind", "layer", "expert", "index", "sign"]
    rows: list[dict] = []
    final = adjudications_frame(store)
    done = set(final["item_id"].tolist())
    current = current_labels(labels_frame(store))
    counts = current.groupby("item_id").size().to_dict()
    for r in final.itertuples(index=False):
        text = shown_label(r.no_concept, r.polysemantic, r.concept, r.groups)
        rows.append({**{k: getattr(r, k) for k in key}, "label": text, "adjudicated": True,
                     "n_labels": int(counts.get(r.item_id, 0))})  # fmt: skip
    for item_id, part in current.groupby("item_id", sort=True):
        if item_id in done or len(part) < 2:
            continue
        tally = part["value"].value_counts()
        if tally.iloc[0] * 2 <= len(part):
            continue
        first = part[part["value"] == tally.index[0]].iloc[0]
        text = shown_label(first["no_concept"], first["polysemantic"], first["concept"],
                           first["groups"])  # fmt: skip
        rows.append({**{k: first[k] for k in key}, "label": text, "adjudicated": False,
                     "n_labels": len(part)})  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(PEOPLE_COLUMNS))
    return frame.astype({"layer": "int64", "expert": "int64", "index": "int64", "sign": "int64",
                         "adjudicated": bool, "n_labels": "int64"})  # fmt: skip


def read_people_labels(db: str | Path) -> pd.DataFrame:
    """Open the campaign ``db`` (a path or an SQLAlchemy URL) and return :func:`people_labels`.

    Raises:
        CampaignError: ``db`` is not a campaign.
    """
    from vocablens.campaign.store import CampaignStore

    store = CampaignStore.open(db)
    try:
        return people_labels(store)
    finally:
        store.close()
