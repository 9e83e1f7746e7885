"""People's labels in the report: adjudicated (else majority) beside the machine label, searchable.

Hostile label text is shown escaped on the pages and is script-safe in the search index.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vocablens.campaign.answers import Answer
from vocablens.campaign.people import PEOPLE_COLUMNS, people_labels
from vocablens.campaign.store import CampaignStore
from vocablens.cli import main
from vocablens.reports.compute import _people
from vocablens.reports.config import ReportConfig
from vocablens.reports.people import add_people, add_people_to_index, people_lookup
from vocablens.reports.render import render_report

from synthetic_report import synthetic_data

EVIL = "<script>alert('people')</script> & \"co\""


def label_everything(store, tokens, answers):
    """Each annotator labels all their items: ``answers[name](item) -> Answer``."""
    for name, token in tokens.items():
        person = store.authenticate(token)
        while (item := store.next_item(person)) is not None:
            store.submit(person, item["id"], answers[name](item), f"{name}-{item['id']}")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, projections):
    db = str(tmp_path_factory.mktemp("people") / "c.db")
    store = CampaignStore.create(db, projections, overlap=3)
    tokens = {n: store.add_person(n)[1] for n in ("ann", "bob", "cy")}
    judge = store.authenticate(store.add_person("judge", "adjudicator")[1])

    def agree(item):  # everyone agrees on index 0, +1 side; no concept on the -1 side
        if item["sign"] < 0:
            return Answer(no_concept=True)
        return Answer(concept="Animal" if item["index"] == 0 else f"x{item['index']}")

    answers = {"ann": agree, "bob": agree,
               "cy": lambda item: Answer(concept="city") if item["index"] == 1 else agree(item)}  # fmt: skip
    answers["ann"] = lambda item: Answer(concept="colour") if item["index"] == 1 else agree(item)
    label_everything(store, tokens, answers)
    disputed = next(
        q
        for q in store.queue(judge)
        if (q["kind"], q["layer"], q["index"], q["sign"]) == ("values", 1, 1, 1)
    )
    store.adjudicate(judge, disputed["item_id"], Answer(concept=EVIL))
    people = people_labels(store)
    store.close()
    return db, people


def test_people_labels_table(campaign):
    _, people = campaign
    assert list(people.columns) == list(PEOPLE_COLUMNS)
    people = people[people["kind"] == "values"]
    row = people[(people["layer"] == 1) & (people["index"] == 1) & (people["sign"] == 1)].iloc[0]
    assert row["label"] == EVIL and row["adjudicated"] and row["n_labels"] == 3  # as typed
    row = people[(people["layer"] == 0) & (people["index"] == 0) & (people["sign"] == 1)].iloc[0]
    assert row["label"] == "Animal" and not row["adjudicated"]
    neg = people[people["sign"] == -1]
    assert (neg["label"] == "(no concept)").all() and len(neg) == 10  # index 1: disputed
    # layer 0, index 1: three different answers and no adjudication -> no row
    assert people[(people["layer"] == 0) & (people["index"] == 1) & (people["sign"] == 1)].empty


def test_report_shows_and_searches_people_labels(campaign, tmp_path):
    _, people = campaign
    data = synthetic_data(n_layers=2, d_mlp=6)
    data.umap = None
    data.people = people
    out = render_report(data, tmp_path / "report", progress=False)
    page = (out / "layer_001.html").read_text(encoding="utf-8")
    assert "<script>alert('people')" not in page
    assert "people: &lt;script&gt;alert(&#39;people&#39;)&lt;/script&gt; &amp; &#34;co&#34;" in page
    assert "(adjudicated)" in page and "majority of 3" in page
    script = (out / "search-index.js").read_text(encoding="utf-8")
    assert "</script>" not in script and "<script>" not in script
    index = json.loads(script.split("=", 1)[1].strip().rstrip(";"))
    assert len(index["people"]) == len(index["neurons"])
    n = next(i for i, r in enumerate(index["neurons"]) if r[0] == 1 and r[1] == 1)
    label_id, adjudicated = index["people"][n]
    assert index["labels"][label_id] == EVIL and adjudicated == 1
    m = next(i for i, r in enumerate(index["neurons"]) if r[0] == 0 and r[1] == 0)
    assert index["labels"][index["people"][m][0]] == "Animal" and index["people"][m][1] == 0


def test_no_campaign_leaves_rows_and_index_as_they_are():
    index = {"labels": ["a"], "neurons": [[0, 1, 0, -1, 1, [], []]], "heads": []}
    assert add_people_to_index(index, {}) == {"labels": ["a"], "neurons": index["neurons"],
                                              "heads": []}  # fmt: skip
    assert people_lookup(None) == {}
    assert add_people([{"index": 1}], 0, {}) == [{"index": 1, "people": None,
                                                  "people_suppressed": None}]  # fmt: skip


def test_compute_side_reads_the_campaign(campaign, tmp_path):
    db, people = campaign
    notes: list[str] = []
    got = _people(ReportConfig(campaign=db), notes)
    assert got.equals(people) and "1 adjudicated" in notes[0]
    assert _people(ReportConfig(), notes) is None


def test_report_cli_refuses_a_non_campaign(tmp_path):
    bad = tmp_path / "not.db"
    bad.write_text("hello")
    result = CliRunner().invoke(main, ["report", "no-such-model", "--campaign", str(bad),
                                       "--out", str(tmp_path / "r")])  # fmt: skip
    assert result.exit_code == 2 and "not a campaign" in result.output
