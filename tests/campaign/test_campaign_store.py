"""The campaign store on SQLite and PostgreSQL: create, people, assignment, labels, status."""

from __future__ import annotations

import pytest

from vocablens.campaign.answers import Answer, BadLabel
from vocablens.campaign.db import CampaignError
from vocablens.campaign.errors import Conflict, Forbidden, NotFound, Unauthorized
from vocablens.campaign.store import CampaignStore


def label(concept="animal", **kw):
    return Answer.parse({"concept": concept, **kw})


@pytest.fixture
def store(db_url, projections, annotations):
    s = CampaignStore.create(db_url, projections, annotations=annotations, overlap=2)
    yield s
    s.close()


def test_create_and_reopen(store, db_url):
    status = store.status()
    assert status["items"] == 2 * (6 + 1) * 2 and status["labels"] == 0
    assert len(status["manifest_hash"]) == 64
    again = CampaignStore.open(db_url)
    assert again.status() == status
    again.close()


def test_assignment_overlap_and_no_repeats(store):
    people = [store.add_person(n)[0] for n in ("ann", "bob", "cy")]
    seen: dict[int, list[str]] = {}
    for p in people:
        while (item := store.next_item(p)) is not None:
            assert p.name not in seen.get(item["id"], [])
            seen.setdefault(item["id"], []).append(p.name)
            store.submit(p, item["id"], label(), f"{p.name}-{item['id']}")
    assert all(len(names) == 2 for names in seen.values())
    assert len(seen) == store.status()["items"]
    assert store.progress(people[0])["open"] == 0


def test_machine_label_hidden_by_default(store, db_url, projections, annotations):
    p, _ = store.add_person("ann")
    assert store.next_item(p)["machine"] is None


def test_idempotency_and_history(store):
    p, _ = store.add_person("ann")
    item = store.next_item(p)
    first, created = store.submit(p, item["id"], label("dog"), "key-1")
    again, created2 = store.submit(p, item["id"], label("something else"), "key-1")
    assert created and not created2 and again["id"] == first["id"] and again["concept"] == "dog"
    store.submit(p, item["id"], label("cat"), "key-2")  # a correction: a new row
    assert [lab["concept"] for lab in store.item(p, item["id"])["labels"]] == ["dog", "cat"]
    assert store.status()["labels"] == 2


def test_hostile_text_is_stored_as_typed(store):
    p, _ = store.add_person("ann")
    item = store.next_item(p)
    text = "<script>alert('x')</script> \"quoted\" \x07bell\ttab"
    store.submit(p, item["id"], label(text, note=text), "k")
    saved = store.item(p, item["id"])["labels"][0]
    assert saved["concept"] == text.strip() and saved["note"] == text


def test_permissions(store):
    ann, token = store.add_person("ann")
    bob, _ = store.add_person("bob")
    judge, _ = store.add_person("judge", "adjudicator")
    assert store.authenticate(token) == ann
    with pytest.raises(Unauthorized):
        store.authenticate("nope")
    with pytest.raises(Unauthorized):
        store.authenticate(None)
    item = store.next_item(ann)
    with pytest.raises(Forbidden):
        store.submit(bob, item["id"], label(), "k")
    with pytest.raises(NotFound):
        store.submit(ann, 10_000, label(), "k")
    with pytest.raises(Forbidden):
        store.adjudicate(ann, item["id"], label())
    with pytest.raises(Forbidden):
        store.queue(ann)
    with pytest.raises(Conflict):
        store.add_person("ann")
    store.adjudicate(judge, item["id"], label("final"))
    with pytest.raises(Conflict):
        store.submit(ann, item["id"], label(), "k2")
    assert store.next_item(bob)["id"] != item["id"]


def test_adjudication_queue(store):
    ann, _ = store.add_person("ann")
    bob, _ = store.add_person("bob")
    judge, _ = store.add_person("judge", "adjudicator")
    a, b = store.next_item(ann), store.next_item(bob)
    assert a["id"] == b["id"]
    store.submit(ann, a["id"], label("dog"), "1")
    store.submit(bob, a["id"], label("Dog "), "1")
    assert store.queue(judge) == []  # case and spaces do not count
    store.submit(bob, a["id"], label("cat"), "2")
    assert [q["item_id"] for q in store.queue(judge)] == [a["id"]]
    store.adjudicate(judge, a["id"], label("animal"))
    assert store.queue(judge) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "needs a concept"), ({"concept": 3}, "must be a string"),
     ({"concept": "x", "confidence": 2}, "between 0 and 1"),
     ({"concept": "x", "no_concept": True}, "no concept"),
     ({"polysemantic": True, "groups": ["a"]}, "two groups"),
     ({"concept": "x" * 501}, "longer than"), ({"concept": "a\x00b"}, "NUL"),
     ({"concept": "x", "colour": 1}, "unknown field"), ([], "JSON object")],
)  # fmt: skip
def test_bad_labels(data, message):
    with pytest.raises(BadLabel, match=message):
        Answer.parse(data)


def test_polysemantic_and_no_concept():
    poly = Answer.parse({"polysemantic": True, "groups": ["days", " months "]})
    assert poly.concept == "days | months" and poly.groups == ("days", "months")
    assert Answer.parse({"no_concept": True}).concept == ""


def test_gold_items_go_to_everyone(tmp_path, projections):
    gold = tmp_path / "gold.csv"
    gold.write_text("kind,layer,index,sign,label\nvalues,0,1,1,animal\nvalues,1,2,-1,none\n")
    store = CampaignStore.create(tmp_path / "c.db", projections, gold=gold, sample=4, overlap=1)
    assert store.status()["items"] == 6 and store.status()["gold_items"] == 2
    for name in ("a", "b"):
        p, _ = store.add_person(name)
        kinds = []
        while (item := store.next_item(p)) is not None:
            kinds.append(item["id"])
            store.submit(p, item["id"], label(), "k" + str(item["id"]))
        assert len(kinds) >= 2
    store.close()


def test_sample_is_stratified_by_layer(tmp_path, projections):
    store = CampaignStore.create(tmp_path / "c.db", projections, sample=6)
    from vocablens.campaign.tables import items_frame

    assert items_frame(store)["layer"].value_counts().to_dict() == {0: 3, 1: 3}
    store.close()


def test_create_refuses_bad_input_and_leaves_nothing(tmp_path, projections):
    target = tmp_path / "c.db"
    with pytest.raises(CampaignError, match="not a projections folder"):
        CampaignStore.create(target, tmp_path)
    with pytest.raises(CampaignError, match="gold item"):
        gold = tmp_path / "g.csv"
        gold.write_text("kind,layer,index,sign,label\nvalues,9,1,1,x\n")
        CampaignStore.create(target, projections, gold=gold)
    with pytest.raises(CampaignError, match="annotations not found"):
        CampaignStore.create(target, projections, annotations=tmp_path / "none.parquet")
    assert list(tmp_path.glob("c.db*")) == []
    (tmp_path / "junk.db").write_text("not a database")
    with pytest.raises(CampaignError, match="not a campaign"):
        CampaignStore.open(tmp_path / "junk.db")
    with pytest.raises(CampaignError, match="not found"):
        CampaignStore.open(tmp_path / "missing.db")


def test_open_refuses_a_database_of_something_else(tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (x)")
    with pytest.raises(CampaignError, match="not a campaign database"):
        CampaignStore.open(other)


def test_postgres_refuses_a_non_empty_database(postgres, projections):
    url = postgres()
    CampaignStore.create(url, projections).close()
    with pytest.raises(CampaignError, match="not empty"):
        CampaignStore.create(url, projections)
