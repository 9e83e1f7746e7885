"""Head words and meaning classes: concepts no single synset holds (annotate/relations.py)."""

from __future__ import annotations

import pytest

from vocablens.annotate import ConceptLabeler
from vocablens.annotate.relations import Relations
from vocablens.annotate.wordnet import Lexicon

NOISE = [" Organ", " shaken", " vent", "hum", " storm", " sample", "len", " fan", " US", " rock"]


@pytest.fixture(scope="module")
def labeler():
    return ConceptLabeler().fit()


def test_direct_relations_from_wordnet():
    rel = Relations(Lexicon())
    assert rel.base("older") in ("old", "older")
    assert rel.related("old", "elderly")  # elderly: "advanced in years; (euphemistic for 'old')"
    assert rel.related("speed", "fast")  # an attribute and its adjective
    assert rel.related("explain", "explanation")  # a derivation
    assert not rel.related("old", "banana")
    heads = rel.heads(["old", "elderly", None, "banana"])
    assert [(h.word, h.groups) for h in heads if h.word == "old"] == [("old", (0, 1))]


#: SmolLM2 layer 13, neuron 104, sign +1, cosine top-30 (tests/data/judged/): "speed".
SPEED = [" and", "O", " speed", "P", " search", "S", "H", "B", " Av", "speed", " slow", "T", " keep",
         " O", " we", "R", " B", " Fl", " break", " just", "N", "in", " spread", "L", " fast", " H",
         "1", "A", " re", " move"]  # fmt: skip


def test_head_word_and_its_related_words_are_a_concept(labeler):
    label = labeler.label(SPEED)  # no synset holds speed, slow, fast and move
    assert label.semantic and label.supersense == "related words"
    assert label.label == "speed"
    assert set(label.explained) == {" speed", "speed", " slow", " fast", " move"}


def test_head_words_need_variants_and_tokens(labeler):
    one_each = [" elderly", " banana", *NOISE, " old", " piano", " river", " cloud"]
    no_themes = ConceptLabeler(theme_similarity=None).fit()
    assert not no_themes.label(one_each).semantic  # the head has one variant: no head word
    pairs = ConceptLabeler(theme_pair_similarity=0.6).fit()
    assert pairs.label(one_each).label == "elderly, old"  # but two close words: a theme
    assert not labeler.label(one_each).semantic  # their cosine, 0.61, is below the default 0.7
    off = ConceptLabeler(head_tokens=None, theme_similarity=None).fit()
    assert not off.label(SPEED).semantic
    strict = ConceptLabeler(head_tokens=6, theme_similarity=None).fit()
    assert not strict.label(SPEED).semantic  # five tokens explained


def test_a_head_needs_related_words_close_to_it_in_meaning(labeler):
    # WordNet relates order to class and rate (senses of ranking), but not as a reader reads them
    tokens = [" class", " rate", "class", " order", "Order", *NOISE]
    loose = ConceptLabeler(head_similarity=None).fit()
    assert loose.label(tokens).supersense == "related words"
    assert labeler.label(tokens).supersense != "related words"
    assert labeler.label(SPEED).label == "speed"  # slow, fast and move are close to speed


def test_meaning_classes_refine_closed_classes(labeler):
    tokens = [" before", " after", " during", "Before", " until", " After", *NOISE]
    label = labeler.label(tokens)
    assert label.semantic and label.label == "time order"
    hedges = [" perhaps", "Perhaps", " maybe", " likely", " probably", " possibly", *NOISE]
    assert labeler.label(hedges).label == "possibility"
    freq = [" usually", "Usually", " normally", " typically", " often", *NOISE]
    assert labeler.label(freq).label == "frequency"
    compass = [" north", " northwest", "south", " east", "West", *NOISE]  # WordNet: regions first
    assert labeler.label(compass).label == "compass direction"


def test_function_words_beside_a_word_are_not_two_meanings(labeler):
    tokens = [" he", " He", "he", " she", " they", " start", " Start", *NOISE]
    label = labeler.label(tokens)
    assert label.label == "personal pronoun" and not label.polysemantic


def test_prepositions_are_grammar_not_meaning(labeler):
    tokens = [" from", " From", "from", " into", " across", " of", " by", *NOISE]
    label = labeler.label(tokens)
    assert not label.semantic and label.form == "function words"
    assert labeler.label([" before", " after", " during", " until", *NOISE]).label == "time order"


def test_one_word_beside_function_words_is_never_a_second_meaning(labeler):
    # the word's variants cover as much as the prepositions: still one phrase, not two meanings
    tokens = [" between", " start", " in", " Start", " after", " starting", " about", " starts",
              " on", " started", " towards", *NOISE]  # fmt: skip
    label = labeler.label(tokens)
    assert label.semantic and not label.polysemantic


def test_related_word_families_are_one_concept(labeler):
    # "race" and "racial" are two families that WordNet derives from each other
    tokens = [" race", " races", " racial", " Race", " Racial", "Race", " racially", "racial",
              *NOISE]  # fmt: skip
    label = labeler.label(tokens)
    assert label.semantic and not label.polysemantic
    assert labeler.relations_.related("race", "racial")
