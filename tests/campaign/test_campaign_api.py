"""The JSON API and pages (FastAPI's TestClient): tokens, idempotency, one-line 4xx errors."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from vocablens.campaign.app import create_app
from vocablens.campaign.store import CampaignStore


@pytest.fixture(scope="module")
def setup(tmp_path_factory, projections, annotations):
    path = tmp_path_factory.mktemp("api") / "c.db"
    store = CampaignStore.create(path, projections, annotations=annotations, overlap=2)
    tokens = {name: store.add_person(name, role)[1]
              for name, role in (("ann", "annotator"), ("bob", "annotator"),
                                 ("judge", "adjudicator"))}  # fmt: skip
    client = TestClient(create_app(store), raise_server_exceptions=False)
    yield client, tokens, store
    store.close()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def one_line_error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and "\n" not in body["error"] and body["error"]
    assert "Traceback" not in response.text
    return body["error"]


def test_next_submit_progress(setup):
    client, tokens, _ = setup
    h = auth(tokens["ann"])
    assert client.get("/api/me", headers=h).json() == {"name": "ann", "role": "annotator"}
    item = client.get("/api/next", headers=h).json()["item"]
    assert item["machine"] is None and "readouts" in item["evidence"]
    body = {"item_id": item["id"], "concept": "animal", "confidence": 0.67}
    first = client.post("/api/labels", json=body, headers={**h, "Idempotency-Key": "a1"})
    assert first.status_code == 201 and first.json()["created"]
    retry = client.post("/api/labels", json=body, headers={**h, "Idempotency-Key": "a1"})
    assert retry.status_code == 200 and retry.json()["label"]["id"] == first.json()["label"]["id"]
    also = client.post("/api/labels", json={**body, "idempotency_key": "a2"}, headers=h)
    assert also.status_code == 201
    progress = client.get("/api/progress", headers=h).json()
    assert progress["labelled"] == 1 and progress["labels"] == 2
    mine = client.get(f"/api/items/{item['id']}", headers=h).json()
    assert len(mine["labels"]) == 2


def test_bad_requests_are_one_line_4xx(setup):
    client, tokens, store = setup
    h = auth(tokens["bob"])
    item = client.get("/api/next", headers=h).json()["item"]
    ok = {"item_id": item["id"], "concept": "x", "idempotency_key": "k"}
    cases = [
        (client.get("/api/next"), 401),
        (client.get("/api/next", headers=auth("wrong")), 401),
        (client.get("/api/next", headers={"Authorization": "Basic abc"}), 401),
        (client.post("/api/labels", json=ok), 401),
        (client.get("/api/items/99999", headers=h), 404),
        (client.post("/api/labels", json={**ok, "item_id": 99999}, headers=h), 404),
        (client.get("/api/items/abc", headers=h), 422),
        (client.post("/api/labels", content=b"{not json", headers=h), 422),
        (client.post("/api/labels", content=b"\xff\xfe", headers=h), 422),
        (client.post("/api/labels", json={"concept": "x"}, headers=h), 422),
        (client.post("/api/labels", json={**ok, "item_id": "1"}, headers=h), 422),
        (client.post("/api/labels", json={"item_id": item["id"], "concept": "x"}, headers=h), 422),
        (client.post("/api/labels", json={**ok, "confidence": "high"}, headers=h), 422),
        (client.post("/api/labels", json=[1, 2], headers=h), 422),
        (client.post("/api/labels", content=b"x" * 70_000, headers=h), 413),
        (client.post("/api/labels", json={**ok, "note": "n" * 70_000}, headers=h), 413),
        (client.get("/api/adjudication", headers=h), 403),
        (client.post("/api/adjudications", json=ok, headers=h), 403),
        (client.get("/api/nothing-here", headers=h), 404),
        (client.delete("/api/labels", headers=h), 405),
        (client.get("/a/wrong-token/next"), 401),
    ]
    for response, status in cases:
        one_line_error(response, status)
    ann = auth(tokens["ann"])
    ann_item = client.get("/api/next", headers=ann).json()["item"]
    if ann_item["id"] != item["id"]:  # not assigned to bob
        mine = {**ok, "item_id": ann_item["id"], "idempotency_key": "z"}
        other = [i for i in store.my_items(store.authenticate(tokens["ann"]))
                 if i not in store.my_items(store.authenticate(tokens["bob"]))]  # fmt: skip
        if other:
            one_line_error(client.post("/api/labels", json={**mine, "item_id": other[0]},
                                       headers=h), 403)  # fmt: skip
            one_line_error(client.get(f"/api/items/{other[0]}", headers=h), 403)


def test_adjudicated_item_takes_no_more_labels(setup):
    client, tokens, _ = setup
    h, judge = auth(tokens["ann"]), auth(tokens["judge"])
    item = client.get("/api/next", headers=h).json()["item"]
    done = client.post("/api/adjudications", headers=judge,
                       json={"item_id": item["id"], "concept": "city"})  # fmt: skip
    assert done.status_code == 201
    late = client.post("/api/labels", headers={**h, "Idempotency-Key": "late"},
                       json={"item_id": item["id"], "concept": "animal"})  # fmt: skip
    assert "adjudicated" in one_line_error(late, 409)
    one_line_error(client.post("/api/adjudications", headers=judge,
                               json={"item_id": 99999, "concept": "x"}), 404)  # fmt: skip
    assert client.get("/api/adjudication", headers=judge).status_code == 200


def test_hostile_text_is_escaped_on_the_page(setup):
    client, tokens, _ = setup
    h = auth(tokens["ann"])
    item = client.get("/api/next", headers=h).json()["item"]
    text = "<script>alert(1)</script>\"'\x07"
    r = client.post("/api/labels", headers={**h, "Idempotency-Key": "evil"},
                    json={"item_id": item["id"], "concept": text, "note": text})  # fmt: skip
    assert r.status_code == 201 and r.json()["label"]["concept"] == text
    page = client.get(f"/a/{tokens['ann']}/item/{item['id']}").text
    assert "<script>alert(1)" not in page and html.escape(text.split('"')[0]) in page
    # the evidence tokens of the synthetic projections hold <script> too
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_pages_and_static_files(setup):
    client, tokens, _ = setup
    start = client.get(f"/a/{tokens['ann']}/", follow_redirects=True)
    assert start.status_code == 200 and 'id="label-form"' in start.text
    assert "/static/campaign.js" in start.text and "http" not in start.text.split("<body>")[0]
    assert client.get("/static/campaign.js").status_code == 200
    assert client.get("/static/campaign.css").status_code == 200
    queue = client.get(f"/a/{tokens['judge']}/", follow_redirects=True)
    assert queue.status_code == 200 and "Adjudication queue" in queue.text
    one_line_error(client.get(f"/a/{tokens['ann']}/adjudicate"), 403)


def test_suggestions(setup, monkeypatch):
    from vocablens.campaign import suggest

    monkeypatch.setattr(suggest, "_lemmas", lambda: ("cat", "dog", "dog days", "dogma", "zebra"))
    client, tokens, _ = setup
    found = client.get("/api/suggest?q=Dog", headers=auth(tokens["ann"])).json()["suggestions"]
    assert found == ["dog", "dog days", "dogma"]
    assert client.get("/api/suggest?q=", headers=auth(tokens["ann"])).json()["suggestions"] == []
