"""Personal names (annotate/names.py): first names and surnames WordNet does not hold."""

from __future__ import annotations

import pytest

from vocablens.annotate import ConceptLabeler
from vocablens.annotate.names import is_personal_name, personal_names

PIECES = [" strugg", "ing", ",", " affili", "ynam", " collab", " enthus", " bene", "ed", "ly",
          " reprodu", " sust", " particip", " dissemin"]  # fmt: skip


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


def test_names_are_capitalized_and_not_common_words(labeler):
    assert {"carl", "paul", "bryan", "thompson"} <= personal_names()

    def name(token: str) -> bool:
        return is_personal_name(labeler.analyse(token), labeler.lexicon_)

    assert name(" Carl") and name("Bryan") and name(" Thompson")
    assert not name(" carl")  # lower case: a piece, not a name
    for word in (" Will", " Mark", " Rose", " Smith", " Young"):  # common words first (a smith)
        assert not name(word), word


def test_a_list_of_first_names_is_a_concept(labeler):
    # SmolLM2 layer 17, neuron 1413, sign -1 (tests/data/judged/, "men's first names"), shortened
    tokens = [" Carl", " Paul", *PIECES[:3], " Charles", " Bryan", *PIECES[3:], "Carl"]
    label = labeler.label(tokens)
    assert label.semantic and label.label == "personal names"
    assert set(label.explained) == {" Carl", " Paul", " Charles", " Bryan", "Carl"}


def test_names_beside_another_meaning_make_a_polysemantic_list(labeler):
    days = [" Monday", " Tuesday", " Friday", " Sunday", " Saturday"]
    tokens = [*days, " Carl", " Paul", " Charles", " Bryan", *PIECES]
    label = labeler.label(tokens)
    assert label.polysemantic
    assert [g.label for g in label.groups] == ["day of the week", "personal names"]
