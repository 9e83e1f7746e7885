"""A campaign end to end on SmolLM2 (the issue's "Done when").

Project two layers' value vectors, ``campaign create`` and ``campaign annotator`` from the CLI,
three annotators labelling (one in headless Chromium from the keyboard, two through the JSON
API of the real server), ``campaign agreement``, an adjudicator resolving a disagreement through
the API, ``campaign export``, and the report showing the adjudicated label beside the vector.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from vocablens.campaign.loadtest import free_port, start_server
from vocablens.cli import main

pytestmark = pytest.mark.slow  # the ``smollm2`` fixture (tests/conftest.py) loads the real model

FINAL = 'capital <cities> & "co"'


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="session")
def smollm2_values(smollm2, tmp_path_factory):
    """Value-vector projections of SmolLM2's layers 28-29 (top 10), once per session."""
    from vocablens.project.run import ProjectConfig, project_to_dir

    out = tmp_path_factory.mktemp("smollm2-proj") / "values"
    config = ProjectConfig(model=smollm2, out=out, what="values", layers="28-29", k=10,
                           progress=False)  # fmt: skip
    return project_to_dir(config)


def label_in_browser(browser, base, token, concepts):
    """Label the next items from the keyboard: ``c`` concept box, ``s`` confidence, Enter saves."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{base}/a/{token}/")
    for concept in concepts:
        url = WebDriverWait(browser, 30).until(
            lambda d: "/item/" in d.current_url and d.current_url
        )
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys("c")
        box = browser.find_element(By.ID, "concept")
        box.send_keys(concept)
        box.send_keys(Keys.ESCAPE)
        body.send_keys("s")
        body.send_keys(Keys.ENTER)
        WebDriverWait(browser, 30).until(lambda d, u=url: d.current_url != u)


def label_by_api(client, token, concept_of):
    """Label every item the API gives this annotator; returns how many."""
    headers = {"Authorization": f"Bearer {token}"}
    n = 0
    while (item := client.get("/api/next", headers=headers).json()["item"]) is not None:
        body = {"item_id": item["id"], "concept": concept_of(item), "confidence": 0.67}
        r = client.post("/api/labels", json=body, headers={**headers, "Idempotency-Key": f"{n}"})
        assert r.status_code == 201, r.text
        n += 1
    return n


def test_campaign_end_to_end_on_smollm2(smollm2, smollm2_values, browser, tmp_path):
    import httpx

    from vocablens.reports import generate_report

    db = tmp_path / "campaign.db"
    assert "6 items" in run("campaign", "create", db, "--from", smollm2_values, "--overlap", 3,
                            "--sample", 6)  # fmt: skip
    tokens = {}
    for name, role in (("ann", "annotator"), ("bob", "annotator"), ("cy", "annotator"),
                       ("judge", "adjudicator")):  # fmt: skip
        tokens[name] = (
            run("campaign", "annotator", db, name, "--role", role).split("API token: ")[1].strip()
        )
    port = free_port()
    server = start_server(str(db), port)
    base = f"http://127.0.0.1:{port}"
    try:
        label_in_browser(browser, base, tokens["ann"], ["animal", "animal"])
        with httpx.Client(base_url=base, timeout=10) as client:
            assert label_by_api(client, tokens["ann"], lambda item: "animal") == 4
            assert label_by_api(client, tokens["bob"], lambda item: "animal") == 6
            assert label_by_api(client, tokens["cy"], lambda item: "city") == 6
            judge = {"Authorization": f"Bearer {tokens['judge']}"}
            queue = client.get("/api/adjudication", headers=judge).json()
            items = queue["items"]
            assert len(items) == 6  # cy disagrees everywhere
            target = items[0]
            r = client.post("/api/adjudications", headers=judge,
                            json={"item_id": target["item_id"], "concept": FINAL})  # fmt: skip
            assert r.status_code == 201, r.text
            refused = client.post("/api/adjudications", json={"item_id": target["item_id"],
                                  "concept": "x"}, headers={"Authorization": f"Bearer {tokens['bob']}"})  # fmt: skip
            assert refused.status_code == 403
    finally:
        server.kill()
        server.wait()

    agreement = json.loads(run("campaign", "agreement", db, "--json"))
    assert agreement  # the statistics ran on the real labels
    export = tmp_path / "labels.parquet"
    run("campaign", "export", db, "--out", export)
    rows = pd.read_parquet(export)
    assert (rows["record"] == "label").sum() == 18
    final = rows[rows["record"] == "adjudicated"]
    assert final["concept"].tolist() == [FINAL] and final["person"].tolist() == ["judge"]
    assert rows["manifest_hash"].nunique() == 1
    assert rows[rows["record"] == "label"]["note"].notna().all()

    layer = int(target["layer"])
    folder = generate_report(smollm2, ["The capital of France is"], layers=str(layer),
                             out=tmp_path / "report", progress=False, annotate=False, umap=False,
                             ov=False, campaign=str(db))  # fmt: skip
    page = (folder / f"layer_{layer:03d}.html").read_text(encoding="utf-8")
    row = page.split(f'<tr id="n{target["index"]}">')[1].split("</tr>")[0]
    side = "people: " if target["sign"] > 0 else "people, suppressed side: "
    assert f"{side}capital &lt;cities&gt; &amp; &#34;co&#34;" in row and "(adjudicated)" in row
    assert "capital <cities>" not in page
    index = (folder / "search-index.js").read_text(encoding="utf-8")
    assert "capital \\u003ccities\\u003e" in index
