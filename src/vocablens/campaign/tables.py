"""The campaign as tables (pandas): every label, the current labels, adjudications, items.

Agreement, the adjudication queue and export are computed from these frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from vocablens.campaign.answers import label_set, nominal
from vocablens.campaign.models import Adjudication, Annotator, Item, Label

if TYPE_CHECKING:
    from vocablens.campaign.store import CampaignStore

ITEM_COLUMNS = ("item_id", "model", "kind", "layer", "expert", "index", "sign", "manifest_hash")


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def items_frame(store: CampaignStore) -> pd.DataFrame:
    """One row per item: :data:`ITEM_COLUMNS`, ``gold`` and ``machine`` (dict per readout)."""
    with store.session() as s:
        rows = [{"item_id": i.id, "model": i.model, "kind": i.kind, "layer": i.layer,
                 "expert": i.expert, "index": i.index, "sign": i.sign,
                 "manifest_hash": i.manifest_hash, "gold": i.gold, "machine": i.machine}
                for i in s.scalars(sa.select(Item).order_by(Item.id))]  # fmt: skip
    return _frame(rows, [*ITEM_COLUMNS, "gold", "machine"])


def labels_frame(store: CampaignStore) -> pd.DataFrame:
    """Every label ever written (history included), oldest first, with its item and annotator.

    Columns: ``label_id``, :data:`ITEM_COLUMNS`, ``annotator``, ``concept``, ``no_concept``,
    ``polysemantic``, ``groups``, ``confidence``, ``note``, ``idempotency_key``, ``shown``,
    ``created``, ``value`` (nominal value) and ``label_set`` (frozenset).
    """
    query = (sa.select(Label, Item, Annotator.name)
             .join(Item, Item.id == Label.item_id)
             .join(Annotator, Annotator.id == Label.annotator_id)
             .order_by(Label.id))  # fmt: skip
    with store.session() as s:
        rows = [{
            "label_id": lab.id, "item_id": it.id, "model": it.model, "kind": it.kind,
            "layer": it.layer, "expert": it.expert, "index": it.index, "sign": it.sign,
            "manifest_hash": it.manifest_hash, "annotator": name, "concept": lab.concept,
            "no_concept": lab.no_concept, "polysemantic": lab.polysemantic,
            "groups": list(lab.groups), "confidence": lab.confidence, "note": lab.note,
            "idempotency_key": lab.idempotency_key, "shown": lab.shown,
            "created": lab.created.isoformat(),
            "value": nominal(lab.no_concept, lab.polysemantic, lab.concept, lab.groups),
            "label_set": label_set(lab.no_concept, lab.polysemantic, lab.concept, lab.groups),
        } for lab, it, name in s.execute(query)]  # fmt: skip
    columns = ["label_id", *ITEM_COLUMNS, "annotator", "concept", "no_concept", "polysemantic",
               "groups", "confidence", "note", "idempotency_key", "shown", "created", "value",
               "label_set"]  # fmt: skip
    return _frame(rows, columns)


def current_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """The latest label of each (annotator, item): corrections replace earlier answers."""
    return labels.drop_duplicates(["annotator", "item_id"], keep="last").reset_index(drop=True)


def adjudications_frame(store: CampaignStore) -> pd.DataFrame:
    """The final label of each adjudicated item (its latest adjudication), with the item."""
    query = (sa.select(Adjudication, Item, Annotator.name)
             .join(Item, Item.id == Adjudication.item_id)
             .join(Annotator, Annotator.id == Adjudication.adjudicator_id)
             .order_by(Adjudication.id))  # fmt: skip
    with store.session() as s:
        rows = [{
            "item_id": it.id, "model": it.model, "kind": it.kind, "layer": it.layer,
            "expert": it.expert, "index": it.index, "sign": it.sign,
            "manifest_hash": it.manifest_hash, "adjudicator": name, "concept": adj.concept,
            "no_concept": adj.no_concept, "polysemantic": adj.polysemantic,
            "groups": list(adj.groups), "note": adj.note, "created": adj.created.isoformat(),
            "value": nominal(adj.no_concept, adj.polysemantic, adj.concept, adj.groups),
            "machine": it.machine,
        } for adj, it, name in s.execute(query)]  # fmt: skip
    columns = [*ITEM_COLUMNS, "adjudicator", "concept", "no_concept", "polysemantic", "groups",
               "note", "created", "value", "machine"]  # fmt: skip
    frame = _frame(rows, columns)
    return frame.drop_duplicates("item_id", keep="last").reset_index(drop=True)


def disagreements(store: CampaignStore) -> list[dict[str, Any]]:
    """Items with two or more current labels that differ and no adjudication, by item id.

    Each: ``item_id``, ``layer``, ``kind``, ``index``, ``sign``, ``expert`` and ``labels``
    (``[{"annotator", "value"}]``).
    """
    current = current_labels(labels_frame(store))
    done = set(adjudications_frame(store)["item_id"])
    out = []
    for item_id, part in current.groupby("item_id", sort=True):
        if item_id in done or len(part) < 2 or part["value"].nunique() < 2:
            continue
        first = part.iloc[0]
        out.append({
            "item_id": int(item_id), "kind": first["kind"], "layer": int(first["layer"]),
            "expert": int(first["expert"]), "index": int(first["index"]),
            "sign": int(first["sign"]),
            "labels": [{"annotator": a, "value": v}
                       for a, v in zip(part["annotator"], part["value"], strict=True)],
        })  # fmt: skip
    return out
