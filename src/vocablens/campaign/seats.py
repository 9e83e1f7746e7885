"""Seat assignment and the items a caller sees: the item half of :class:`~vocablens.campaign.store.CampaignStore`.

An annotator's next item is one already given to them and not yet labelled, else the first item
(campaign order) that has fewer than ``overlap`` annotators, is not adjudicated and was never
given to them. Gold items go to everyone. A claim takes a numbered seat (``Assignment.slot``,
``0 .. overlap-1``, unique per item), so two people taking an item's last seat at once cannot
both get it: the later insert fails and that claimant looks again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vocablens.campaign.errors import Forbidden, NotFound
from vocablens.campaign.models import ADJUDICATOR, Adjudication, Annotator, Assignment, Label, now
from vocablens.campaign.statements import Person, StoreState, item_dict, label_dict


def item_for(c: sa.Connection, sql: dict[str, Any], person: Person, item_id: int) -> Any:
    """The item row (mapping) ``person`` may see, read with the store's statements ``sql``.

    Raises:
        NotFound: no such item; Forbidden: not assigned to ``person`` (adjudicators see all).
    """
    row = c.execute(sql["item"], {"item": item_id}).first()
    if row is None:
        raise NotFound(f"no item {item_id}")
    if person.role != ADJUDICATOR:
        given = c.scalar(sql["given"], {"item": item_id, "person": person.id})
        if given is None:
            raise Forbidden(f"item {item_id} is not assigned to you")
    return row._mapping


class SeatsMixin(StoreState):
    """Items and their claims, for :class:`~vocablens.campaign.store.CampaignStore`."""

    # ----- items ----------------------------------------------------------------------------
    def next_item(self, person: Person) -> dict[str, Any] | None:
        """The caller's next item (claimed for them), or None when they are done."""
        with self.engine.connect() as c:
            mine = c.execute(self._sql["mine"], {"person": person.id}).first()
            if mine is not None:
                return item_dict(mine._mapping, self.show_machine)
            for _ in range(50):
                item = self._claim(c, person)
                if item is not False:
                    return item  # type: ignore[return-value]
        return None

    def _claim(self, c: sa.Connection, person: Person) -> dict[str, Any] | bool | None:
        """Claim a fresh item: the item, None when none is left, False to try again."""
        sql = self._sql
        found = c.execute(sql["open"], {"person": person.id, "overlap": self.overlap}).first()
        if found is None:
            c.rollback()
            return None
        item_id, gold = found
        slot = None
        if not gold:
            taken = set(c.scalars(sql["slots"], {"item": item_id}))
            slot = next(i for i in range(self.overlap + 1) if i not in taken)
            if slot >= self.overlap:  # filled since the first read
                c.rollback()
                return False
        c.rollback()  # end the reads; the claim is a transaction of its own
        try:
            with c.begin():
                c.execute(sql["claim"], {"item_id": item_id, "annotator_id": person.id,
                                         "slot": slot, "created": now()})  # fmt: skip
        except sa.exc.IntegrityError:  # someone took that seat (or this item) first
            return False
        row = c.execute(sql["item"], {"item": item_id}).one()
        c.rollback()
        return item_dict(row._mapping, self.show_machine)

    def item(self, person: Person, item_id: int) -> dict[str, Any]:
        """One item the caller may see (theirs; an adjudicator sees all), with their labels.

        Raises:
            NotFound: no such item; Forbidden: not assigned to the caller.
        """
        with self.engine.connect() as c:
            item = item_for(c, self._sql, person, item_id)
        with self.session() as s:
            out = item_dict(item, self.show_machine or person.role == ADJUDICATOR)
            out["labels"] = [label_dict(r) for r in s.scalars(
                sa.select(Label).where(Label.item_id == item_id, Label.annotator_id == person.id)
                .order_by(Label.id))]  # fmt: skip
            final = s.scalars(sa.select(Adjudication).where(Adjudication.item_id == item_id)
                              .order_by(Adjudication.id.desc())).first()  # fmt: skip
            out["adjudicated"] = final is not None
            if person.role == ADJUDICATOR:
                out["all_labels"] = [{**label_dict(r), "annotator": name} for r, name in s.execute(
                    sa.select(Label, Annotator.name).join(Annotator, Annotator.id == Label.annotator_id)
                    .where(Label.item_id == item_id).order_by(Label.id))]  # fmt: skip
                out["final"] = None if final is None else {
                    "concept": final.concept, "no_concept": final.no_concept,
                    "groups": list(final.groups), "note": final.note}  # fmt: skip
        return out

    def common_concepts(self, person: Person, n: int = 9) -> list[str]:
        """The caller's own most used concepts (the page's one-key answers), most used first."""
        with self.session() as s:
            rows = s.execute(sa.select(Label.concept, sa.func.count().label("n"))
                             .where(Label.annotator_id == person.id, Label.no_concept.is_(False),
                                    Label.polysemantic.is_(False))
                             .group_by(Label.concept).order_by(sa.desc("n"), Label.concept)
                             .limit(n)).all()  # fmt: skip
        return [r[0] for r in rows]

    def my_items(self, person: Person) -> list[int]:
        """The ids of the caller's items, in the order they were given."""
        with self.session() as s:
            return list(s.scalars(sa.select(Assignment.item_id)
                                  .where(Assignment.annotator_id == person.id)
                                  .order_by(Assignment.id)))  # fmt: skip
