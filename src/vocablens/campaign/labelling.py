"""Labels and adjudication: the writing half of :class:`~vocablens.campaign.store.CampaignStore`.

Every write is one transaction (one label, one adjudication). Labels are append-only; a retried
submission with the same idempotency key returns the label it created the first time.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from vocablens.campaign import db as dbm
from vocablens.campaign.answers import Answer
from vocablens.campaign.errors import Conflict, Forbidden, NotFound
from vocablens.campaign.models import ADJUDICATOR, Adjudication, Assignment, Item, Label, now
from vocablens.campaign.seats import item_for
from vocablens.campaign.statements import Person, StoreState, label_dict

if TYPE_CHECKING:
    from vocablens.campaign.store import CampaignStore

MAX_KEY = 200


class LabellingMixin(StoreState):
    """Labels, progress and adjudication, for :class:`~vocablens.campaign.store.CampaignStore`."""

    # ----- labels ---------------------------------------------------------------------------
    def submit(
        self, person: Person, item_id: int, answer: Answer, key: str
    ) -> tuple[dict[str, Any], bool]:
        """Store a label (one transaction); returns it and whether it is new.

        A second call with the same ``key`` from the same person returns the first label.

        Raises:
            CampaignError: a bad key; NotFound, Forbidden: see :meth:`item`; Conflict: the item
                is already adjudicated.
        """
        if not isinstance(key, str) or not key or len(key) > MAX_KEY or "\x00" in key:
            raise dbm.CampaignError(f"an idempotency key must have 1 to {MAX_KEY} characters")
        lookup = {"person": person.id, "key": key}
        with self.engine.connect() as c:
            found = c.execute(self._sql["by_key"], lookup).first()
            if found is not None:
                return label_dict(found), False
            item = item_for(c, self._sql, person, item_id)
            if c.scalar(self._sql["adjudicated"], {"item": item_id}):
                raise Conflict(f"item {item_id} is already adjudicated")
            shown = {"manifest_hash": item["manifest_hash"],
                     "machine": item["machine"] if self.show_machine else None}  # fmt: skip
            values = dict(item_id=item_id, annotator_id=person.id, idempotency_key=key,
                          concept=answer.concept, no_concept=answer.no_concept,
                          polysemantic=answer.polysemantic, groups=list(answer.groups),
                          confidence=answer.confidence, note=answer.note, shown=shown,
                          created=now())  # fmt: skip
            c.rollback()  # end the reads; the label is a transaction of its own
            try:
                with c.begin():
                    inserted = c.execute(self._sql["label"], values).inserted_primary_key
                new_id = inserted[0] if inserted else None
            except sa.exc.IntegrityError:  # the same key raced in from a retry
                found = c.execute(self._sql["by_key"], lookup).first()
                if found is None:
                    raise
                return label_dict(found), False
            return label_dict(SimpleNamespace(id=new_id, **values)), True

    def progress(self, person: Person) -> dict[str, Any]:
        """How far the caller is: items given, items labelled, labels written."""
        with self.session() as s:
            given = s.scalar(sa.select(sa.func.count()).select_from(Assignment)
                             .where(Assignment.annotator_id == person.id))  # fmt: skip
            done = s.scalar(sa.select(sa.func.count(sa.distinct(Label.item_id)))
                            .where(Label.annotator_id == person.id))  # fmt: skip
            labels = s.scalar(sa.select(sa.func.count()).select_from(Label)
                              .where(Label.annotator_id == person.id))  # fmt: skip
        return {"name": person.name, "role": person.role, "assigned": given, "labelled": done,
                "labels": labels, "open": (given or 0) - (done or 0)}  # fmt: skip

    # ----- adjudication ---------------------------------------------------------------------
    def adjudicate(self, person: Person, item_id: int, answer: Answer) -> dict[str, Any]:
        """Record the final label of an item (adjudicators only; a later one supersedes).

        Raises:
            Forbidden: the caller is not an adjudicator; NotFound: no such item.
        """
        if person.role != ADJUDICATOR:
            raise Forbidden("only an adjudicator may adjudicate")
        with self.session() as s, s.begin():
            if s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            row = Adjudication(item_id=item_id, adjudicator_id=person.id, concept=answer.concept,
                               no_concept=answer.no_concept, polysemantic=answer.polysemantic,
                               groups=list(answer.groups), note=answer.note)  # fmt: skip
            s.add(row)
            s.flush()
            return {"id": row.id, "item_id": item_id, "concept": row.concept,
                    "no_concept": row.no_concept, "groups": list(row.groups)}  # fmt: skip

    def queue(self, person: Person | None = None) -> list[dict[str, Any]]:
        """Items whose current labels disagree and that are not adjudicated yet.

        Raises:
            Forbidden: ``person`` is given and is not an adjudicator.
        """
        from vocablens.campaign.tables import disagreements

        if person is not None and person.role != ADJUDICATOR:
            raise Forbidden("only an adjudicator sees the adjudication queue")
        return disagreements(cast("CampaignStore", self))
