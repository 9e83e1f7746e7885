"""Agreement statistics against hand-computed values, gold accuracy, machine vs people."""

from __future__ import annotations

import math

import pytest

from vocablens.campaign.agreement import agreement
from vocablens.campaign.answers import Answer
from vocablens.campaign.store import CampaignStore


def answer(value):
    if value is None:
        return Answer.parse({"no_concept": True})
    if isinstance(value, tuple):
        return Answer.parse({"polysemantic": True, "groups": list(value)})
    return Answer.parse({"concept": value})


@pytest.fixture
def campaign(tmp_path, projections, annotations):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"kind": "values", "layer": 0, "index": 0, "sign": 1, "label": "animal"}\n')
    store = CampaignStore.create(tmp_path / "c.db", projections, annotations=annotations,
                                 overlap=3, gold=gold, sample=4)  # fmt: skip
    yield store
    store.close()


def fill(store, plan):
    """plan: {annotator: [value per item, in the order they get items]}."""
    people = {name: store.add_person(name)[0] for name in plan}
    for name, values in plan.items():
        for i, value in enumerate(values):
            item = store.next_item(people[name])
            store.submit(people[name], item["id"], answer(value), f"{name}{i}")
    return people


def test_perfect_agreement(campaign):
    fill(campaign, {n: ["a", "b", "c", "d", "e"] for n in ("x", "y", "z")})
    report = agreement(campaign)
    assert report.overall["items"] == 5
    for key in ("alpha_nominal", "alpha_masi", "fleiss_kappa"):
        assert report.overall[key] == pytest.approx(1.0)
    assert (report.pairs["kappa"] == 1.0).all()


def test_two_coders_match_a_hand_computed_alpha(campaign):
    # two coders, 5 items, values a a b b c / a b b b c: Krippendorff's nominal alpha by hand:
    # coincidence matrix o: a-a 2, a-b 1, b-a 1, b-b 4, c-c 2 (n = 10); n_a=3, n_b=5, n_c=2
    # D_o = 2/10, D_e = (3*5 + 5*3 + 3*2 + 2*3 + 5*2 + 2*5) / (10*9) = 62/90
    fill(campaign, {"x": ["a", "a", "b", "b", "c"], "y": ["a", "b", "b", "b", "c"]})
    report = agreement(campaign)
    assert report.overall["alpha_nominal"] == pytest.approx(1 - (2 / 10) / (62 / 90))
    # Cohen's kappa: p_o = 4/5, p_e = (2*1 + 2*3 + 1*1)/25 = 9/25
    assert report.pairs["kappa"].iloc[0] == pytest.approx((4 / 5 - 9 / 25) / (1 - 9 / 25))


def test_label_sets_and_gold(campaign):
    people = fill(
        campaign, {"x": [("dogs", "cats"), "a", None], "y": [("cats", "dogs"), "a", None]}
    )
    report = agreement(campaign)
    assert report.overall["alpha_masi"] == pytest.approx(1.0)
    gold = report.annotators.set_index("annotator")["gold_items"]
    assert gold.sum() <= len(people)  # the gold item, when it came up
    assert not math.isnan(report.overall["alpha_nominal"])


def test_machine_against_adjudicated(campaign):
    judge, _ = campaign.add_person("judge", "adjudicator")
    from vocablens.campaign.tables import items_frame

    items = items_frame(campaign)
    for item_id, machine in zip(items["item_id"], items["machine"], strict=True):
        truth = machine["raw"]["label"] if machine else "x"
        campaign.adjudicate(judge, int(item_id), answer(truth))
    machine = agreement(campaign).machine
    assert len(machine) and (machine["precision"].dropna() == 1.0).all()
    assert (machine["recall"].dropna() <= 1.0).all() and (machine["readout"] == "raw").all()
