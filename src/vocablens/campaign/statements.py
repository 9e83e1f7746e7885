"""The rows the campaign API returns and the per-label SQL statements (SQLAlchemy Core).

:func:`statements` builds, once per store, the statements :meth:`CampaignStore.next_item
<vocablens.campaign.store.CampaignStore.next_item>` and :meth:`~vocablens.campaign.store.CampaignStore.submit`
run per label; :func:`item_dict` and :func:`label_dict` shape rows as the API returns them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from vocablens.campaign.models import Adjudication, Assignment, Item, Label


@dataclass(frozen=True)
class Person:
    """An authenticated caller: ``id``, ``name``, ``role``."""

    id: int
    name: str
    role: str


class StoreState:
    """The state a :class:`~vocablens.campaign.store.CampaignStore` sets up, shared by its halves.

    Attributes:
        engine: the campaign database's engine.
        session: the ORM session factory on it.
        overlap: annotators per (non-gold) item.
        show_machine: whether annotators see the machine label.
    """

    engine: Engine
    session: sessionmaker[Session]
    overlap: int
    show_machine: bool
    _sql: dict[str, Any]  # the statements, built once


#: The item columns the API returns (and ``gold``, kept server-side).
_ITEM = (Item.id, Item.model, Item.kind, Item.layer, Item.expert, Item.index, Item.sign,
         Item.manifest_hash, Item.evidence, Item.machine, Item.gold)  # fmt: skip
_LABEL = tuple(Label.__table__.c)


def statements() -> dict[str, Any]:
    """The per-label statements, built once (``:person``, ``:item``, ``:key`` bound per call)."""
    person: Any = sa.bindparam("person")
    item_id: Any = sa.bindparam("item")
    adjudicated = sa.select(Adjudication.item_id)
    labelled = sa.select(Label.item_id).where(Label.annotator_id == person)
    given = sa.select(Assignment.item_id).where(Assignment.annotator_id == person)
    seats = (sa.select(sa.func.count()).select_from(Assignment)
             .where(Assignment.item_id == Item.id, Assignment.slot.is_not(None))
             .scalar_subquery())  # fmt: skip
    return {
        "mine": sa.select(*_ITEM).join(Assignment, Assignment.item_id == Item.id)
        .where(Assignment.annotator_id == person, Item.id.not_in(labelled),
               Item.id.not_in(adjudicated)).order_by(Item.position).limit(1),
        "open": sa.select(Item.id, Item.gold.is_not(None))
        .where(Item.id.not_in(given), Item.id.not_in(adjudicated),
               sa.or_(Item.gold.is_not(None), seats < sa.bindparam("overlap")))
        .order_by(Item.position).limit(1),
        "slots": sa.select(Assignment.slot).where(Assignment.item_id == item_id,
                                                  Assignment.slot.is_not(None)),
        "claim": sa.insert(Assignment),
        "item": sa.select(*_ITEM).where(Item.id == item_id),
        "given": sa.select(Assignment.id).where(Assignment.item_id == item_id,
                                                Assignment.annotator_id == person),
        "adjudicated": sa.select(Adjudication.id).where(Adjudication.item_id == item_id).limit(1),
        "by_key": sa.select(*_LABEL).where(Label.annotator_id == person,
                                           Label.idempotency_key == sa.bindparam("key")),
        "label": sa.insert(Label),
    }  # fmt: skip


def item_dict(item: Any, show_machine: bool) -> dict[str, Any]:
    """An item (a row mapping of :data:`_ITEM`) as the API returns it.

    The machine label only when the campaign shows it.
    """
    return {
        "id": item["id"], "model": item["model"], "kind": item["kind"], "layer": item["layer"],
        "expert": item["expert"], "index": item["index"], "sign": item["sign"],
        "manifest_hash": item["manifest_hash"], "evidence": item["evidence"],
        "machine": item["machine"] if show_machine else None,
    }  # fmt: skip


def label_dict(label: Any) -> dict[str, Any]:
    """A label as the API returns it."""
    return {
        "id": label.id, "item_id": label.item_id, "concept": label.concept,
        "no_concept": label.no_concept, "polysemantic": label.polysemantic,
        "groups": list(label.groups), "confidence": label.confidence, "note": label.note,
        "idempotency_key": label.idempotency_key, "created": label.created.isoformat(),
    }  # fmt: skip
