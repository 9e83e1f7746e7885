"""Search by meaning: WordNet neighbourhoods over annotation labels and over projected tokens."""

from __future__ import annotations

import pandas as pd
import pytest

import vocablens
from vocablens import InputError
from vocablens.annotate.concept_search import (
    LABEL_MATCH_COLUMNS,
    TOKEN_MATCH_COLUMNS,
    expand_concept,
    label_terms,
    search_annotations,
    search_concept,
    search_projections,
    token_word,
)
from vocablens.annotate.wordnet import open_wordnet


@pytest.fixture(scope="module")
def wn():
    return open_wordnet()


def _annotations() -> pd.DataFrame:
    labels = [
        ("day of the week", "day_of_the_week.n.01"),
        ("numeral", "numeral.n.01"),
        ("four", "four.n.01"),
        ("plural noun", None),
        ("animal", "animal.n.01"),
        ("", None),
    ]
    return pd.DataFrame(
        {
            "kind": "values",
            "layer": range(len(labels)),
            "expert": -1,
            "index": range(10, 10 + len(labels)),
            "sign": 1,
            "label": [label for label, _ in labels],
            "synset": [synset for _, synset in labels],
            "confident": True,
            "coverage": 0.5,
        }
    )


def test_expand_concept(wn):
    weekday = expand_concept("weekday", wn)
    assert weekday.senses == ("weekday.n.01",)
    assert "day_of_the_week.n.01" in weekday.above
    assert "entity.n.01" not in weekday.above and "abstraction.n.06" not in weekday.above
    number = expand_concept("number", wn)
    assert {"four", "4", "integer"} <= number.lemmas
    assert expand_concept("number.n.02", wn).senses == ("number.n.02",)
    with pytest.raises(InputError, match="synset"):
        expand_concept("nosuchthing.n.07", wn)
    with pytest.raises(InputError, match="empty"):
        expand_concept("  ", wn)


def test_search_annotations_by_meaning(wn):
    ann = _annotations()
    found = search_annotations("weekday", ann, wn)
    assert list(found.label) == ["day of the week"] and list(found.relation) == ["hypernym"]
    assert set(LABEL_MATCH_COLUMNS) <= set(found.columns)
    number = search_annotations("number", ann, wn)
    assert dict(zip(number.label, number.relation, strict=True)) == {
        "numeral": "synonym",  # numeral.n.01 has the lemma "number"
        "four": "hyponym",
    }
    assert list(number.label) == ["numeral", "four"]  # synonym before hyponym
    assert list(search_annotations("Day of the Week", ann, wn).relation) == ["lemma"]
    assert list(search_annotations("plural", ann, wn).relation) == ["text"]
    assert list(search_annotations("animal", ann, wn).relation) == ["lemma"]
    assert len(search_annotations("entity", ann, wn)) == 4  # every WordNet label lies below it


def test_label_terms(wn):
    terms = label_terms("day of the week", "day_of_the_week.n.01", wn)
    assert {"weekday", "monday", "friday"} <= set(terms)
    assert "day of the week" not in terms and "entity" not in terms
    four = label_terms("four", "four.n.01", wn)
    assert {"4", "integer", "number"} <= set(four) and "abstraction" not in four
    assert label_terms("plural noun", None, wn) == ()


def test_token_word():
    assert token_word(" Monday") == "monday"
    assert token_word("\u2423Paris,") == "paris"
    assert token_word("Ġdays") == "days"


def _projections() -> pd.DataFrame:
    lists = {
        (0, 1): [" Monday", " Tuesday", " the", "Friday", " of"],
        (0, 2): [" the", " of", " a", " and", " Sunday"],
        (1, 3): [" dog", " cat", " four", "4", " six"],
        (1, 4): [" the", " of", " a", " and", " in"],
    }
    rows = []
    for (layer, index), tokens in lists.items():
        for sign in (1, -1):
            for rank, token in enumerate(tokens if sign > 0 else tokens[::-1]):
                rows.append({"kind": "values", "readout": "cosine", "layer": layer,
                             "expert": -1, "index": index, "sign": sign, "rank": rank,
                             "token_id": rank, "token": token, "score": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_search_projections_rank_weighted(wn):
    frame = _projections()
    days = search_projections("day of the week", frame, wn=wn)
    assert list(days.columns) == list(TOKEN_MATCH_COLUMNS)
    assert list(zip(days.layer, days["index"], strict=True)) == [(0, 1), (0, 2)]
    weights = [1 / __import__("math").log2(r + 2) for r in range(5)]
    assert days.coverage[0] == pytest.approx((weights[0] + weights[1] + weights[3]) / sum(weights))
    assert days.coverage[1] == pytest.approx(weights[4] / sum(weights))
    assert days.matched[0] == [" Monday", " Tuesday", "Friday"] and days.hits[0] == 3
    assert set(days.readout) == {"cosine"} and set(days.sign) == {1}
    numbers = search_projections("number", frame, wn=wn, min_coverage=0.3)
    assert list(numbers["index"]) == [3] and numbers.matched[0] == [" four", "4", " six"]
    both = search_projections("weekday", frame, sign=None, wn=wn)  # weekday lemmas: mon..fri
    assert set(both.sign) == {1, -1}
    assert search_projections("weekday", frame, kinds=("keys_up",), wn=wn).empty


def test_search_concept_both(wn):
    result = search_concept(
        "weekday", annotations=_annotations(), projections=_projections(), wn=wn
    )
    assert list(result.labels.label) == ["day of the week"]
    assert list(result.tokens["index"]) == [1]  # Monday, Tuesday, Friday; Sunday is no weekday
    assert result.concept.senses == ("weekday.n.01",)
    with pytest.raises(InputError, match="needs"):
        search_concept("weekday")
    assert vocablens.search_concept is search_concept
