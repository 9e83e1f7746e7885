"""``vocablens campaign``: create, annotator, status, agreement, export; bad input exits 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from vocablens.campaign.answers import Answer
from vocablens.campaign.store import CampaignStore
from vocablens.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_campaign_from_the_command_line(tmp_path, projections, annotations):
    db = tmp_path / "c.db"
    made = run("campaign", "create", db, "--from", projections, "--annotations", annotations,
               "--overlap", 2)  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "28 items" in made.output
    people = {}
    for name, role in (("ann", "annotator"), ("bob", "annotator"), ("judge", "adjudicator")):
        out = run("campaign", "annotator", db, name, "--role", role)
        assert out.exit_code == 0 and "/a/" in out.output
        people[name] = out.output.split("API token: ")[1].strip()
    store = CampaignStore.open(db)
    for name, concept in (("ann", "animal"), ("bob", "city")):
        person = store.authenticate(people[name])
        for i in range(6):
            item = store.next_item(person)
            store.submit(person, item["id"], Answer.parse({"concept": concept}), f"k{i}")
    judge = store.authenticate(people["judge"])
    for q in store.queue(judge)[:3]:
        store.adjudicate(judge, q["item_id"], Answer.parse({"concept": "animal"}))
    store.close()
    status = run("campaign", "status", db, "--json")
    assert status.exit_code == 0
    info = json.loads(status.output)
    assert info["labels"] == 12 and info["adjudicated_items"] == 3
    agree = run("campaign", "agreement", db)
    assert agree.exit_code == 0 and "Krippendorff" in agree.output
    agree_json = json.loads(run("campaign", "agreement", db, "--json").output)
    assert agree_json["overall"]["labels"] == 12
    for suffix in ("parquet", "jsonl"):
        out = tmp_path / f"labels.{suffix}"
        assert run("campaign", "export", db, "--out", out).exit_code == 0
    frame = pd.read_parquet(tmp_path / "labels.parquet")
    assert (frame["record"] == "label").sum() == 12 and (
        frame["record"] == "adjudicated"
    ).sum() == 3
    assert frame["manifest_hash"].nunique() == 1
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert len(rows) == 15


@pytest.mark.parametrize(
    ("args", "message"),
    [(["create", "{db}", "--from", "{tmp}"], "not a projections folder"),
     (["create", "{db}", "--from", "{proj}", "--overlap", "0"], "--overlap"),
     (["create", "{tmp}/no/c.db", "--from", "{proj}"], "folder does not exist"),
     (["status", "{tmp}/missing.db"], "campaign not found"),
     (["status", "{junk}"], "not a campaign"),
     (["agreement", "{junk}"], "not a campaign"),
     (["annotator", "{junk}", "x"], "not a campaign"),
     (["export", "{junk}", "--out", "{tmp}/x.parquet"], "not a campaign"),
     (["create", "sqlite+nodriver://x", "--from", "{proj}"], "cannot use database")],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(tmp_path, projections, args, message):
    junk = tmp_path / "junk.db"
    junk.write_text("hello")
    fill = {"db": tmp_path / "c.db", "tmp": tmp_path, "proj": projections, "junk": junk}
    result = run("campaign", *[a.format(**fill) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert not (tmp_path / "c.db").exists()


def test_export_refuses_other_formats(tmp_path, projections):
    db = tmp_path / "c.db"
    run("campaign", "create", db, "--from", projections)
    result = run("campaign", "export", db, "--out", tmp_path / "x.csv")
    assert result.exit_code == 2 and ".parquet or .jsonl" in result.output
    assert run("campaign", "annotator", db, "x", "--role", "boss").exit_code == 2
