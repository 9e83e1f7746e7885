"""A campaign's value-vector items carry the top-activating contexts of a corpus run."""

from __future__ import annotations

import pytest
from act_helpers import model_dir, run, write_corpus
from click.testing import CliRunner

from vocablens.activations.files import read_activations
from vocablens.campaign.answers import Answer
from vocablens.campaign.store import CampaignStore
from vocablens.cli import main
from vocablens.project.run import ProjectConfig, project_to_dir


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("ctx")
    model = model_dir("llama", root / "model")
    acts = run(model, root / "acts", write_corpus(root / "corpus.jsonl"))
    proj = project_to_dir(ProjectConfig(model=str(model), out=root / "proj", what="values", k=5,
                                        progress=False))  # fmt: skip
    return root, acts, proj


def test_items_show_where_each_neuron_fires(folders, tmp_path):
    _, acts, proj = folders
    store = CampaignStore.create(tmp_path / "c.db", proj, activations=acts, overlap=1)
    person, _ = store.add_person("ann")
    found = read_activations(acts).contexts
    checked = 0
    for _ in range(6):
        item = store.next_item(person)
        store.submit(person, item["id"], Answer.parse({"no_concept": True}), f"k{item['id']}")
        ctx = item["evidence"]["contexts"]
        mine = found[(found["layer"] == item["layer"]) & (found["index"] == item["index"])
                     & (found["sign"] == item["sign"])].sort_values("rank")  # fmt: skip
        assert len(ctx) == min(len(mine), 5)
        assert [c["activation"] for c in ctx] == [
            round(float(a), 4) for a in mine["activation"][:5]
        ]
        checked += bool(ctx)
    store.close()
    assert checked > 0


def test_a_folder_that_is_not_a_run_is_one_line(folders, tmp_path):
    _, _, proj = folders
    res = CliRunner().invoke(main, ["campaign", "create", str(tmp_path / "c.db"), "--from",
                                    str(proj), "--activations", str(proj)])  # fmt: skip
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "activations" in res.output
    assert not (tmp_path / "c.db").exists()
