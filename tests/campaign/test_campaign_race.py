"""The assignment race: two people taking an item's last seat at once never both get it.

Seats are numbered (``Assignment.slot`` < overlap, unique per item), so the later insert fails.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from vocablens.campaign.models import Assignment, Item
from vocablens.campaign.store import CampaignStore


def seats(store):
    with store.engine.connect() as c:
        rows = c.execute(sa.select(Assignment.item_id, Assignment.slot)).all()
    return Counter(item for item, _ in rows), rows


def test_a_stale_claim_of_the_last_seat_fails(tmp_path, projections):
    store = CampaignStore.create(tmp_path / "c.db", projections, overlap=1)
    ann, bob = (store.add_person(n)[0] for n in ("ann", "bob"))
    first = store.next_item(ann)
    # bob read the campaign before ann's claim landed: the item looks free, its seat 0 empty
    given = sa.select(Assignment.item_id).where(Assignment.annotator_id == sa.bindparam("person"))
    store._sql["open"] = (sa.select(Item.id, Item.gold.is_not(None))
                          .where(Item.id.not_in(given), sa.bindparam("overlap") > 0)
                          .order_by(Item.position).limit(1))  # fmt: skip
    store._sql["slots"] = sa.select(Assignment.slot).where(
        Assignment.item_id == sa.bindparam("item"), sa.false()
    )
    with store.engine.connect() as c:
        assert store._claim(c, bob) is False  # the insert of seat 0 failed: try again
    count, _ = seats(store)
    assert count == {first["id"]: 1}
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_claims_never_overshoot(backend, tmp_path, projections, request):
    db = str(tmp_path / "c.db") if backend == "sqlite" else request.getfixturevalue("postgres")()
    store = CampaignStore.create(db, projections, overlap=2)
    people = [store.add_person(f"p{i}")[0] for i in range(8)]
    barrier = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def claim(person):
        try:
            barrier.wait()
            for _ in range(3):
                store.next_item(person)
                store._people.clear()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    count, rows = seats(store)
    assert max(count.values()) <= 2
    assert len(rows) == len(set(rows))  # every (item, slot) once
    store.close()
