"""ConceptLabeler's group rules: adjective clusters, supersenses, derivations, two-group lists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vocablens.annotate import ConceptLabeler

NOISE = [" strugg", "ing", ",", " affili", " however", "ynam", " collab"]
PIECES = [" strugg", "ing", ",", " affili", " however", "ynam", " collab", " enthus", " bene", "ed",
          "ly", " reprodu", " sust", " particip"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


def test_adjective_clusters_meet_at_their_attribute(labeler):
    result = labeler.label([" huge", " enormous", " large", " big", " small", " tiny",
                            " massive", " giant", *NOISE])  # fmt: skip
    assert result.confident and result.label == "size"
    assert " small" in result.explained and " enormous" in result.explained


def test_adverbs_reach_their_adjectives(labeler):
    support = labeler.analyse(" quickly").support.get("a", {})
    assert "fast.a.01" in support and "speed.n.02" in support  # quickly -> quick -> fast, speed


def test_colours_stay_colour_not_hue(labeler):
    result = labeler.label([" red", " blue", " green", " yellow", " purple", " black", " white",
                            " gray", *NOISE])  # fmt: skip
    assert result.label == "color"  # an attribute noun is no more specific than its cluster


def test_supersense_names_scattered_topics(labeler):
    result = labeler.label([" anger", " joy", " fear", " sadness", " love", " happiness", *NOISE])
    assert result.confident and result.supersense == "noun.feeling"
    body = labeler.label([" heart", " lung", " liver", " blood", " skin", " bone", *NOISE])
    assert body.confident and body.label == "body"


def test_places_are_named_places(labeler):
    """WordNet files the leading senses of side, post, end, home as locations: no "places"."""
    assert "super:noun.location" in labeler.analyse(" Egypt").support["n"]
    for word in (" side", " post", " end", " home", " left"):
        assert "super:noun.location" not in labeler.analyse(word).support["n"], word
    common = labeler.label([" side", " post", " end", " home", " left", " field", *NOISE])
    assert not (common.semantic and common.label == "places")


def test_derivations_join_parts_of_speech(labeler):
    support = labeler.analyse(" occurrence").support["n"]
    assert "happen.v.01" in support  # occurrence (noun) -> occur/happen (verb)


def test_two_groups_each_a_concept_make_a_polysemantic_list(labeler):
    tokens = [*PIECES[:4], " Monday", " copper", " Tuesday", " iron", " Friday", " zinc",
              *PIECES[4:], *PIECES[:6]]  # fmt: skip
    result = labeler.label(tokens)
    assert result.polysemantic and result.confident and len(result.groups) == 2
    assert all(g.coverage < labeler.min_coverage for g in result.groups)
    lone = ConceptLabeler(pair_coverage=None, theme_similarity=None).fit().label(tokens)
    assert not lone.polysemantic  # without the rule: no single group reaches min_coverage


def test_function_words_beside_a_topic_are_not_a_second_meaning(labeler):
    days = [" Monday", " Tuesday", " Friday", " Sunday", " Saturday", " Wednesday"]
    tokens = [*days, *PIECES[:3], " he", " she", " they", *PIECES[3:]]
    result = labeler.label(tokens)
    assert result.label == "day of the week" and not result.polysemantic
    loose = ConceptLabeler(closed_pair_coverage=None).fit().label(tokens)
    assert loose.polysemantic  # the three pronouns reach group_coverage, not min_coverage


def test_bench_split_halves():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_labels

    cards = [{"id": str(i)} for i in range(1, 8)]
    halves = bench_labels.halves(cards)
    assert [c["id"] for c in halves["tune"]] == ["1", "3", "5", "7"]  # odd-numbered cards
    assert [c["id"] for c in halves["held"]] == ["2", "4", "6"]
